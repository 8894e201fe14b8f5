// Generated from src/cli/_runner_client.ts by scripts/build_js.ts (sha256 2c9c41d502b843455c4857843614523049694955b786dae99c1dbe380c7f928b): do not edit; `deno task build:js` writes it.
var writeAll = (function (stream, text) {
    const bytes = encoder.encode(text + "\n");
    for (let done = 0; done < bytes.length;)
        done += stream.writeSync(bytes.subarray(done));
});
var readsStdin = (function (args) {
    return args.some(((arg, i) => arg === "--context=@-" || ((arg === "-c" || arg === "--context") && args[i + 1] === "@-")));
});
export var viaRunner = (async function (args) {
    if (args[0] !== "run" || readsStdin(args))
        return "off";
    let env;
    try {
        env = Deno.env.toObject();
    }
    catch {
        return "off";
    }
    if (runnerSetting(env) === "off")
        return "off";
    const runner = await connectRunner(env);
    if (!runner)
        return "absent";
    if ("unlike" in runner) {
        if (env.CAPIBARA_TIMINGS === "1")
            writeAll(Deno.stderr, `runner not used: ${runner.unlike}`);
        return "declined";
    }
    const { conn } = runner;
    const send = ((message) => conn.write(encoder.encode(JSON.stringify(message) + "\n")).catch((() => { })));
    const declined = ((why) => {
        if (env.CAPIBARA_TIMINGS === "1")
            writeAll(Deno.stderr, `runner declined: ${why}`);
        return "declined";
    });
    const restoreName = wearMark(runner.mark);
    let accepted = false;
    let signals = 0;
    const onSignal = ((name) => (() => {
        if (!accepted || ++signals > 1) {
            restoreName?.();
            Deno.exit(name === "SIGINT" ? 130 : 143);
        }
        void send({ signal: name });
    }));
    const handlers = [
        ["SIGINT", onSignal("SIGINT")],
        ["SIGTERM", onSignal("SIGTERM")],
    ];
    const answering = restoreName
        ? runner.ask({
            kind: "run",
            args: [...args],
            cwd: Deno.cwd(),
            env,
            errIsTerminal: Deno.stderr.isTerminal(),
            pid: Deno.pid,
            umask: Deno.umask(),
        })
        : undefined;
    for (const [name, handler] of handlers)
        Deno.addSignalListener(name, handler);
    try {
        if (!answering)
            return "declined";
        const answer = await answering;
        if ("declined" in answer)
            return declined(answer.declined);
        if ("gone" in answer) {
            if (env.CAPIBARA_TIMINGS === "1") {
                writeAll(Deno.stderr, "runner not used: it closed the connection before it answered");
            }
            return "absent";
        }
        if (!("run" in answer.reply))
            return declined("the runner's answer is not one");
        accepted = true;
        restoreName?.();
        for await (const line of runner.replies) {
            const reply = JSON.parse(line);
            if ("o" in reply)
                writeAll(Deno.stdout, reply.o);
            else if ("e" in reply)
                writeAll(Deno.stderr, reply.e);
            else if ("x" in reply)
                return reply.x;
        }
    }
    catch {
    }
    finally {
        restoreName?.();
        for (const [name, handler] of handlers)
            Deno.removeSignalListener(name, handler);
        try {
            conn.close();
        }
        catch {
        }
    }
    if (!accepted)
        return "absent";
    const message = "The resident runner stopped during the run: the script may not have finished";
    const hint = "Run the command again; capibara runner stop ends the runner, " +
        "CAPIBARA_RUNNER=0 runs without it";
    const code = EXIT_CODES.ExecError;
    const options = args.slice(0, args.includes("--") ? args.indexOf("--") : args.length);
    if (options.includes("--json")) {
        writeAll(Deno.stdout, JSON.stringify({ error: { type: "ExecError", message, hint, exit_code: code } }, null, 2));
    }
    else
        writeAll(Deno.stderr, `error[ExecError]: ${message}\nhint: ${hint}`);
    return code;
});
import { EXIT_CODES } from "../errors.js";
import { connectRunner, runnerSetting, wearMark } from "./_runner_socket.js";
const encoder = new TextEncoder();
;
;
;
