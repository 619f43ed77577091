// What the local docker provider's resources share: the `docker` CLI (so DOCKER_HOST,
// ssh:// included, is honoured exactly as the CLI does), rejection of inputs it does not
// implement, health-check flags and the private environment file.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { exec } = require("./lib");

const docker = (args, opts) => exec("docker", args, opts);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function unsupported(news, supported, prefix = "") {
    return Object.keys(news)
        .filter((k) => !supported.has(k))
        .map((k) => ({ property: prefix + k, reason: `${prefix}${k} is not supported by the local docker provider` }));
}

/** Shell-quotes an exec-form healthcheck so `--health-cmd` (always CMD-SHELL) runs the same argv. */
function shellQuote(args) {
    return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

function healthArgs(hc) {
    if (!hc) return [];
    const [kind, ...rest] = hc.tests || [];
    if (kind === "NONE") return ["--no-healthcheck"];
    const cmd = kind === "CMD-SHELL" ? rest.join(" ") : kind === "CMD" ? shellQuote(rest) : shellQuote(hc.tests);
    const args = ["--health-cmd", cmd];
    if (hc.interval) args.push("--health-interval", hc.interval);
    if (hc.timeout) args.push("--health-timeout", hc.timeout);
    if (hc.startPeriod) args.push("--health-start-period", hc.startPeriod);
    if (hc.retries !== undefined) args.push("--health-retries", String(hc.retries));
    return args;
}

/** Runs `fn` with the variables in a file only this user can read, removed afterwards. */
async function withEnvFile(envs, fn) {
    if (envs.length === 0) return fn(undefined);
    const bad = envs.find((e) => /[\r\n]/.test(e) || !/^[^=]+=/.test(e));
    if (bad) throw new Error(`envs: "${bad.split("=")[0]}" must be NAME=value on one line`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-env-"));
    const file = path.join(dir, "env");
    try {
        fs.writeFileSync(file, envs.join("\n") + "\n", { mode: 0o600 });
        return await fn(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

module.exports = { docker, sleep, unsupported, shellQuote, healthArgs, withEnvFile };
