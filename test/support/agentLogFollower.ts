// What every agent container of an app logged during a test, the retired releases' too: a
// release's container is deleted once it retires, and with it `docker logs`, so a message
// it took and never answered would leave no trace. The follower starts `docker logs -f`
// for each of the app's agent containers as the engine starts it (and for those already
// running), keeping each one's last lines (bounded), until stopped.
import { type ChildProcess, spawn } from "child_process";
import * as readline from "readline";
import { agentContainers } from "./containers";

export class AgentLogFollower {
    private readonly lines = new Map<string, string[]>();
    private readonly children = new Set<ChildProcess>();
    private stopped = false;

    /** `keep`: the lines kept per container, the latest. */
    constructor(
        readonly app: string,
        private readonly keep = 2000,
    ) {}

    async start(): Promise<void> {
        const events = this.spawn("docker", [
            "events",
            "--filter",
            "type=container",
            "--filter",
            "event=start",
            "--filter",
            `label=zdt.app=${this.app}`,
            "--filter",
            "label=zdt.role=agent",
            "--format",
            "{{.Actor.Attributes.name}}",
        ]);
        readline.createInterface({ input: events.stdout! }).on("line", (name) => this.follow(name.trim()));
        for (const name of await agentContainers(this.app)) this.follow(name);
    }

    /** What each container logged (its last `lines` lines, or all kept), each under its name. */
    text(lines?: number): string {
        return [...this.lines.entries()]
            .map(([name, l]) => `--- ${name}\n${(lines === undefined ? l : l.slice(-lines)).join("\n")}`)
            .join("\n");
    }

    stop(): void {
        this.stopped = true;
        for (const c of this.children) c.kill();
        this.children.clear();
    }

    private follow(name: string): void {
        if (!name || this.stopped || this.lines.has(name)) return;
        const kept: string[] = [];
        this.lines.set(name, kept);
        const logs = this.spawn("docker", ["logs", "--follow", "--timestamps", name]);
        const add = (line: string) => {
            kept.push(line);
            if (kept.length > this.keep) kept.shift();
        };
        readline.createInterface({ input: logs.stdout! }).on("line", add);
        readline.createInterface({ input: logs.stderr! }).on("line", add);
    }

    private spawn(cmd: string, args: string[]): ChildProcess {
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        this.children.add(child);
        child.on("exit", () => this.children.delete(child));
        child.on("error", () => this.children.delete(child));
        return child;
    }
}
