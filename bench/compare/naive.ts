// A naive recreate: stop the old container, start the new one on the same port.
import { removeAgent, startAgent, waitHealthy } from "./agents";
import type { ReleaseMethod, ReleaseTimings } from "./method";
import { mustRun } from "../../test/support/pulumi";

export class NaiveRecreate implements ReleaseMethod {
    readonly name = "naive recreate";
    private readonly container = "zdt-compare-naive";

    constructor(private readonly port: number) {}

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    async setup(version: string): Promise<void> {
        await startAgent(this.container, version, this.port);
        await waitHealthy(this.url, 250);
    }

    async release(version: string): Promise<ReleaseTimings> {
        const t0 = Date.now();
        await mustRun("docker", ["stop", this.container]); // SIGTERM, then the agent's own drain
        await startAgent(this.container, version, this.port);
        await waitHealthy(this.url, 250);
        const ms = Date.now() - t0;
        return { wallMs: ms, switchMs: ms };
    }

    async teardown(): Promise<void> {
        await removeAgent(this.container);
    }
}
