#!/usr/bin/env node
// A Node.js language host for the Pulumi engine (`pulumi-language-nodejs`).
//
// Why it exists: the official host is a Go module with no version tags, which the
// Go module proxy cannot serve, so on a machine that reaches only package registries
// it cannot be built. This host speaks the same LanguageRuntime gRPC protocol and
// runs programs and policy packs with the real @pulumi/pulumi entry points
// (`cmd/run`, `cmd/run-policy-pack`) from the program's own node_modules.
// Where the official host is installed, setup uses that one instead.
"use strict";

const path = require("path");
const { spawn } = require("child_process");
const { watchEngine } = require("./engineWatch");

// Resolve gRPC and the protocol stubs from @pulumi/pulumi, the same copy programs use.
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd(), __dirname] }));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
const langrpc = require(path.join(sdkDir, "proto", "language_grpc_pb.js"));
const langproto = require(path.join(sdkDir, "proto", "language_pb.js"));
const plugproto = require(path.join(sdkDir, "proto", "plugin_pb.js"));
const sdkVersion = require(path.join(sdkDir, "package.json")).version;

const EXIT_ALREADY_REPORTED = 32; // @pulumi/pulumi exits 32 after printing an actionable error.

const engineAddress =
    process.argv
        .slice(2)
        .filter((a) => !a.startsWith("-"))
        .pop() || "";

function resolveEntry(dir, entry) {
    return require.resolve(`@pulumi/pulumi/cmd/${entry}`, { paths: [dir] });
}

function programDirOf(req) {
    const info = req.getInfo && req.getInfo();
    return (info && info.getProgramDirectory()) || req.getPwd() || process.cwd();
}

function runtimeOptions(req) {
    const info = req.getInfo && req.getInfo();
    const options = info && info.getOptions();
    return options ? options.toJavaScript() : {};
}

function configEnv(req) {
    const config = {};
    req.getConfigMap().forEach((value, key) => {
        config[key] = value;
    });
    return {
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    };
}

function run(call, callback) {
    const req = call.request;
    const dir = programDirOf(req);
    const opts = runtimeOptions(req);
    let runScript;
    try {
        runScript = resolveEntry(dir, "run");
    } catch (err) {
        const resp = new langproto.RunResponse();
        resp.setError(`cannot find @pulumi/pulumi in ${dir}: run 'npm install' there (${err.message})`);
        return callback(null, resp);
    }
    const args = [
        runScript,
        "--monitor",
        req.getMonitorAddress(),
        "--engine",
        engineAddress,
        "--project",
        req.getProject(),
        "--stack",
        req.getStack(),
        "--pwd",
        req.getPwd() || dir,
        "--parallel",
        String(req.getParallel() || 1),
    ];
    if (req.getOrganization()) args.push("--organization", req.getOrganization());
    if (req.getDryrun()) args.push("--dry-run");
    const info = req.getInfo();
    if (info && info.getRootDirectory()) args.push("--root-directory", info.getRootDirectory());
    args.push(req.getProgram() || (info && info.getEntryPoint()) || ".", ...req.getArgsList());

    /** @type {NodeJS.ProcessEnv} */
    const env = { ...process.env, ...configEnv(req) };
    env.PULUMI_NODEJS_TYPESCRIPT = opts.typescript === false ? "false" : "true";
    if (opts.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = String(opts.tsconfig);
    const nodeArgs = opts.nodeargs ? String(opts.nodeargs).split(/\s+/).filter(Boolean) : [];

    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: dir, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (err) => {
        const resp = new langproto.RunResponse();
        resp.setError(`could not start node: ${err.message}`);
        callback(null, resp);
    });
    child.on("exit", (code, signal) => {
        const resp = new langproto.RunResponse();
        if (code === EXIT_ALREADY_REPORTED) {
            resp.setBail(true);
        } else if (code !== 0) {
            resp.setError(signal ? `program was killed by ${signal}` : `program exited with code ${code}`);
        }
        callback(null, resp);
    });
}

// Runs a policy pack (kind "analyzer") or a plugin program, streaming its output back.
function runPlugin(call) {
    const req = call.request;
    // The plugin's folder comes in ProgramInfo (newer engines) or as `program` (older ones).
    const info = req.getInfo();
    const dir = (info && info.getProgramDirectory()) || req.getProgram() || req.getPwd() || process.cwd();
    const entry = req.getKind() === "resource" ? "run-plugin" : "run-policy-pack";
    let script;
    try {
        script = resolveEntry(dir, entry);
    } catch {
        call.emit("error", {
            code: grpc.status.FAILED_PRECONDITION,
            details: `Cannot find module '@pulumi/pulumi/cmd/${entry}' from ${dir}: run 'npm install' in the policy pack`,
        });
        return;
    }
    const env = { ...process.env };
    for (const kv of req.getEnvList()) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const child = spawn(process.execPath, [script, ...req.getArgsList(), dir], { cwd: dir, env });
    const send = (setter) => (chunk) => {
        const msg = new langproto.RunPluginResponse();
        msg[setter](chunk);
        call.write(msg);
    };
    child.stdout.on("data", send("setStdout"));
    child.stderr.on("data", send("setStderr"));
    child.on("exit", (code) => {
        const msg = new langproto.RunPluginResponse();
        msg.setExitcode(code === null ? 1 : code);
        call.write(msg);
        call.end();
    });
    call.on("cancelled", () => child.kill("SIGTERM"));
}

const unimplemented = (name) => (call, callback) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented by this language host` });

const service = {
    handshake: (call, callback) => callback(null, new langproto.LanguageHandshakeResponse()),
    // Plugins are resolved by the engine when resources register (ambient plugins on PATH).
    getRequiredPlugins: (call, callback) => callback(null, new langproto.GetRequiredPluginsResponse()),
    getRequiredPackages: (call, callback) => callback(null, new langproto.GetRequiredPackagesResponse()),
    run,
    getPluginInfo: (call, callback) => callback(null, new plugproto.PluginInfo().setVersion(sdkVersion)),
    installDependencies: (call) => call.end(), // setup runs `npm ci`; nothing to do here
    runtimeOptionsPrompts: (call, callback) => callback(null, new langproto.RuntimeOptionsResponse()),
    template: unimplemented("template"),
    about: (call, callback) => {
        const resp = new langproto.AboutResponse();
        resp.setExecutable(process.execPath);
        resp.setVersion(process.version);
        callback(null, resp);
    },
    getProgramDependencies: (call, callback) => callback(null, new langproto.GetProgramDependenciesResponse()),
    runPlugin,
    generateProgram: unimplemented("generateProgram"),
    generateProject: unimplemented("generateProject"),
    generatePackage: unimplemented("generatePackage"),
    pack: unimplemented("pack"),
    link: unimplemented("link"),
    cancel: (call, callback) =>
        callback(null, new (require(require.resolve("google-protobuf/google/protobuf/empty_pb.js", { paths: [sdkDir] })).Empty)()),
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
server.addService(langrpc.LanguageRuntimeService, service);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        console.error(`language host: cannot listen: ${err.message}`);
        process.exit(1);
    }
    process.stdout.write(`${port}\n`);
    watchEngine();
});
