// `npm run release -- <version> [--stack <name>] [--digest sha256:...]`: writes the config
// of a release (agent.version, and agent.digest for a pulled image), repairs what a killed
// update left, runs `pulumi up` (with the policy pack when the stack has a policy config),
// shows progress as it goes and writes a JSON report and an HTML page to reports/.
// Without a version it re-runs `pulumi up` for the stack's current config. A swarm stack
// is read through every node's proxy (its stack file's swarm.nodes).
import { countsSince } from "../core/counters";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { ContentDigest } from "../config/schema";
import { lastSwitchResult, type SwitchResult } from "../contracts/switchContract";
import { PROXY_INTERNAL_PORT } from "../core/proxyNames";
import { servingProxyExec } from "../docker/servingProxy";
import { keeperStatusText } from "../haproxy/certificates";
import { acmeStatusLine, parseAcmeStatus } from "../core/acmeStatus";
import { CurlProbes } from "../haproxy/probes";
import { endLeftoverPlugins, updateCommand } from "./leftoverPlugins";
import { configValue, pulumi, ROOT, type StackOutputs, stackOutputs } from "./pulumiCli";
import { clearStaleLock, proxyAdmin, removeOrphanReleases } from "./releaseRepair";
import { type ReleaseReport, reportCertificate, writeReports } from "./releaseReport";
import { TlsSchema } from "../config/tls";
import { TimelineRecorder } from "./releaseTimeline";
import { UpProgress } from "./upEvents";
import { stackOf, type StackSwarm } from "./findProxy";
import { clusterProxies } from "../platform/swarm/clusterProxies";
import { swarmProxyService } from "../core/proxyNames";

export type { ReleaseReport } from "./releaseReport";

/** Writes agent.version (and agent.digest, or drops a stale one); fails naming the argument before anything changes. */
function writeReleaseConfig(stack: string, version: string | undefined, digest: string | undefined): void {
    if (version === undefined) {
        if (digest !== undefined) throw new Error("--digest goes with a version: npm run release -- <version> --digest sha256:...");
        return;
    }
    if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`version must look like 2.5.0 (got "${version}")`);
    if (digest !== undefined && !ContentDigest.safeParse(digest).success)
        throw new Error(`--digest must be sha256: and 64 lower-case hex digits, as scripts/publish prints it (got "${digest}")`);
    pulumi(["config", "set", "--path", "agent.version", version], stack);
    // A pulled image's content digest goes with its version (or the old one would pin the old bytes).
    if (digest !== undefined) pulumi(["config", "set", "--path", "agent.digest", digest], stack);
    else pulumi(["config", "rm", "--path", "agent.digest"], stack); // a no-op when unset
}

/**
 * The proxies a release is read through: one host's serving proxy, or every node's proxy of a
 * swarm stack (its stack file's swarm.nodes, reached through each node's engine as the switch
 * and the status view reach them), summed.
 */
function proxiesOf(app: string, swarm: StackSwarm | undefined) {
    if (swarm) {
        const { admin, anyProxy } = clusterProxies(swarm.nodes, swarmProxyService(app), swarm, {
            log: () => undefined,
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        });
        return { home: { kind: "service" as const, admin }, exec: anyProxy, totals: () => admin.totals() };
    }
    const admin = proxyAdmin(app);
    return { home: { kind: "container" as const, admin }, exec: servingProxyExec(app), totals: () => admin.totals() };
}

async function proxyTotals(proxies: ReturnType<typeof proxiesOf>): Promise<{ requests: number; errors5xx: number }> {
    return proxies.totals().catch(() => ({ requests: 0, errors5xx: 0 }));
}

/** Runs `pulumi up` and follows its events; resolves to its exit code and stderr. */
async function runUp(stack: string, progress: UpProgress, t0: number): Promise<{ code: number; stderr: string }> {
    // The guard rails run with every release of a stack that has a policy config.
    const policyConfig = path.join(ROOT, "policies", "config", `${stack}.json`);
    const policyArgs = fs.existsSync(policyConfig)
        ? ["--policy-pack", path.join(ROOT, "policies"), "--policy-pack-config", policyConfig]
        : [];
    // Its plugins carry this stack's marker: a killed update's are found and ended next time (ops/leftoverPlugins.ts).
    const cmd = updateCommand(ROOT, stack, [
        "up",
        "--yes",
        "--skip-preview",
        "--json",
        ...policyArgs,
        "--stack",
        stack,
        "--non-interactive",
    ]);
    const child = spawn(cmd.file, cmd.args, { cwd: ROOT, env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    for await (const line of readline.createInterface({ input: child.stdout })) progress.handle(line, Date.now() - t0);
    const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    return { code, stderr };
}

function reportOf(
    run: { stack: string; target: string; t0: number; wallMs: number; code: number; stderr: string; progress: UpProgress },
    before: StackOutputs,
    after: StackOutputs,
    proxy: { requests: number; errors5xx: number },
    rr: SwitchResult | undefined,
): ReleaseReport {
    const { code, progress } = run;
    const switchCommand = progress.switchCommandMs();
    return {
        stack: run.stack,
        ok: code === 0,
        ...(code === 0
            ? {}
            : {
                  error:
                      progress.errors.filter((m) => !/^update failed$/.test(m)).join("\n") ||
                      run.stderr.trim() ||
                      `pulumi up exited ${code}`,
              }),
        startedAt: new Date(run.t0).toISOString(),
        version: run.target,
        previousVersion: code === 0 ? (after.previousVersion ?? null) : (before.liveVersion ?? null),
        liveColor: (code === 0 ? after : before).liveColor,
        wallMs: run.wallMs,
        phasesMs: {
            startup: progress.firstStepAt,
            bringUp: progress.span("bringUp"),
            switchStart: switchCommand.start,
            healthGate: rr?.phases.healthGateMs,
            evaluation: rr?.phases.evaluationMs,
            emptyPool: rr?.phases.emptyPoolMs,
            canary: rr?.phases.canaryMs,
            flip: rr?.phases.flipMs,
            confirm: rr?.phases.confirmMs,
            verification: rr?.phases.verifyMs,
            switchExit: switchCommand.exit,
            deletion: progress.span("deletion"),
            reindex: progress.span("reindex"),
            engineExit: progress.summaryAt !== undefined ? run.wallMs - progress.summaryAt : undefined,
        },
        proxy,
        verification: rr?.verification,
        retirement: rr?.retirement,
        conversationTable: rr?.conversationTable,
        ...(rr?.evaluation ? { evaluation: rr.evaluation } : {}),
        changes: progress.changes,
    };
}

export async function release(
    stack: string,
    version?: string,
    log: (line: string) => void = console.log,
    digest?: string,
): Promise<ReleaseReport> {
    writeReleaseConfig(stack, version, digest);
    const target = configValue(stack, "agent.version") ?? "(unset)";
    clearStaleLock(stack);
    for (const p of await endLeftoverPlugins(ROOT, stack))
        log(`ended ${p.command} (pid ${p.pid}): left running by a killed update of stack ${stack}`);
    const where = stackOf(__dirname, stack);
    const app = where?.app ?? configValue(stack, "app") ?? "agents";
    const proxies = proxiesOf(app, where?.swarm);
    for (const orphan of await removeOrphanReleases(stack, app, proxies.home))
        log(`removed ${orphan}: created by an interrupted update, never recorded or served`);
    const before = stackOutputs(stack);
    // A change that would replace the proxy is refused by the proxy guard inside `pulumi up`
    // (platform/docker/trafficProxy.ts), for plain `pulumi up` and CI as much as for this helper.
    const proxyBefore = await proxyTotals(proxies);

    const t0 = Date.now();
    log(`release ${before.liveVersion ?? "(none)"} -> ${target} on stack ${stack}`);
    // The timeline of the HTML report: the proxy sampled once a second while `pulumi up` runs.
    const recorder = new TimelineRecorder(proxies.home.admin, new CurlProbes(proxies.exec, PROXY_INTERNAL_PORT));
    recorder.start();
    const progress = new UpProgress(log, (label) => recorder.mark(label));
    const { code, stderr } = await runUp(stack, progress, t0);
    const wallMs = Date.now() - t0;
    const timeline = recorder.stop();
    const after = stackOutputs(stack);
    const proxyAfter = await proxyTotals(proxies);
    // The switch's result, as the stack exports it (releaseReport), read with its contract.
    const rr = code === 0 ? lastSwitchResult(JSON.stringify(after.releaseReport ?? null)) : undefined;
    const report = reportOf(
        { stack, target, t0, wallMs, code, stderr, progress },
        before,
        after,
        // A proxy reload or hand-over in the update restarted the counters: then only those since.
        countsSince(proxyBefore, proxyAfter).counts,
        rr,
    );
    // The certificate the proxy serves now (proxy.tls), judged as the status view judges it.
    if (code === 0 && after.proxyCertificate) {
        const minValidDays = Number(configValue(stack, "proxy.tls.minValidDays") ?? TlsSchema.parse({}).minValidDays);
        report.certificate = reportCertificate(after.proxyCertificate, minValidDays, new Date());
    }
    // The certificate keeper (proxy.tls.mode acme): a failed renewal is said here too.
    const keeperFile = where?.swarm ? "" : await keeperStatusText(proxies.exec);
    if (keeperFile.trim()) report.certificateKeeper = acmeStatusLine(parseAcmeStatus(keeperFile), new Date());
    writeReports(report, rr, timeline, log);
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
