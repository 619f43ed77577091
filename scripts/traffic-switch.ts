// The traffic switch, run by the TrafficSwitch command resource on every release.
// It reaches the proxy and the agents only through the Docker API (`docker exec`),
// so it works the same with DOCKER_HOST=ssh://... as with a local engine.
//
//   1. read which slot (blue/green) is live from HAProxy itself (ground truth);
//   2. point the idle slot at the new release, weight 0 (checked, no traffic);
//   3. health gate: /health through the proxy's network, and HAProxy's own check UP;
//   4. flip: new slot weight 100, old slot weight 0, in one admin-socket session -
//      no reload, no worker restart, no client connection closed;
//   5. confirm through the proxy that answers come from the new release;
//   6. verify for the window: 5xx rate, latency, health response time; on a breach
//      flip back at once and fail naming the threshold and by how much.
// Progress goes to stderr; the result is one JSON line on stdout.
import { execFile } from "child_process";
import { statRow } from "./haproxyStat";

const env = process.env;
function need(name: string): string {
    const v = env[name];
    if (!v) throw new Error(`traffic switch: environment variable ${name} is required`);
    return v;
}
const num = (name: string, dflt: number) => (env[name] === undefined ? dflt : Number(env[name]));

const PROXY = need("PROXY_CONTAINER");
const TARGET = need("TARGET_CONTAINER");
const TARGET_RELEASE = need("TARGET_RELEASE");
const TARGET_VERSION = need("TARGET_VERSION");
const BACKEND = "agents";
const AGENT_PORT = num("AGENT_PORT", 8080);
const PROXY_PORT = num("PROXY_PORT", 8080);
const GATE_TIMEOUT_MS = num("HEALTH_GATE_TIMEOUT_SECONDS", 120) * 1000;
const VERIFY_MS = num("VERIFY_WINDOW_SECONDS", 900) * 1000;
const PROBE_INTERVAL_MS = num("PROBE_INTERVAL_MS", 1000);
const PROBES_PER_TICK = num("PROBE_REQUESTS_PER_TICK", 5);
const MAX_ERROR_PCT = num("MAX_ERROR_RATE_PERCENT", 1);
const MAX_LATENCY_MS = num("MAX_LATENCY_MS", 5000);
const MAX_HEALTH_MS = num("MAX_HEALTH_RESPONSE_MS", 500);
const MIN_REQUESTS = num("MIN_REQUESTS", 20);
const EXEC_TIMEOUT_MS = 15000;
const SLOTS = ["blue", "green"] as const;
type Slot = (typeof SLOTS)[number];

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[switch +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class SwitchError extends Error {}

function docker(args: string[], input?: string, timeoutMs = EXEC_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`docker ${args.slice(0, 3).join(" ")}: ${(stderr || err.message).trim()}`));
            else resolve(stdout);
        });
        child.stdin?.end(input ?? "");
    });
}

/** Sends admin-socket commands in one session; HAProxy runs them in order. */
async function haproxy(...commands: string[]): Promise<string> {
    const out = await docker(["exec", "-i", PROXY, "socat", "stdio", "/run/haproxy/admin.sock"], commands.join(";") + "\n");
    if (/^(Unknown command|No such|Require|Invalid|Can't|Cannot|'[^']*' expects)/im.test(out)) {
        throw new SwitchError(`proxy refused "${commands.join("; ")}": ${out.trim()}`);
    }
    return out;
}

interface SlotState { slot: Slot; fqdn: string; up: boolean; maint: boolean; weight: number }

async function slots(): Promise<Record<Slot, SlotState>> {
    const out = await haproxy(`show servers state ${BACKEND}`);
    const result = {} as Record<Slot, SlotState>;
    for (const line of out.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length < 18 || line.startsWith("#")) continue;
        const slot = f[3] as Slot;
        if (!SLOTS.includes(slot)) continue;
        const admin = Number(f[6]);
        // srv_op_state 2 = running; admin bits 0x01 forced, 0x02 inherited, 0x20 DNS-resolution maintenance.
        // (0x04 only records "disabled" in the config file and stays set after "state ready".)
        result[slot] = { slot, fqdn: f[17], up: Number(f[5]) === 2, maint: (admin & 0x23) !== 0, weight: Number(f[7]) };
    }
    for (const s of SLOTS) if (!result[s]) throw new SwitchError(`proxy ${PROXY} has no server ${BACKEND}/${s}; is it the zero-downtime proxy image?`);
    return result;
}

interface ServerStats { req: number; err5xx: number; rtimeMs: number; status: string; sessions: number }

async function stats(slot: Slot): Promise<ServerStats> {
    const row = statRow(await haproxy("show stat"), BACKEND, slot);
    if (!row) throw new SwitchError(`no statistics for ${BACKEND}/${slot}`);
    const get = (c: string) => Number(row[c] || 0);
    return { req: get("req_tot"), err5xx: get("hrsp_5xx"), rtimeMs: get("rtime"), status: row.status, sessions: get("scur") };
}

/** Persist the slots so a proxy restart comes back with the same live colour. */
async function persist(state: Record<Slot, { fqdn: string; weight: number; maint: boolean }>): Promise<void> {
    const text = SLOTS.map((s) => `${s} ${state[s].fqdn} ${state[s].weight} ${state[s].maint ? "maint" : "ready"}`).join("\n") + "\n";
    await docker(["exec", "-i", PROXY, "sh", "-c", "cat > /var/lib/zdt/slots.new && mv /var/lib/zdt/slots.new /var/lib/zdt/slots"], text);
}

/**
 * GET /health through the proxy itself, pinned to one slot (the proxy routes a
 * request from inside its container with `x-zdt-slot` to that slot, whatever its
 * weight): the exact network path real traffic will take after the flip.
 */
async function slotHealth(slot: Slot): Promise<{ code: number; body: string; ms: number; release?: string }> {
    const out = await docker(["exec", PROXY, "curl", "-sS", "--max-time", "5", "-H", `x-zdt-slot: ${slot}`, "-w", "\n%{http_code} %{time_total}",
        `http://127.0.0.1:${PROXY_PORT}/health`]).catch((err: Error) => `${err.message}\n0 0`);
    const lines = out.trimEnd().split("\n");
    const [code, secs] = lines.pop()!.split(" ");
    const body = lines.join("\n");
    let release: string | undefined;
    try {
        release = (JSON.parse(body) as { releaseId?: string }).releaseId;
    } catch {
        release = undefined;
    }
    return { code: Number(code), body, ms: Math.round(Number(secs) * 1000), release };
}

function failedChecks(body: string): string {
    try {
        const parsed = JSON.parse(body) as { checks?: Record<string, { ok: boolean; detail?: string }> };
        const bad = Object.entries(parsed.checks ?? {}).filter(([, c]) => !c.ok).map(([k, c]) => `${k} (${c.detail ?? "failed"})`);
        return bad.length ? `failed checks: ${bad.join(", ")}` : body.slice(0, 300);
    } catch {
        return body.slice(0, 300) || "no answer";
    }
}

async function versionThroughProxy(): Promise<string | undefined> {
    const out = await docker(["exec", PROXY, "curl", "-sS", "--max-time", "5", `http://127.0.0.1:${PROXY_PORT}/version`]).catch(() => "");
    try {
        return (JSON.parse(out) as { releaseId?: string }).releaseId;
    } catch {
        return undefined;
    }
}

/** Synthetic chat requests through the proxy, so thresholds are judged even without traffic. */
async function probeChat(n: number): Promise<void> {
    if (n <= 0) return;
    const urls = Array.from({ length: n }, () => `http://127.0.0.1:${PROXY_PORT}/v1/chat`);
    await docker(["exec", PROXY, "curl", "-s", "-o", "/dev/null", "--max-time", "10", "-H", "content-type: application/json",
        "-d", '{"message":"release verification probe"}', ...urls]).catch(() => undefined);
}

async function main(): Promise<void> {
    const phases: Record<string, number> = {};
    const mark = (name: string, since: number) => { phases[name] = Date.now() - since; };

    const before = await slots();
    const live = SLOTS.find((s) => !before[s].maint && before[s].weight > 0);
    const liveInfo = live ? await releaseOf(before[live].fqdn) : undefined;
    let target: Slot;
    if (live && before[live].fqdn === TARGET) {
        target = live;
        log(`${TARGET_RELEASE} is already live on ${live}; verifying it again`);
    } else {
        target = live === "blue" ? "green" : "blue";
        log(`live: ${live ? `${live} (${liveInfo?.release ?? before[live].fqdn})` : "none (first deploy)"}; bringing ${TARGET_RELEASE} up on ${target}`);
        await haproxy(`set server ${BACKEND}/${target} state maint`, `set server ${BACKEND}/${target} fqdn ${TARGET}`,
            `set server ${BACKEND}/${target} weight 0`, `set server ${BACKEND}/${target} state ready`);

        // Health gate: HAProxy's own check says UP, and /health through the proxy,
        // pinned to the slot, answers 200 from the new release three times in a row
        // (so the slot's address really is the new container, not a stale one).
        const gateStart = Date.now();
        let last: Awaited<ReturnType<typeof slotHealth>> = { code: 0, body: "", ms: 0 };
        let streak = 0;
        for (;;) {
            last = await slotHealth(target);
            const s = (await slots())[target];
            streak = last.code === 200 && last.release === TARGET_RELEASE && s.up ? streak + 1 : 0;
            if (streak >= 3) break;
            if (Date.now() - gateStart > GATE_TIMEOUT_MS) {
                await haproxy(`set server ${BACKEND}/${target} state maint`);
                const from = last.release && last.release !== TARGET_RELEASE ? ` (answered by ${last.release}, not the new release)` : "";
                throw new SwitchError(`health gate: ${TARGET_RELEASE} did not pass /health through the proxy within ${GATE_TIMEOUT_MS / 1000}s ` +
                    `(last answer ${last.code || "none"}${from}: ${failedChecks(last.body)}); traffic stays on ${live ?? "nothing"}`);
            }
            await sleep(300);
        }
        mark("healthGateMs", gateStart);
        log(`health gate passed in ${phases.healthGateMs} ms (/health ${last.ms} ms)`);

        const flipStart = Date.now();
        await haproxy(...[`set server ${BACKEND}/${target} weight 100`, ...(live ? [`set server ${BACKEND}/${live} weight 0`] : [])]);
        mark("flipMs", flipStart);
        await persist({
            [target]: { fqdn: TARGET, weight: 100, maint: false },
            [other(target)]: { fqdn: before[other(target)].fqdn, weight: 0, maint: !live },
        } as Record<Slot, { fqdn: string; weight: number; maint: boolean }>);
        log(`flipped ${live ?? "(none)"} -> ${target} in ${phases.flipMs} ms`);
    }

    // Confirm through the proxy: several answers in a row from the new release.
    const confirmStart = Date.now();
    let streak = 0;
    while (streak < 5) {
        streak = (await versionThroughProxy()) === TARGET_RELEASE ? streak + 1 : 0;
        if (Date.now() - confirmStart > 30000) {
            await flipBack(target, live, "answers through the proxy did not come from the new release within 30s");
        }
    }
    mark("confirmMs", confirmStart);

    // Verification window.
    const verifyStart = Date.now();
    const base = await stats(target);
    let maxHealthMs = 0;
    let slowHealthStreak = 0;
    let current = base;
    log(`verifying ${TARGET_RELEASE} for ${VERIFY_MS / 1000}s (5xx <= ${MAX_ERROR_PCT}%, latency <= ${MAX_LATENCY_MS} ms, /health <= ${MAX_HEALTH_MS} ms)`);
    let lastProgress = Date.now();
    while (Date.now() - verifyStart < VERIFY_MS) {
        await Promise.all([probeChat(PROBES_PER_TICK), sleep(PROBE_INTERVAL_MS)]);
        if (Date.now() - lastProgress >= 15000) {
            lastProgress = Date.now();
            log(`verifying: ${Math.round((Date.now() - verifyStart) / 1000)}s of ${VERIFY_MS / 1000}s, ${current.req - base.req} requests, ${current.err5xx - base.err5xx} 5xx`);
        }
        const h = await slotHealth(target);
        current = await stats(target);
        const requests = current.req - base.req;
        const errors = current.err5xx - base.err5xx;
        const rate = requests > 0 ? (100 * errors) / requests : 0;
        maxHealthMs = Math.max(maxHealthMs, h.ms);
        slowHealthStreak = h.code !== 200 || h.ms > MAX_HEALTH_MS ? slowHealthStreak + 1 : 0;
        if (h.code !== 200 && slowHealthStreak >= 3) {
            await flipBack(target, live, `health check failed 3 times in a row (last ${h.code || "no answer"}: ${failedChecks(h.body)})`);
        }
        if (slowHealthStreak >= 3) {
            await flipBack(target, live, `health response time ${h.ms} ms exceeds threshold ${MAX_HEALTH_MS} ms (by ${h.ms - MAX_HEALTH_MS} ms, 3 probes in a row)`);
        }
        if (requests >= MIN_REQUESTS && rate > MAX_ERROR_PCT) {
            await flipBack(target, live, `5xx rate ${rate.toFixed(1)}% (${errors} of ${requests} requests) exceeds threshold ${MAX_ERROR_PCT}% by ${(rate - MAX_ERROR_PCT).toFixed(1)} points`);
        }
        if (requests >= MIN_REQUESTS && current.rtimeMs > MAX_LATENCY_MS) {
            await flipBack(target, live, `average response time ${current.rtimeMs} ms exceeds threshold ${MAX_LATENCY_MS} ms by ${current.rtimeMs - MAX_LATENCY_MS} ms`);
        }
    }
    mark("verifyMs", verifyStart);
    const requests = current.req - base.req;
    const errors = current.err5xx - base.err5xx;
    log(`verification passed: ${requests} requests, ${errors} 5xx, avg response ${current.rtimeMs} ms, max /health ${maxHealthMs} ms`);

    // The previous release: what was live when this run started, or, when this run only
    // re-verifies (an earlier run was interrupted after its flip), what the last
    // successful run left live.
    const last = lastRun();
    const previous = live && live !== target
        ? { color: live, release: liveInfo?.release ?? null, version: liveInfo?.version ?? null }
        : last && last.liveRelease !== TARGET_RELEASE
            ? { color: last.liveColor, release: last.liveRelease, version: last.liveVersion }
            : { color: last?.previousColor ?? null, release: last?.previousRelease ?? null, version: last?.previousVersion ?? null };
    process.stdout.write(JSON.stringify({
        liveColor: target,
        liveRelease: TARGET_RELEASE,
        liveVersion: TARGET_VERSION,
        previousColor: previous.color,
        previousRelease: previous.release,
        previousVersion: previous.version,
        phases,
        verification: { requests, errors5xx: errors, avgResponseMs: current.rtimeMs, maxHealthMs },
    }) + "\n");
}

function other(slot: Slot): Slot {
    return slot === "blue" ? "green" : "blue";
}

interface LastRun { liveColor: string; liveRelease: string; liveVersion: string; previousColor: string | null; previousRelease: string | null; previousVersion: string | null }

/** The result of the last successful run, which the command provider passes in PULUMI_COMMAND_STDOUT. */
function lastRun(): LastRun | undefined {
    try {
        return JSON.parse(env.PULUMI_COMMAND_STDOUT ?? "") as LastRun;
    } catch {
        return undefined;
    }
}

async function releaseOf(container: string): Promise<{ release?: string; version?: string } | undefined> {
    const out = await docker(["inspect", "--format", '{{index .Config.Labels "zdt.release"}} {{index .Config.Labels "zdt.version"}}', container]).catch(() => "");
    const [release, version] = out.trim().split(" ");
    return release ? { release, version } : undefined;
}

async function flipBack(target: Slot, previous: Slot | undefined, reason: string): Promise<never> {
    if (!previous || previous === target) {
        throw new SwitchError(`verification failed: ${reason}. There is no previous colour to return to; ${TARGET_RELEASE} keeps serving.`);
    }
    const start = Date.now();
    await haproxy(`set server ${BACKEND}/${previous} weight 100`, `set server ${BACKEND}/${target} weight 0`);
    const ms = Date.now() - start;
    await haproxy(`set server ${BACKEND}/${target} state maint`).catch(() => undefined);
    const s = await slots();
    await persist({
        [previous]: { fqdn: s[previous].fqdn, weight: 100, maint: false },
        [target]: { fqdn: s[target].fqdn, weight: 0, maint: true },
    } as Record<Slot, { fqdn: string; weight: number; maint: boolean }>);
    throw new SwitchError(`verification failed: ${reason}. Traffic flipped back to ${previous} (${s[previous].fqdn}) in ${ms} ms; ${TARGET_RELEASE} gets no traffic.`);
}

// Bound the whole run: gate + confirmation + verification + slack.
const deadline = setTimeout(() => {
    process.stderr.write(`traffic switch: gave up after ${Math.round((Date.now() - t0) / 1000)}s (overall timeout)\n`);
    process.exit(3);
}, GATE_TIMEOUT_MS + VERIFY_MS + 120000);

main().then(() => clearTimeout(deadline), (err: Error) => {
    process.stderr.write(`${err instanceof SwitchError ? "" : "traffic switch: "}${err.message}\n`);
    process.exit(1);
});
