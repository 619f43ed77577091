#!/usr/bin/env node
// Local `command` provider: command:local:Command with the semantics of
// @pulumi/command 1.x that this project relies on:
// - create runs on create; update (or create again when update is unset) runs
//   when any other input changes; a change of `triggers` replaces;
// - delete runs the `delete` stored in state, with the last outputs in the
//   environment as PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR;
// - a non-zero exit fails the step with the official message:
//   `exit status N: running "<command>":` and the interleaved stdout and stderr;
// - output is streamed per `logging` (default both streams, as the official provider,
//   secret inputs or not); if any input is secret, stdout and stderr are returned as
//   secrets.
"use strict";

const { spawn } = require("child_process");
const crypto = require("crypto");
const { serve, unwrap, secret, changedKeys, engineLog } = require("./lib");

const SUPPORTED = new Set([
    "create",
    "update",
    "delete",
    "dir",
    "environment",
    "interpreter",
    "stdin",
    "triggers",
    "logging",
    "addPreviousOutputInEnv",
]);
const LOGGING = ["stdout", "stderr", "stdoutAndStderr", "none"];
/** Go's names of the signals a command may die of (`signal: killed`). */
const SIGNAL_NAMES = { SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt", SIGABRT: "aborted", SIGSEGV: "segmentation fault" };

/**
 * Forwards the lines of a stream to the engine log, in order. `flush()` logs a last line
 * without a newline and resolves once the engine has every line: as the official provider,
 * which waits for its log reader before it returns, no line is lost to a resource that
 * completes while its last lines are still on the wire.
 */
function lineLogger(urn) {
    let partial = "";
    let sent = Promise.resolve();
    const send = (line) => {
        if (line.trim()) sent = sent.then(() => engineLog(urn, line));
    };
    const write = (chunk) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop();
        lines.forEach(send);
    };
    write.flush = () => {
        send(partial);
        partial = "";
        return sent;
    };
    return write;
}

function runScript(script, inputs, previous, isSecret, urn) {
    const env = { ...process.env, ...(inputs.environment || {}) };
    if (inputs.addPreviousOutputInEnv !== false && previous) {
        env.PULUMI_COMMAND_STDOUT = previous.stdout || "";
        env.PULUMI_COMMAND_STDERR = previous.stderr || "";
    }
    const [shell, ...shellArgs] = inputs.interpreter && inputs.interpreter.length ? inputs.interpreter : ["/bin/sh", "-c"];
    const logging = inputs.logging || "stdoutAndStderr";
    return new Promise((resolve, reject) => {
        const child = spawn(shell, [...shellArgs, script], { cwd: inputs.dir || process.cwd(), env });
        let stdout = "";
        let stderr = "";
        let both = ""; // in arrival order, for the error message
        const logOut = lineLogger(urn);
        const logErr = lineLogger(urn);
        child.stdout.on("data", (d) => {
            stdout += d;
            both += d;
            if (logging === "stdout" || logging === "stdoutAndStderr") logOut(String(d));
        });
        child.stderr.on("data", (d) => {
            stderr += d;
            both += d;
            if (logging === "stderr" || logging === "stdoutAndStderr") logErr(String(d));
        });
        child.on("error", reject);
        child.on("close", (code, signal) => {
            const finish = () => {
                const result = { stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") };
                if (code === 0) return resolve(result);
                // The official provider's message (Go's exec error, then the command quoted and
                // the output): scripts must not print secrets.
                const status = signal ? `signal: ${SIGNAL_NAMES[signal] || signal}` : `exit status ${code}`;
                reject(new Error(`${status}: running ${JSON.stringify(script)}:\n${both}`));
            };
            // A log that cannot be flushed fails the step instead of leaving it unsettled.
            Promise.all([logOut.flush(), logErr.flush()]).then(finish, reject);
        });
        child.stdin.end(inputs.stdin || "");
    });
}

function outputs(inputs, result, isSecret) {
    const wrap = (v) => (isSecret ? secret(v) : v);
    return { ...inputs, stdout: wrap(result.stdout), stderr: wrap(result.stderr) };
}

const command = {
    check: (news) => {
        const failures = [];
        for (const key of Object.keys(news)) {
            if (!SUPPORTED.has(key)) failures.push({ property: key, reason: `${key} is not supported by the local command provider` });
        }
        if (news.logging && !LOGGING.includes(news.logging))
            failures.push({ property: "logging", reason: `logging must be one of ${LOGGING.join(", ")}` });
        return { inputs: news, failures };
    },
    diff: (olds, news) => {
        const keys = changedKeys(olds, news, [...SUPPORTED]);
        return { changes: keys.length > 0, replaces: keys.includes("triggers") ? ["triggers"] : [] };
    },
    create: async (raw, urn) => {
        const seen = { secret: false };
        const inputs = unwrap(raw, seen);
        const result = inputs.create ? await runScript(inputs.create, inputs, undefined, seen.secret, urn) : { stdout: "", stderr: "" };
        return { id: crypto.randomUUID(), outs: outputs(raw, result, seen.secret) };
    },
    update: async (id, rawOlds, raw, urn) => {
        const seen = { secret: false };
        const inputs = unwrap(raw, seen);
        const olds = unwrap(rawOlds, seen);
        const script = inputs.update || inputs.create;
        const result = script ? await runScript(script, inputs, olds, seen.secret, urn) : { stdout: "", stderr: "" };
        return { outs: outputs(raw, result, seen.secret) };
    },
    delete: async (id, rawProps, urn) => {
        const seen = { secret: false };
        const props = unwrap(rawProps, seen);
        if (props.delete) await runScript(props.delete, props, props, seen.secret, urn);
    },
};

serve("command", "1.2.1", { "command:local:Command": command });
