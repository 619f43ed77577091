// Shared plumbing for the local provider plugins (see toolchain/README.md).
"use strict";

const path = require("path");
const { spawn } = require("child_process");
const { watchEngine } = require("../engineWatch");

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd(), __dirname] }));
const { main } = require(path.join(sdkDir, "provider"));
const rpc = require(path.join(sdkDir, "runtime", "rpc"));

const SECRET_SIG = rpc.specialSigKey;
const UNKNOWN = rpc.unknownValue;

/**
 * Strips secret and output wrappers; reports whether any value was secret or unknown.
 * @param {any} value
 * @param {{ secret: boolean, unknown?: boolean }} [seen]
 * @returns {any}
 */
function unwrap(value, seen = { secret: false, unknown: false }) {
    if (value === UNKNOWN) {
        seen.unknown = true;
        return value;
    }
    if (Array.isArray(value)) return value.map((v) => unwrap(v, seen));
    if (value && typeof value === "object") {
        const sig = value[SECRET_SIG];
        if (sig === rpc.specialSecretSig) {
            seen.secret = true;
            return unwrap(value.value, seen);
        }
        if (sig === rpc.specialOutputValueSig) {
            if (value.secret) seen.secret = true;
            if (!("value" in value)) {
                seen.unknown = true;
                return UNKNOWN;
            }
            return unwrap(value.value, seen);
        }
        const out = {};
        for (const [k, v] of Object.entries(value)) out[k] = unwrap(v, seen);
        return out;
    }
    return value;
}

function secret(value) {
    return { [SECRET_SIG]: rpc.specialSecretSig, value };
}

/** The resource type token inside a URN: urn:pulumi:stack::project::parent$type::name */
function typeOf(urn) {
    const qualified = urn.split("::")[2] || "";
    return qualified.split("$").pop();
}

function nameOf(urn) {
    return urn.split("::").slice(3).join("::");
}

/**
 * Runs a program without a shell; resolves with its output, rejects with both streams on failure.
 * @param {string} file
 * @param {string[]} args
 * @param {{ input?: string, env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number }} [options]
 * @returns {Promise<{ stdout: string, stderr: string }>}
 */
function exec(file, args, { input, env, cwd, timeoutMs = 600000 } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { env: env || process.env, cwd, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (d) => {
            stdout += d;
        });
        child.stderr.on("data", (d) => {
            stderr += d;
        });
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) return resolve({ stdout, stderr });
            const err = new Error(
                `${path.basename(file)} ${args.slice(0, 2).join(" ")} failed (${signal || "exit " + code}): ${(stderr || stdout).trim().slice(-4000)}`,
            );
            Object.assign(err, { stdout, stderr, code });
            reject(err);
        });
        if (input !== undefined) child.stdin.end(input);
        else child.stdin.end();
    });
}

let engineClient;
/** Logs a line to the engine at info severity, attached to `urn` (shown by `pulumi up`). */
function engineLog(urn, message) {
    const { parseArgs } = require(path.join(sdkDir, "provider", "internals"));
    const addr = parseArgs(process.argv.slice(2))?.engineAddress;
    if (!addr) return Promise.resolve();
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
    const enginerpc = require(path.join(sdkDir, "proto", "engine_grpc_pb.js"));
    const engineproto = require(path.join(sdkDir, "proto", "engine_pb.js"));
    engineClient ??= new enginerpc.EngineClient(addr, grpc.credentials.createInsecure());
    const req = new engineproto.LogRequest();
    req.setSeverity(engineproto.LogSeverity.INFO);
    req.setMessage(message);
    req.setUrn(urn || "");
    return new Promise((resolve) => engineClient.log(req, () => resolve()));
}

/** Serves a provider whose resources are a map from type token to handlers. */
function serve(name, version, resources) {
    const handler = (urn) => {
        const h = resources[typeOf(urn)];
        if (!h) throw new Error(`${name}: resource type ${typeOf(urn)} is not supported by this local provider`);
        return h;
    };
    const provider = {
        version,
        check: async (urn, olds, news) => {
            const h = handler(urn);
            return h.check ? h.check(news, olds, urn) : { inputs: news };
        },
        diff: async (id, urn, olds, news) => handler(urn).diff(olds, news, id, urn),
        create: async (urn, inputs) => handler(urn).create(inputs, urn),
        read: async (id, urn, props) => ({ id, props }),
        update: async (id, urn, olds, news) => {
            const h = handler(urn);
            if (!h.update) throw new Error(`${typeOf(urn)} cannot be updated in place`);
            return h.update(id, olds, news, urn);
        },
        delete: async (id, urn, props) => {
            const h = handler(urn);
            if (h.delete) await h.delete(id, props, urn);
        },
    };
    watchEngine();
    return main(provider, process.argv.slice(2));
}

/** Keys whose values differ between two input bags (deep, by JSON). */
function changedKeys(olds, news, keys) {
    const all = keys || [...new Set([...Object.keys(olds || {}), ...Object.keys(news || {})])];
    return all.filter((k) => JSON.stringify(olds?.[k]) !== JSON.stringify(news?.[k]));
}

module.exports = { engineLog, unwrap, secret, typeOf, nameOf, exec, serve, changedKeys, UNKNOWN };
