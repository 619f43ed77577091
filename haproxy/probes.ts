// Probes through the proxy itself (curl inside the proxy container): the network path
// real traffic takes. A probe that cannot run counts as "no answer", never as a pass.
import type { ContainerExec } from "../docker/cli";
import type { Slot } from "../core/slots";
import type { HealthAnswer, ProxyProbes } from "../engine/ports";

function releaseIdOf(body: string): string | undefined {
    try {
        return (JSON.parse(body) as { releaseId?: string }).releaseId;
    } catch {
        return undefined;
    }
}

export class CurlProbes implements ProxyProbes {
    constructor(
        private readonly exec: ContainerExec,
        private readonly proxyPort: number,
    ) {}

    private url(path: string): string {
        return `http://127.0.0.1:${this.proxyPort}${path}`;
    }

    /** GET `path` through the proxy, pinned to one slot; the body, then a line with curl's `writeOut`. */
    private pinnedGet(slot: Slot, path: string, writeOut: string): Promise<string> {
        return this.exec(["curl", "-sS", "--max-time", "5", "-H", `x-zdt-slot: ${slot}`, "-w", `\n${writeOut}`, this.url(path)]);
    }

    /**
     * GET /health through the proxy, pinned to one slot (the proxy routes a request from
     * inside its container with `x-zdt-slot` to that slot, whatever its weight).
     */
    async slotHealth(slot: Slot): Promise<HealthAnswer> {
        const out = await this.pinnedGet(slot, "/health", "%{http_code} %{time_total}").catch((err: Error) => `${err.message}\n0 0`);
        const lines = out.trimEnd().split("\n");
        const [code, secs] = lines.pop()!.split(" ");
        const body = lines.join("\n");
        return { code: Number(code), body, ms: Math.round(Number(secs) * 1000), release: releaseIdOf(body) };
    }

    /** GET /metrics of one slot's agent (pinned like slotHealth); undefined unless it answers 200. */
    async slotMetrics(slot: Slot): Promise<string | undefined> {
        const out = await this.pinnedGet(slot, "/metrics", "%{http_code}").catch(() => "\n0");
        const lines = out.trimEnd().split("\n");
        return lines.pop() === "200" ? lines.join("\n") : undefined;
    }

    /** The release id that answers GET /version through the proxy (weights decide). */
    async servedRelease(): Promise<string | undefined> {
        return releaseIdOf(await this.exec(["curl", "-sS", "--max-time", "5", this.url("/version")]).catch(() => ""));
    }

    /** Synthetic chat requests, so thresholds are judged even without traffic. */
    async chat(n: number): Promise<void> {
        if (n <= 0) return;
        const urls = Array.from({ length: n }, () => this.url("/v1/chat"));
        await this.exec([
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "-H",
            "content-type: application/json",
            "-d",
            '{"message":"release verification probe"}',
            ...urls,
        ]).catch(() => undefined);
    }
}
