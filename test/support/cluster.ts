// A Docker Swarm test cluster (scripts/cluster) for the suites that need several nodes:
// its engines, their addresses, and bounded waits on the swarm's state.
import * as path from "path";
import { mustRun, run, RunResult } from "./pulumi";

const ROOT = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TestCluster {
    /** Node names, manager first, and the engine socket (DOCKER_HOST) of each. */
    nodes: { name: string; host: string }[] = [];
    registry = "";

    constructor(
        readonly name: string,
        readonly registryPort: number,
        readonly size = 3,
    ) {}

    private env(): NodeJS.ProcessEnv {
        return {
            ZDT_CLUSTER: this.name,
            ZDT_CLUSTER_NODES: String(this.size),
            ZDT_CLUSTER_REGISTRY_PORT: String(this.registryPort),
        };
    }

    /** scripts/cluster up (idempotent), then the cluster's variables from scripts/cluster env. */
    async up(): Promise<void> {
        const script = path.join(ROOT, "scripts", "cluster");
        const up = await run(script, ["up"], { cwd: ROOT, env: this.env(), timeoutMs: 900_000 });
        if (up.code !== 0) throw new Error(`scripts/cluster up failed:\n${up.stdout}\n${up.stderr}`);
        const vars = Object.fromEntries(
            (await mustRun(script, ["env"], { cwd: ROOT, env: this.env() })).stdout
                .split("\n")
                .map((l) => /^export (\w+)="(.*)"$/.exec(l))
                .filter((m): m is RegExpExecArray => m !== null)
                .map((m) => [m[1], m[2]]),
        );
        this.registry = vars.ZDT_CLUSTER_REGISTRY;
        this.nodes = vars.ZDT_CLUSTER_NODES.split(" ").map((pair) => {
            const [name, host] = pair.split("=");
            return { name, host };
        });
    }

    async down(): Promise<void> {
        await run(path.join(ROOT, "scripts", "cluster"), ["down"], { cwd: ROOT, env: this.env(), timeoutMs: 120_000 });
    }

    get manager(): string {
        return this.nodes[0].host;
    }

    /** `docker` against one node's engine (the manager unless told). */
    docker(args: string[], host = this.manager): Promise<RunResult> {
        return run("docker", args, { env: { DOCKER_HOST: host }, timeoutMs: 120_000 });
    }

    async mustDocker(args: string[], host = this.manager): Promise<string> {
        const r = await this.docker(args, host);
        if (r.code !== 0) throw new Error(`docker ${args.join(" ")} (${host}): ${r.stderr || r.stdout}`);
        return r.stdout.trim();
    }

    /** A node's address on the cluster's network, where its host-mode ports listen. */
    async address(node: string): Promise<string> {
        return (
            await mustRun("docker", ["inspect", "--format", `{{(index .NetworkSettings.Networks "${this.name}").IPAddress}}`, node])
        ).stdout.trim();
    }

    /** The nodes running a service's tasks that are in the running state. */
    async runningOn(service: string): Promise<string[]> {
        const out = await this.mustDocker([
            "service",
            "ps",
            service,
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Node}} {{.CurrentState}}",
        ]);
        return out
            .split("\n")
            .map((l) => l.split(" "))
            .filter(([, state]) => state === "Running")
            .map(([node]) => node)
            .sort();
    }

    /** Waits until `count` of a service's tasks run, none of them on `notOn`; the nodes they run on. */
    untilRunning(service: string, count: number, notOn?: string): Promise<string[]> {
        return this.until(`${count} running tasks of ${service}${notOn ? ` off ${notOn}` : ""}`, async () => {
            const on = await this.runningOn(service);
            return on.length === count && !(notOn && on.includes(notOn)) ? on : undefined;
        });
    }

    /**
     * A node dies as a machine loses its power: its network goes silent first (its interface
     * down, from the host, in the node's network namespace: no reset or FIN of its dying
     * processes gets out, and nothing sent to it is answered), then its engine and every task
     * on it are killed (SIGKILL). A `docker kill` alone lets the node's kernel close its tasks'
     * connections, which a real machine that dies never does. Returns when its network was
     * down (epoch ms, once the command returned).
     */
    async killHard(node: string): Promise<number> {
        const pid = (await mustRun("docker", ["inspect", "--format", "{{.State.Pid}}", node])).stdout.trim();
        if (!/^[1-9]\d*$/.test(pid)) throw new Error(`${node} is not running (pid ${pid})`);
        await mustRun("nsenter", ["--target", pid, "--net", "ip", "link", "set", "eth0", "down"]);
        const silentAt = Date.now();
        await mustRun("docker", ["kill", "--signal", "KILL", node]);
        return silentAt;
    }

    /** A node's state as the manager sees it (ready, down, unknown). */
    nodeState(node: string): Promise<string> {
        return this.mustDocker(["node", "inspect", "--format", "{{.Status.State}}", node]);
    }

    /** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
    async until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        let last: unknown;
        while (Date.now() < deadline) {
            try {
                const v = await check();
                if (v !== undefined) return v;
            } catch (e) {
                last = e;
            }
            await sleep(500);
        }
        throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
}
