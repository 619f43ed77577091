// The benchmark's agents outside Pulumi: the reference agent's image built once per
// version (the same Dockerfile and arguments as a release) and run with `docker run`,
// published on a loopback port, as the blueprint's recipe and a naive recreate run it.
import * as path from "path";
import { mustRun, run } from "../../test/support/pulumi";

const ROOT = path.join(__dirname, "..", "..");
export const IMAGE = "zdt-compare-agent";

export async function buildAgent(version: string): Promise<void> {
    await mustRun(
        "docker",
        ["build", "-q", "--build-arg", `AGENT_VERSION=${version}`, "-t", `${IMAGE}:${version}`, path.join(ROOT, "agent")],
        { timeoutMs: 600_000 },
    );
}

/** Starts `name` on 127.0.0.1:`port`; its release id (X-Release-Id) is `<version>-<name>`. */
export async function startAgent(name: string, version: string, port: number): Promise<void> {
    await run("docker", ["rm", "-f", name]);
    await mustRun("docker", [
        "run",
        "-d",
        "--name",
        name,
        "--label",
        "zdt.bench=compare",
        "-p",
        `127.0.0.1:${port}:8080`,
        "--memory",
        "512m",
        "-e",
        `RELEASE_ID=${version.replace(/\./g, "-")}-${name}`,
        "-e",
        "STREAM_TOKEN_DELAY_MS=120",
        "-v",
        `${path.join(ROOT, "knowledge")}:/app/knowledge:ro`,
        "-v",
        `${path.join(ROOT, "agent-config")}:/app/config:ro`,
        `${IMAGE}:${version}`,
    ]);
}

/** Polls `<url>/health` every `everyMs` until it answers 200, bounded by `timeoutMs`. */
export async function waitHealthy(url: string, everyMs = 2000, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.ok,
            () => false,
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`${url}/health did not answer 200 within ${timeoutMs / 1000}s`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

export async function removeAgent(name: string): Promise<void> {
    await run("docker", ["rm", "-f", name]);
}
