// The test command's lanes: the real-engine suites spend most of their time waiting
// (verification windows, drains, health checks, act's jobs), so two of them run side by
// side, each in a process of its own, with the machine loaded as a user's is. Which file
// goes to which lane is decided here (pure): the longest first, each to the lane with the
// least work so far, from each file's wall time in a full CI run.

/**
 * Seconds per test file, from `files of 10 s or more` of a full CI run (a rehearsal of
 * 2026-12-07 at 15fbc0e, two lanes, a loaded machine). Others: a unit test file 1 s, a
 * real-engine one 60 s (a new suite is rarely less).
 */
export const MEASURED_SECONDS: Record<string, number> = {
    "test/integration/cluster.test.ts": 607,
    "test/integration/release.test.ts": 571,
    "test/integration/workflow.test.ts": 410,
    "test/integration/gates.test.ts": 319,
    "test/integration/canary.test.ts": 289,
    "test/integration/channels.test.ts": 279,
    "test/integration/evaluation.test.ts": 274,
    "test/integration/edge.test.ts": 246,
    "test/integration/conversations.test.ts": 197,
    "test/integration/knowledge.test.ts": 175,
    "test/integration/registry.test.ts": 172,
    "test/integration/tls.test.ts": 144,
    "test/integration/acme.test.ts": 110,
    "test/integration/policy.test.ts": 69,
    "test/unit/graph.test.ts": 46,
    "test/integration/smoke.test.ts": 24,
    "test/integration/preflight.test.ts": 19,
    "test/integration/importCompose.test.ts": 14,
};

function unmeasured(file: string): number {
    return file.startsWith("test/unit/") ? 1 : 60;
}

/**
 * Files into `n` lanes (longest first, each to the least loaded lane; ties to the first),
 * each lane's files kept in the order given. `files` are paths relative to the project.
 */
export function assignLanes(files: string[], n: number, seconds: Record<string, number> = MEASURED_SECONDS): string[][] {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--lanes must be a whole number from 1: got ${n}`);
    const weight = (f: string) => seconds[f] ?? unmeasured(f);
    const lanes = Array.from({ length: n }, () => ({ files: new Set<string>(), load: 0 }));
    for (const f of [...files].sort((a, b) => weight(b) - weight(a))) {
        const lane = lanes.reduce((best, l) => (l.load < best.load ? l : best));
        lane.files.add(f);
        lane.load += weight(f);
    }
    return lanes.map((l) => files.filter((f) => l.files.has(f))).filter((l) => l.length > 0);
}
