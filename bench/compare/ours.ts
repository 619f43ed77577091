// Our release: `pulumi up` of a throwaway stack through the release helper (blue/green,
// or canary steps), with the proxy's runtime API for the switch.
import * as path from "path";
import type { ReleaseMethod, ReleaseTimings } from "./method";
import { release } from "../../ops/release";
import { mustRun, TestStack, uniqueName } from "../../test/support/pulumi";

const ROOT = path.join(__dirname, "..", "..");

export class OurRelease implements ReleaseMethod {
    readonly name: string;
    private readonly stack: TestStack;

    constructor(
        private readonly port: number,
        private readonly windowSeconds: number,
        private readonly strategy: "blue-green" | "canary" = "blue-green",
        /** Extra stack config and secrets, the name it goes by (e.g. an older proxy template), and its URL when not plain HTTP on the port. */
        private readonly variant?: { name: string; config: Record<string, string>; secrets?: Record<string, string>; url?: string },
    ) {
        this.name = variant?.name ?? `ours (pulumi up, ${strategy})`;
        this.stack = new TestStack(ROOT, uniqueName("zcmp"));
    }

    get url(): string {
        return this.variant?.url ?? `http://127.0.0.1:${this.port}`;
    }

    async setup(version: string): Promise<void> {
        const canary: Record<string, string> =
            this.strategy === "canary"
                ? {
                      "release.strategy": "canary",
                      "release.canary.steps[0].weight": "10",
                      "release.canary.steps[0].pauseSeconds": String(this.windowSeconds),
                      "release.canary.steps[1].weight": "100",
                      "release.canary.steps[1].pauseSeconds": "0",
                  }
                : {};
        await this.stack.init(
            {
                app: this.stack.name,
                "agent.version": version,
                "agent.buildContext": "agent",
                "agent.env.STREAM_TOKEN_DELAY_MS": "120",
                "proxy.port": String(this.port),
                "release.verifyWindowSeconds": String(this.windowSeconds),
                // The load's customers answer within about a second: an exchange has ended after 5 s of quiet.
                "proxy.conversations.quietSeconds": "5",
                "release.drainTimeoutSeconds": "10",
                ...canary,
                ...this.variant?.config,
            },
            this.variant?.secrets,
        );
        const first = await release(this.stack.name, undefined, () => undefined);
        if (!first.ok) throw new Error(`${this.name}: first deploy failed: ${first.error}`);
    }

    async release(version: string): Promise<ReleaseTimings> {
        const r = await release(this.stack.name, version, () => undefined);
        if (!r.ok) throw new Error(`${this.name}: release of ${version} failed: ${r.error}`);
        const phases = { ...r.phasesMs, retirement: r.retirement?.tookMs };
        const phasesMs = Object.fromEntries(Object.entries(phases).filter((e): e is [string, number] => e[1] !== undefined));
        const exported = await mustRun("pulumi", ["stack", "export", "--stack", this.stack.name], { cwd: ROOT });
        const stateResources = ((JSON.parse(exported.stdout) as { deployment: { resources?: unknown[] } }).deployment.resources ?? [])
            .length;
        return { wallMs: r.wallMs, switchMs: r.phasesMs.flip, phasesMs, stateResources };
    }

    async noChange(): Promise<number> {
        const r = await release(this.stack.name, undefined, () => undefined);
        if (!r.ok) throw new Error(`${this.name}: a pulumi up with nothing to change failed: ${r.error}`);
        return r.wallMs;
    }

    async teardown(): Promise<void> {
        await this.stack.remove();
    }
}
