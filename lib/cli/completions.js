// Generated from src/cli/completions.ts by scripts/build_js.ts (sha256 91d499caf34cc2a5bcaab455bf2b4946fcdf083952869275fc68d8152d37e14d): do not edit; `deno task build:js` writes it.
var wordsOf = (function (commands) {
    return commands.map(((c) => ({
        name: c.name(),
        description: c.description().split("\n")[0].replace(/[:'"`$\\]/g, " ").slice(0, 60),
        options: [
            ...(c.commands ?? []).map(((sub) => sub.name())),
            ...[c, ...(c.commands ?? [])].flatMap(((command) => command.options.flatMap(((o) => [o.long, o.short].filter(((f) => !!f)))))),
        ].filter(((word, i, all) => all.indexOf(word) === i)),
    })));
});
export var completionScript = (function (shell, subcommands) {
    const commands = wordsOf(subcommands);
    const names = commands.map(((c) => c.name)).join(" ");
    switch (shell) {
        case "bash":
            return [
                '# capibara completion for bash: eval "$(capibara completions bash)"',
                "_capibara() {",
                '  local cur="${COMP_WORDS[COMP_CWORD]}"',
                '  if [ "$COMP_CWORD" -eq 1 ]; then',
                `    COMPREPLY=($(compgen -W "${names} --help --version --json" -- "$cur"))`,
                "    return",
                "  fi",
                '  case "${COMP_WORDS[1]}" in',
                ...commands.map(((c) => `    ${c.name}) COMPREPLY=($(compgen -W "${c.options.join(" ")} --help" -- "$cur")) ;;`)),
                "  esac",
                "}",
                "complete -o default -F _capibara capibara",
                "",
            ].join("\n");
        case "zsh":
            return [
                "#compdef capibara",
                '# capibara completion for zsh: capibara completions zsh > "${fpath[1]}/_capibara"',
                "_capibara() {",
                "  if (( CURRENT == 2 )); then",
                "    local -a commands",
                `    commands=(${commands.map(((c) => `'${c.name}:${c.description}'`)).join(" ")})`,
                "    _describe command commands",
                "    return",
                "  fi",
                "  case $words[2] in",
                ...commands.map(((c) => `    ${c.name}) _arguments '*:file:_files' ${c.options.map(((o) => `'${o}'`)).join(" ")} ;;`)),
                "  esac",
                "}",
                "compdef _capibara capibara",
                "",
            ].join("\n");
        case "fish":
            return [
                "# capibara completion for fish: capibara completions fish | source",
                ...commands.map(((c) => `complete -c capibara -n __fish_use_subcommand -a ${c.name} -d '${c.description}'`)),
                ...commands.flatMap(((c) => c.options.filter(((o) => o.startsWith("--"))).map(((o) => `complete -c capibara -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`)))),
                "",
            ].join("\n");
    }
});
export var completionsCommand = (function (subcommands) {
    return new Command("completions")
        .description("Print a shell completion script (bash, zsh or fish)")
        .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
        .addHelpText("after", `
Examples:
  eval "$(capibara completions bash)"                  # in ~/.bashrc
  capibara completions zsh > "\${fpath[1]}/_capibara"   # then restart zsh
  capibara completions fish > ~/.config/fish/completions/capibara.fish`)
        .action(((shell) => {
        console.log(completionScript(shell, subcommands()));
    }));
});
import { Argument, Command } from "npm:@commander-js/extra-typings@^15.1.0";
export const SHELLS = ["bash", "zsh", "fish"];
;
;
;
