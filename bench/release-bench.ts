// Benchmark: releases under load on a throwaway stack, with figures, not asserts.
//   npm run bench -- [releases=3] [verifyWindowSeconds=5]
// Prints per release: failed requests, truncated streams, flip time, pulumi up wall
// time minus the verification window; then one faulty release for the automatic
// flip-back time. Writes reports/bench-<time>.json.
import * as fs from "fs";
import * as path from "path";
import type { LoadReport } from "../load/client";
import { standardLoad } from "../load/profile";
import { release, ReleaseReport } from "../ops/release";
import { TestStack, freePort, uniqueName } from "../test/support/pulumi";
import { underLoad as loadAround } from "../test/support/underLoad";

const ROOT = path.join(__dirname, "..");
const releases = Number(process.argv[2] ?? 3);
const windowSeconds = Number(process.argv[3] ?? 5);
const app = uniqueName("zb");
const stack = new TestStack(ROOT, app);

async function underLoad(url: string, fn: () => Promise<ReleaseReport>): Promise<{ report: ReleaseReport; load: LoadReport }> {
    const { result, report } = await loadAround(standardLoad(url), fn);
    return { report: result, load: report };
}

async function main(): Promise<void> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await stack.init({
        app,
        "agent.version": "1.0.0",
        "agent.image": "zdt-bench-agent",
        "agent.buildContext": "agent",
        "agent.env.STREAM_TOKEN_DELAY_MS": "120",
        "proxy.port": String(port),
        "release.verifyWindowSeconds": String(windowSeconds),
        // The load's customers answer within about a second: an exchange has ended after 5 s of quiet.
        "proxy.conversations.quietSeconds": "5",
        "release.drainTimeoutSeconds": "10",
    });
    const quiet = () => undefined;
    const rows: Record<string, unknown>[] = [];
    try {
        const first = await release(app, undefined, quiet);
        if (!first.ok) throw new Error(first.error);
        for (let i = 1; i <= releases; i++) {
            const version = `${i + 1}.0.0`;
            const before = await stack.outputs();
            const { report, load } = await underLoad(url, () => release(app, version, quiet));
            const after = await stack.outputs();
            const oldR = load.releases[before.liveRelease];
            const newR = load.releases[after.liveRelease];
            rows.push({
                release: `${before.liveVersion} -> ${version}`,
                ok: report.ok,
                requests: load.requests,
                rps: load.achievedRps,
                failed: load.failed,
                truncatedStreams: load.streamsTruncated,
                flipMs: report.phasesMs.flip,
                // From the first answer of the new release to the last answer of the old one:
                // streams begun on the old release finishing after the flip.
                lastOldAfterFirstNewMs: oldR && newR ? oldR.lastMs - newR.firstMs : null,
                upWallMs: report.wallMs,
                upMinusVerificationMs: report.wallMs - (report.phasesMs.verification ?? 0),
            });
            console.log(JSON.stringify(rows[rows.length - 1]));
        }
        // One faulty release: healthy, but half its chat answers are 500s.
        await stack.setConfig("agent.faults.errorRate", "0.5");
        const live = await stack.outputs();
        const { report, load } = await underLoad(url, () => release(app, `${releases + 2}.0.0`, quiet));
        const faulty = Object.entries(load.releases).find(([id]) => id !== live.liveRelease);
        const flipBackMs = /flipped back to \w+ \([^)]*\) in (\d+) ms/.exec(report.error ?? "")?.[1];
        const breach = {
            release: `${live.liveVersion} -> ${releases + 2}.0.0 (errorRate 0.5)`,
            failedAsExpected: !report.ok,
            failedRequests: load.failed,
            failures: load.failures,
            faultyReleaseServedMs: faulty ? faulty[1].lastMs - faulty[1].firstMs : null,
            flipBackAdminMs: flipBackMs ? Number(flipBackMs) : null,
            error: report.error?.split("\n").find((l) => l.includes("verification failed")),
        };
        console.log(JSON.stringify(breach));
        const file = path.join(ROOT, "reports", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify({ releases: rows, breach, verifyWindowSeconds: windowSeconds }, null, 2) + "\n");
        console.log(`\nreleases under load (${windowSeconds}s verification window):`);
        console.table(rows);
        console.log("automatic flip-back after a 5xx breach:");
        console.table([breach]);
        console.log(`report: ${path.relative(process.cwd(), file)}`);
    } finally {
        await stack.remove();
    }
}

main().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
});
