// Drives the real Pulumi CLI against the local file backend for integration tests.
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { endLeftoverPlugins, updateCommand } from "../../ops/leftoverPlugins";

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a program to completion (bounded by timeoutMs) and captures its output. */
export function run(
    file: string,
    args: string[],
    opts: {
        cwd?: string;
        env?: NodeJS.ProcessEnv;
        timeoutMs?: number;
        input?: string;
        /** Each chunk of either stream as it comes (a test that acts when a line appears). */
        onOutput?: (chunk: string) => void;
    } = {},
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
        child.stdout.on("data", (d) => {
            stdout += d;
            opts.onOutput?.(String(d));
        });
        child.stderr.on("data", (d) => {
            stderr += d;
            opts.onOutput?.(String(d));
        });
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`cannot run ${file}: ${err.message} (did scripts/setup run, and is its env.sh loaded?)`));
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout, stderr });
        });
        child.stdin.on("error", () => undefined); // a program that exits without reading its input
        child.stdin.end(opts.input ?? "");
    });
}

export async function mustRun(file: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
    const r = await run(file, args, opts);
    if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
}

export function uniqueName(prefix: string): string {
    return `${prefix}${crypto.randomBytes(3).toString("hex")}`;
}

/**
 * A port that is free now and outside the kernel's ephemeral range, so that no
 * outgoing connection (the load client's, the engine's) can take it before the
 * proxy binds it. Port 0 would hand out an ephemeral port: CI once saw the proxy
 * fail with "address already in use" on one.
 */
export async function freePort(): Promise<number> {
    const [low] = ephemeralRange();
    const from = 20000;
    const to = Math.min(low, 32768) - 1;
    for (let attempt = 0; attempt < 50; attempt++) {
        const port = from + crypto.randomInt(to - from);
        if (await canBind(port)) return port;
    }
    throw new Error(`no free port between ${from} and ${to} after 50 tries`);
}

function ephemeralRange(): [number, number] {
    try {
        const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
        if (low > 20100 && high >= low) return [low, high];
    } catch {
        // not Linux: assume the usual default
    }
    return [32768, 60999];
}

function canBind(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
}

/** A throwaway stack of the project in `dir`, in the local backend. */
export class TestStack {
    constructor(
        readonly dir: string,
        readonly name: string,
        /** Extra environment of every pulumi command (a swarm stack's DOCKER_HOST). */
        readonly env: NodeJS.ProcessEnv = {},
    ) {}

    private pulumi(args: string[], timeoutMs?: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
        // Stack flags go before a "--", after which values may start with a dash.
        const sep = args.indexOf("--");
        const [head, tail] = sep < 0 ? [args, []] : [args.slice(0, sep), args.slice(sep)];
        return run("pulumi", [...head, "--stack", this.name, "--non-interactive", ...tail], {
            cwd: this.dir,
            timeoutMs,
            env: { ...this.env, ...env },
        });
    }

    async init(config: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
        await mustRun("pulumi", ["stack", "init", this.name, "--non-interactive"], { cwd: this.dir });
        for (const [k, v] of Object.entries(config)) await this.setConfig(k, v);
        for (const [k, v] of Object.entries(secrets)) await this.setConfig(k, v, true);
    }

    /** A secret's value travels on pulumi's stdin, never on its command line. */
    async setConfig(key: string, value: string, secret = false): Promise<void> {
        const r = secret
            ? await run("pulumi", ["config", "set", "--path", key, "--secret", "--stack", this.name, "--non-interactive"], {
                  cwd: this.dir,
                  env: this.env,
                  input: value,
              })
            : await this.pulumi(["config", "set", "--path", key, "--", value]);
        if (r.code !== 0) throw new Error(`config set ${key} failed: ${r.stderr}`);
    }

    async rmConfig(key: string): Promise<void> {
        const r = await this.pulumi(["config", "rm", "--path", key]);
        if (r.code !== 0) throw new Error(`config rm ${key} failed: ${r.stderr}`);
    }

    /** Starts `pulumi up` in its own process group, so a test can kill it like a lost SSH session would. */
    upDetached(): ChildProcess {
        const cmd = updateCommand(this.dir, this.name, ["up", "--yes", "--skip-preview", "--stack", this.name, "--non-interactive"], {
            ...process.env,
            ...this.env,
        });
        return spawn(cmd.file, cmd.args, { cwd: this.dir, env: cmd.env, detached: true, stdio: "ignore" });
    }

    /** `pulumi up`, its process tree marked as the release helper marks it (ops/leftoverPlugins.ts). */
    up(timeoutMs = 900_000, env?: NodeJS.ProcessEnv, extra: string[] = [], onOutput?: (chunk: string) => void): Promise<RunResult> {
        const cmd = updateCommand(
            this.dir,
            this.name,
            ["up", "--yes", "--skip-preview", ...extra, "--stack", this.name, "--non-interactive"],
            {
                ...this.env,
                ...env,
            },
        );
        return run(cmd.file, cmd.args, { cwd: this.dir, timeoutMs, env: cmd.env, onOutput });
    }

    preview(extra: string[] = []): Promise<RunResult> {
        return this.pulumi(["preview", ...extra]);
    }

    async outputs(showSecrets = false): Promise<Record<string, any>> {
        const r = await this.pulumi(["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : [])]);
        if (r.code !== 0) throw new Error(`stack output failed: ${r.stderr}`);
        return JSON.parse(r.stdout);
    }

    /**
     * Destroys and removes the stack, and the images of its app (named after the stack, see
     * agentStack and the smoke fixture's prefix): like the official provider, destroying an
     * image resource leaves the image.
     * Used in after() hooks, so it never throws on a missing stack.
     */
    async remove(): Promise<RunResult> {
        // Plugins a killed `pulumi up` of this stack left running (official plugins outlive their engine).
        await endLeftoverPlugins(this.dir, this.name);
        const destroyed = await this.pulumi(["destroy", "--yes", "--skip-preview"], 600_000);
        await this.pulumi(["stack", "rm", "--yes", "--force"]);
        fs.rmSync(path.join(this.dir, `Pulumi.${this.name}.yaml`), { force: true });
        const names = await this.images();
        if (names.length) await run("docker", ["image", "rm", ...names]);
        return destroyed;
    }

    /** The images of the stack's app: every repository named `<stack>-...` (the agent's, the proxy's, a fixture's own). */
    async images(): Promise<string[]> {
        const tags = await run("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
        return tags.stdout.split("\n").filter((t) => t.startsWith(`${this.name}-`) && !t.endsWith(":<none>"));
    }
}

/** The config of a throwaway stack of the reference agent (built locally as `<app>-agent`), plus `extra`. */
export function agentStack(app: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
        app,
        "agent.version": "1.0.0",
        "agent.buildContext": "agent",
        "proxy.port": String(port),
        ...extra,
    };
}
