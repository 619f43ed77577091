// `npm run release -- <version> [--stack <name>] [--digest sha256:...]`: writes the config
// of a release (agent.version, and agent.digest for a pulled image), runs `pulumi up`, shows progress as it goes and writes
// a JSON report (phase timings, requests seen and failed) to reports/.
// Without a version it re-runs `pulumi up` for the stack's current config.
import { spawn, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { ContentDigest } from "../config/schema";
import { HaproxyAdmin } from "../haproxy/admin";
import { servingProxyExec } from "../docker/servingProxy";
import { lastSwitchResult, SwitchResult } from "../contracts/switchContract";
import { formatPhases, Phase, phaseOf, type PhaseTimings, StepMetadata } from "./releasePhases";
import { renderReportHtml } from "./reportHtml";
import { TimelineRecorder } from "./releaseTimeline";
import { CurlProbes } from "../haproxy/probes";
import { PROXY_INTERNAL_PORT } from "../core/proxyNames";

const ROOT = path.join(__dirname, "..");

export interface ReleaseReport {
    stack: string;
    ok: boolean;
    error?: string;
    startedAt: string;
    version: string;
    previousVersion: string | null;
    liveColor?: string;
    wallMs: number;
    /** Engine steps by phase (bring-up, retirement) and the switch's own phases. */
    phasesMs: Omit<PhaseTimings, "retirement">;
    /** Requests the proxy saw during the whole `pulumi up`, and how many it answered with 5xx. */
    proxy: { requests: number; errors5xx: number };
    /** The switch's verification of the new release (proxy statistics of that server). */
    verification?: SwitchResult["verification"];
    /** The previous release's retirement: the drain applied and the streams it cut (with a final event). */
    retirement?: SwitchResult["retirement"];
    /** The proxy's pinning table at its fullest during the release, with a warning from 90 %. */
    conversationTable?: SwitchResult["conversationTable"];
    changes: Record<string, number>;
}

/** The stack outputs the helper reads (index.ts exports them). */
interface StackOutputs {
    liveVersion?: string;
    liveColor?: string;
    previousVersion?: string | null;
    proxyUrl?: string;
    releaseReport?: unknown;
}

/** The parts of `pulumi up --json` engine events the helper reads. */
interface EngineEvent {
    resourcePreEvent?: { metadata: StepMetadata };
    resOutputsEvent?: { metadata: StepMetadata };
    diagnosticEvent?: { severity: string; message: string };
    policyEvent?: { policyName: string; enforcementLevel: string; resourceUrn?: string; message: string };
    summaryEvent?: { resourceChanges?: Record<string, number> };
}

function pulumi(args: string[], stack: string): string {
    return execFileSync("pulumi", [...args, "--stack", stack, "--non-interactive"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}

/** Removes a lock left by a `pulumi up` on this machine whose process is gone (killed, lost SSH session). */
export function clearStaleLock(stack: string): void {
    const backend = process.env.PULUMI_BACKEND_URL ?? "";
    if (!backend.startsWith("file://")) return;
    const dir = path.join(backend.slice("file://".length).replace(/\?.*$/, ""), ".pulumi", "locks", "organization", "zdt", stack);
    if (!fs.existsSync(dir)) return;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
        let lock: { pid: number; hostname: string };
        try {
            lock = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
        } catch {
            continue; // removed meanwhile, or not a lock
        }
        let alive = true;
        try {
            process.kill(lock.pid, 0);
        } catch {
            alive = false;
        }
        if (lock.hostname === os.hostname() && !alive) {
            console.log(`stack ${stack} was locked by pid ${lock.pid}, which is gone: running 'pulumi cancel'`);
            pulumi(["cancel", "--yes"], stack);
        }
    }
}

/**
 * Removes agent containers that a killed `pulumi up` created but never recorded in
 * the state (the next create would fail on the name). A container is removed only
 * if it is not in the state and no proxy slot sends it traffic.
 */
export async function removeOrphanReleases(stack: string, app: string): Promise<string[]> {
    const state = JSON.parse(pulumi(["stack", "export"], stack)) as {
        deployment?: { resources?: { type: string; outputs?: { name?: string } }[] };
    };
    const known = new Set(
        (state.deployment?.resources ?? []).filter((r) => r.type === "docker:index/container:Container").map((r) => r.outputs?.name),
    );
    const docker = (args: string[]) =>
        execFileSync("docker", args, { encoding: "utf8", timeout: 15000, stdio: ["pipe", "pipe", "ignore"] });
    const names = docker(["ps", "-a", "--format", "{{.Names}}", "--filter", `label=zdt.app=${app}`, "--filter", "label=zdt.role=agent"])
        .split("\n")
        .filter(Boolean);
    if (!names.some((n) => !known.has(n))) return [];
    let live: Set<string>;
    try {
        const slots = await proxyAdmin(app).slots();
        live = new Set(
            Object.values(slots)
                .filter((s) => s.weight > 0)
                .map((s) => s.fqdn),
        );
    } catch {
        return []; // cannot tell what serves: touch nothing
    }
    const orphans = names.filter((n) => !known.has(n) && !live.has(n));
    for (const name of orphans) docker(["rm", "--force", name]);
    return orphans;
}

function proxyAdmin(app: string): HaproxyAdmin {
    return new HaproxyAdmin(servingProxyExec(app), `the proxy of ${app}`);
}

function configValue(stack: string, key: string): string | undefined {
    try {
        return pulumi(["config", "get", "--path", key], stack).trim() || undefined;
    } catch {
        return undefined;
    }
}

async function proxyTotals(app: string): Promise<{ requests: number; errors5xx: number }> {
    return proxyAdmin(app)
        .totals()
        .catch(() => ({ requests: 0, errors5xx: 0 }));
}

function stackOutputs(stack: string): StackOutputs {
    try {
        return JSON.parse(pulumi(["stack", "output", "--json"], stack));
    } catch {
        return {};
    }
}

export async function release(
    stack: string,
    version?: string,
    log: (line: string) => void = console.log,
    digest?: string,
): Promise<ReleaseReport> {
    if (version !== undefined) {
        if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`version must look like 2.5.0 (got "${version}")`);
        if (digest !== undefined && !ContentDigest.safeParse(digest).success)
            throw new Error(`--digest must be sha256: and 64 lower-case hex digits, as scripts/publish prints it (got "${digest}")`);
        pulumi(["config", "set", "--path", "agent.version", version], stack);
        // A pulled image's content digest goes with its version (or the old one would pin the old bytes).
        if (digest !== undefined) pulumi(["config", "set", "--path", "agent.digest", digest], stack);
        else pulumi(["config", "rm", "--path", "agent.digest"], stack); // a no-op when unset
    } else if (digest !== undefined) throw new Error("--digest goes with a version: npm run release -- <version> --digest sha256:...");
    const target = configValue(stack, "agent.version") ?? "(unset)";
    clearStaleLock(stack);
    const app = configValue(stack, "app") ?? "agents";
    for (const orphan of await removeOrphanReleases(stack, app))
        log(`removed ${orphan}: created by an interrupted update, never recorded or served`);
    const before = stackOutputs(stack);
    // A change that would replace the proxy is refused by the proxy guard inside `pulumi up`
    // (platform/docker/trafficProxy.ts), for plain `pulumi up` and CI as much as for this helper.
    const proxyBefore = await proxyTotals(app);

    const t0 = Date.now();
    const at = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    log(`release ${before.liveVersion ?? "(none)"} -> ${target} on stack ${stack}`);
    const marks: Partial<Record<`${Phase}${"Start" | "End"}`, number>> = {};
    // The guard rails run with every release of a stack that has a policy config.
    const policyConfig = path.join(ROOT, "policies", "config", `${stack}.json`);
    const policyArgs = fs.existsSync(policyConfig)
        ? ["--policy-pack", path.join(ROOT, "policies"), "--policy-pack-config", policyConfig]
        : [];
    // The timeline of the HTML report: the proxy sampled once a second while `pulumi up` runs.
    const recorder = new TimelineRecorder(proxyAdmin(app), new CurlProbes(servingProxyExec(app), PROXY_INTERNAL_PORT));
    recorder.start();
    const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--json", ...policyArgs, "--stack", stack, "--non-interactive"], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const errors: string[] = [];
    let changes: Record<string, number> = {};
    let stepsDone = 0;
    let firstStepAt: number | undefined;
    for await (const line of readline.createInterface({ input: child.stdout })) {
        let e: EngineEvent;
        try {
            e = JSON.parse(line);
        } catch {
            continue;
        }
        const now = Date.now() - t0;
        const step = e.resourcePreEvent ?? e.resOutputsEvent;
        if (step) {
            const m = step.metadata;
            const phase = phaseOf(m);
            if (!phase) continue;
            const name = m.urn.split("::").pop();
            if (e.resourcePreEvent) {
                firstStepAt ??= now;
                if (marks[`${phase}Start`] === undefined) recorder.mark(phase);
                marks[`${phase}Start`] ??= now;
                log(`[${at()}] ${m.op} ${name} ...`);
            } else {
                marks[`${phase}End`] = now;
                stepsDone++;
                log(`[${at()}] ${m.op} ${name} done (${stepsDone} steps done)`);
            }
        } else if (e.diagnosticEvent && ["info", "warning", "error", "info#err"].includes(e.diagnosticEvent.severity)) {
            const msg = String(e.diagnosticEvent.message).trim();
            if (/^using pulumi-/.test(msg)) continue;
            if (e.diagnosticEvent.severity === "error") errors.push(msg);
            // The switch's milestones, on the plot.
            const milestone = /\] (flipped .*|breach after .*|canary step \d+ of \d+: \d+%|canary aborted at step \d+|verifying \S+)/.exec(
                msg,
            );
            if (milestone) recorder.mark(milestone[1].replace(/ \(.*$/, ""));
            for (const l of msg.split("\n")) log(`[${at()}] ${l}`);
        } else if (e.policyEvent) {
            const p = e.policyEvent;
            const msg = `policy ${p.policyName} [${p.enforcementLevel}] on ${String(p.resourceUrn ?? "")
                .split("::")
                .pop()}: ${String(p.message).trim().split("\n").pop()}`;
            if (p.enforcementLevel === "mandatory") errors.push(msg);
            log(`[${at()}] ${msg}`);
        } else if (e.summaryEvent) {
            changes = e.summaryEvent.resourceChanges ?? {};
        }
    }
    const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    const wallMs = Date.now() - t0;
    const timeline = recorder.stop();
    const after = stackOutputs(stack);
    const proxyAfter = await proxyTotals(app);
    // The switch's result, as the stack exports it (releaseReport), read with its contract.
    const rr = code === 0 ? lastSwitchResult(JSON.stringify(after.releaseReport ?? null)) : undefined;
    const span = (p: Phase) => {
        const [start, end] = [marks[`${p}Start`], marks[`${p}End`]];
        return start !== undefined && end !== undefined ? end - start : undefined;
    };
    const report: ReleaseReport = {
        stack,
        ok: code === 0,
        ...(code === 0
            ? {}
            : { error: errors.filter((m) => !/^update failed$/.test(m)).join("\n") || stderr.trim() || `pulumi up exited ${code}` }),
        startedAt: new Date(t0).toISOString(),
        version: target,
        previousVersion: code === 0 ? (after.previousVersion ?? null) : (before.liveVersion ?? null),
        liveColor: (code === 0 ? after : before).liveColor,
        wallMs,
        phasesMs: {
            startup: firstStepAt,
            bringUp: span("bringUp"),
            healthGate: rr?.phases.healthGateMs,
            emptyPool: rr?.phases.emptyPoolMs,
            canary: rr?.phases.canaryMs,
            flip: rr?.phases.flipMs,
            confirm: rr?.phases.confirmMs,
            verification: rr?.phases.verifyMs,
            deletion: span("deletion"),
            reindex: span("reindex"),
        },
        proxy: { requests: proxyAfter.requests - proxyBefore.requests, errors5xx: proxyAfter.errors5xx - proxyBefore.errors5xx },
        verification: rr?.verification,
        retirement: rr?.retirement,
        conversationTable: rr?.conversationTable,
        changes,
    };
    fs.mkdirSync(path.join(ROOT, "reports"), { recursive: true });
    const file = path.join(ROOT, "reports", `release-${stack}-${report.startedAt.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    log(`phases: ${formatPhases({ ...report.phasesMs, retirement: rr?.retirement?.tookMs })}`);
    log(`report: ${path.relative(process.cwd(), file)}`);
    const html = file.replace(/\.json$/, ".html");
    fs.writeFileSync(
        html,
        renderReportHtml({
            title: `release ${report.previousVersion ?? "(none)"} -> ${target} on stack ${stack}`,
            ok: report.ok,
            summary: [
                `${report.proxy.requests} requests through the proxy during the release, ${report.proxy.errors5xx} answered 5xx`,
                `took ${(wallMs / 1000).toFixed(1)} s` + (report.error ? `; ${report.error.split("\n")[0]}` : ""),
                ...(rr?.conversationTable?.warning ? [`warning: ${rr.conversationTable.warning}`] : []),
            ],
            gates: rr?.verification.gates ?? [],
            timeline,
        }),
    );
    log(`report page: ${path.relative(process.cwd(), html)}`);
    return report;
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const si = args.indexOf("--stack");
    const stack = si >= 0 ? args.splice(si, 2)[1] : (process.env.PULUMI_STACK ?? "dev");
    const di = args.indexOf("--digest");
    const digest = di >= 0 ? args.splice(di, 2)[1] : undefined;
    release(stack, args[0], console.log, digest).then(
        (r) => {
            console.log(
                r.ok
                    ? `released ${r.version} (${r.liveColor}) in ${(r.wallMs / 1000).toFixed(1)}s`
                    : `release of ${r.version} FAILED; ${r.previousVersion ?? "the previous release"} keeps serving:\n${r.error}`,
            );
            process.exit(r.ok ? 0 : 1);
        },
        (err: Error) => {
            console.error(`release: ${err.message}`);
            process.exit(2);
        },
    );
}
