// Generated from src/contract/checks/bash.ts by scripts/build_js.ts (sha256 e1becbeddeac29b61c801729bb8633b8ba607df1aea50ef184b065a0a757c948): do not edit; `deno task build:js` writes it.
var scanBash = (function (src) {
    const code = src.split("");
    const bare = src.split("");
    const stack = ["code"];
    const parens = [0];
    const heredocs = [];
    const inert = ((k) => {
        if (/[\s;&|()<>`]/.test(src[k] ?? ""))
            bare[k] = "_";
    });
    let i = 0;
    while (i < src.length) {
        const frame = stack[stack.length - 1] ?? "code";
        const c = src[i] ?? "";
        if (frame === "dq") {
            if (c === "\\") {
                inert(i);
                inert(i + 1);
                i += 2;
            }
            else if (c === '"') {
                stack.pop();
                i++;
            }
            else if (c === "$" && src[i + 1] === "(") {
                stack.push("subst");
                parens.push(1);
                i += 2;
            }
            else if (c === "`") {
                stack.push("backtick");
                i++;
            }
            else {
                inert(i);
                i++;
            }
            continue;
        }
        if (c === "\\") {
            if (src[i + 1] === "\n")
                bare[i] = " ";
            else
                inert(i + 1);
            i += 2;
            continue;
        }
        if (c === "#" && (i === 0 || /[\s;&|()]/.test(src[i - 1] ?? ""))) {
            const end = src.indexOf("\n", i);
            const stop = end < 0 ? src.length : end;
            blank(code, i, stop);
            blank(bare, i, stop);
            i = stop;
            continue;
        }
        if (c === "'" || (c === "$" && src[i + 1] === "'")) {
            const ansi = c === "$";
            let j = i + (ansi ? 2 : 1);
            while (j < src.length && src[j] !== "'")
                j += ansi && src[j] === "\\" ? 2 : 1;
            for (let k = i; k < j; k++)
                inert(k);
            i = j + 1;
            continue;
        }
        if (c === '"') {
            stack.push("dq");
            i++;
            continue;
        }
        if (c === "$" && src[i + 1] === "(") {
            stack.push("subst");
            parens.push(1);
            i += 2;
            continue;
        }
        if (c === "`") {
            if (frame === "backtick")
                stack.pop();
            else
                stack.push("backtick");
            i++;
            continue;
        }
        if (frame === "subst" && (c === "(" || c === ")")) {
            const top = parens.length - 1;
            parens[top] = (parens[top] ?? 0) + (c === "(" ? 1 : -1);
            if (parens[top] === 0) {
                parens.pop();
                stack.pop();
            }
            i++;
            continue;
        }
        const heredoc = /^<<(-?)[ \t]*(["']?)([A-Za-z_][\w-]*)\2/.exec(src.slice(i, i + 80));
        if (heredoc && src[i + 2] !== "<") {
            heredocs.push({ delimiter: heredoc[3] ?? "", strip: heredoc[1] === "-" });
            i += heredoc[0].length;
            continue;
        }
        if (c === "\n" && heredocs.length > 0) {
            let j = i + 1;
            for (const { delimiter, strip } of heredocs.splice(0)) {
                while (j < src.length) {
                    const end = src.indexOf("\n", j);
                    const stop = end < 0 ? src.length : end;
                    const text = src.slice(j, stop);
                    for (let k = j; k < stop; k++)
                        inert(k);
                    if (end >= 0)
                        bare[end] = "_";
                    j = stop + 1;
                    if ((strip ? text.replace(/^\t+/, "") : text) === delimiter)
                        break;
                }
            }
            i = j;
            continue;
        }
        i++;
    }
    return { code: code.join(""), bare: bare.join("") };
});
var unquote = (function (word) {
    return word.replace(/\\(.)/g, "$1").replace(/["']/g, "");
});
var checkBashCommand = (function (ctx, command, args, line) {
    if ((command === "curl" || command === "wget") && !ctx.network) {
        ctx.add("network", `network access (${command}) needs the hosts listed in needs.network`, line);
    }
    else if (BASH_REMOTE.has(command)) {
        ctx.add("remote-access", `remote shell or raw network tool (${command}) is not allowed`, line);
    }
    else if (BASH_ESCALATE.has(command)) {
        ctx.add("privilege-escalation", `privilege escalation (${command}) is not allowed`, line);
    }
    else if (command === "eval") {
        ctx.add("dynamic-code", "eval is not allowed: write the command out", line);
    }
    else if (command === "crontab") {
        ctx.add("persistence", "crontab is not allowed: a script must not schedule itself", line);
    }
    else if (command === "git" && args.find(((a) => !a.startsWith("-"))) === "config") {
        ctx.add("git-config", "git config is not allowed", line);
    }
    else if (command === "rm") {
        let options = true;
        for (const arg of args) {
            if (options && arg === "--") {
                options = false;
                continue;
            }
            if (options && arg.startsWith("-"))
                continue;
            const path = riskyPath(arg, [arg]);
            if (path !== null)
                ctx.add("delete-outside", deleteMessage("rm", path), line);
        }
    }
});
export var checkBash = (function (ctx) {
    const { code, bare } = scanBash(ctx.script);
    const lineAt = lineIndex(ctx.script);
    for (const segment of bare.matchAll(/[^;&|()\n`]+/g)) {
        const words = [...(segment[0] ?? "").matchAll(/\S+/g)];
        let index = 0;
        const skip = ((test) => {
            while (index < words.length && test(unquote(words[index]?.[0] ?? "")))
                index++;
        });
        skip(((w) => BASH_KEYWORDS.has(w) || /^\w+=/.test(w) || w === "$"));
        for (;;) {
            const word = words[index];
            if (!word)
                break;
            const command = unquote(word[0]).split("/").at(-1) ?? "";
            const line = lineAt((segment.index ?? 0) + (word.index ?? 0));
            if (!BASH_WRAPPERS.has(command)) {
                checkBashCommand(ctx, command, words.slice(index + 1).map(((w) => unquote(w[0]))), line);
                break;
            }
            if (BASH_ESCALATE.has(command))
                checkBashCommand(ctx, command, [], line);
            if (command === "command" && /^-[vV]$/.test(unquote(words[index + 1]?.[0] ?? "")))
                break;
            index++;
            skip(((w) => w.startsWith("-") || /^\w+=/.test(w) || (command === "timeout" && /^\d/.test(w))));
        }
    }
    const rules = [
        [
            /\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b/g,
            "remote-code",
            (() => "running downloaded code (curl … | sh) is not allowed"),
        ],
        [
            /\/dev\/(tcp|udp)\//g,
            "network",
            ((m) => `network access (/dev/${m[1]}) needs the hosts listed in needs.network`),
            true,
        ],
        [/\.git\/hooks\b/g, "git-hooks", (() => "git hooks (.git/hooks) must not be touched")],
        [
            /(?:^|[\s"'=/:])\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv)(?![\w.-])/gm,
            "shell-startup",
            ((m) => `shell startup file (~/.${m[1]}) must not be touched`),
        ],
    ];
    for (const [pattern, rule, message, needsNoNetwork] of rules) {
        if (needsNoNetwork && ctx.network)
            continue;
        for (const m of code.matchAll(pattern))
            ctx.add(rule, message(m), lineAt(m.index ?? 0));
    }
    for (const at of pipedDownloads(code)) {
        ctx.add("remote-code", "running downloaded code (curl … | sh) is not allowed", lineAt(at));
    }
    const codeLines = code.split("\n");
    codeLines.forEach(((text, index) => checkCredentialPath(ctx, text, index + 1)));
});
export var pipedDownloads = (function (code) {
    const found = [];
    const fetcher = /\b(?:curl|wget)\b/g;
    const shell = /\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b/y;
    for (let m = fetcher.exec(code); m !== null; m = fetcher.exec(code)) {
        const start = m.index + m[0].length;
        let end = start;
        while (end < code.length && code[end] !== "\n" && code[end] !== ";")
            end++;
        for (let pipe = code.indexOf("|", start); pipe !== -1 && pipe < end;) {
            shell.lastIndex = pipe;
            if (shell.test(code)) {
                found.push(m.index);
                break;
            }
            pipe = code.indexOf("|", pipe + 1);
        }
        fetcher.lastIndex = end;
    }
    return found;
});
import { blank, checkCredentialPath, deleteMessage, lineIndex, riskyPath, } from "./_common.js";
;
const BASH_KEYWORDS = new Set([
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "do",
    "done",
    "while",
    "until",
    "for",
    "case",
    "esac",
    "function",
    "select",
    "time",
    "!",
    "{",
    "}",
    "[[",
    "]]",
    "coproc",
]);
const BASH_WRAPPERS = new Set([
    "exec",
    "command",
    "builtin",
    "nohup",
    "env",
    "nice",
    "timeout",
    "stdbuf",
    "xargs",
    "sudo",
    "doas",
]);
const BASH_REMOTE = new Set([
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "ssh",
    "scp",
    "sftp",
]);
const BASH_ESCALATE = new Set(["sudo", "su", "doas", "pkexec"]);
;
;
;
;
