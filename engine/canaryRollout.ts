// A canary release, step by step (release.strategy "canary"): the new release takes the
// step's share of new conversations (conversations already under way stay where they
// began: the proxy pins them), and for the step's pause it is judged on its own traffic
// against the absolute thresholds and against stable over the same interval. A step with
// too few requests to judge waits (at most as long again) rather than pass on noise. On a
// breach, or an abort by hand (`npm run abort`, ops/abort.ts), the canary's weight goes
// to 0 at once, its conversations move to stable (the one allowed move, counted) and the
// release fails naming the breach.
import {
    type AnswerSignal,
    compareAnswerSignal,
    compareWithStable,
    counterIncrease,
    type CanaryStep,
    type Comparison,
    stepWeights,
} from "../core/canary";
import { counted, CountsOverWindow } from "../core/counters";
import { parseCounter } from "../core/agentMetrics";
import { ReleaseReadings } from "./releaseReadings";
import type { Slot, Thresholds } from "../contracts/switchContract";
import { badHealth, judge } from "../core/verdict";
import { type ProxyAdmin, type ProxyProbes, type ReleaseContainers, type Clock } from "./ports";
import { setWeights } from "./weights";
import { failedChecks } from "../core/health";
import { type AbortRequest, type CanaryControl } from "../contracts/canaryControl";

export class CanaryAborted extends Error {}

export interface CanaryRun {
    admin: ProxyAdmin;
    /** The step under way and an abort by hand, in the proxy's state folder. */
    control: CanaryControl;
    probes: Pick<ProxyProbes, "slotHealth" | "synthetic" | "slotMetrics">;
    /** The canary's container memory (the Docker engine). */
    containers: Pick<ReleaseContainers, "memory">;
    clock: Clock;
    log(message: string): void;
    /** Throws when the switch must stop (its caller is gone). */
    checkpoint(phase: string): void;
    canary: { slot: Slot; fqdn: string; release: string };
    stable: { slot: Slot; fqdn: string };
    steps: CanaryStep[];
    thresholds: Thresholds;
    /** The status of a good health answer (agent.health.expectStatus). */
    healthStatus?: number;
    /** The agent's LLM latency histogram (agent.metrics.llmHistogram). */
    llmHistogram?: string;
    comparison: Omit<Comparison, "minRequests">;
    /** An answer-quality counter the agent exports (release.canary.answerSignal): canary against stable; none: not judged. */
    answerSignal?: Omit<AnswerSignal, "minRequests">;
    probeIntervalMs: number;
    probeRequestsPerTick: number;
}

export interface StepReport {
    weight: number;
    /** When the step's weights were set (clock time; epoch ms in the switch). */
    startedAt: number;
    tookMs: number;
    canary: { requests: number; errors5xx: number; avgResponseMs: number };
    stable: { requests: number; errors5xx: number; avgResponseMs: number };
}

export async function runCanary(r: CanaryRun): Promise<StepReport[]> {
    const { admin, clock, log } = r;
    const reports: StepReport[] = [];
    for (const [i, step] of r.steps.entries()) {
        const w = stepWeights(step);
        if (i > 0) await abortIfAsked(r, i - 1);
        // Raise the canary before lowering stable: no request finds both lower.
        const { at: startedAt } = await setWeights(admin, clock, [
            { slot: r.canary.slot, fqdn: r.canary.fqdn, weight: w.canary },
            { slot: r.stable.slot, fqdn: r.stable.fqdn, weight: w.stable },
        ]);
        await r.control.step({
            release: r.canary.release,
            container: r.canary.fqdn,
            canarySlot: r.canary.slot,
            stableSlot: r.stable.slot,
            step: i + 1,
            of: r.steps.length,
            weight: step.weight,
            startedAt,
        });
        // An abort by hand between the check above and the new weights: undo them at once.
        if (i > 0) await abortIfAsked(r, i);
        log(`canary step ${i + 1} of ${r.steps.length}: ${w.canary}% of new conversations (stable ${w.stable}%) for ${step.pauseSeconds}s`);
        const readings = new ReleaseReadings(r.probes, r.containers, r.canary.slot, r.canary.fqdn, r.llmHistogram);
        await readings.start();
        // Each slot's requests and 5xx since the step began (a proxy reload in it restarts the proxy's counters).
        const canaryCounts = new CountsOverWindow(counted(await admin.stats(r.canary.slot)));
        const stableCounts = new CountsOverWindow(counted(await admin.stats(r.stable.slot)));
        const signal0 = w.stable > 0 ? await readSignal(r) : undefined;
        let report: StepReport = {
            weight: step.weight,
            startedAt,
            tookMs: 0,
            canary: { requests: 0, errors5xx: 0, avgResponseMs: 0 },
            stable: { requests: 0, errors5xx: 0, avgResponseMs: 0 },
        };
        let badStreak = 0;
        for (;;) {
            r.checkpoint(`canary step ${i + 1}`);
            await abortIfAsked(r, i);
            await Promise.all([r.probes.synthetic(r.probeRequestsPerTick), clock.sleep(r.probeIntervalMs)]);
            const [c, s, h] = await Promise.all([
                admin.stats(r.canary.slot),
                admin.stats(r.stable.slot),
                r.probes.slotHealth(r.canary.slot),
            ]);
            const [cc, sc] = [canaryCounts.add(counted(c)), stableCounts.add(counted(s))];
            report = {
                weight: step.weight,
                startedAt,
                tookMs: clock.now() - startedAt,
                canary: { requests: cc.req, errors5xx: cc.err5xx, avgResponseMs: c.rtimeMs },
                stable: { requests: sc.req, errors5xx: sc.err5xx, avgResponseMs: s.rtimeMs },
            };
            badStreak = badHealth({ ...h, expected: r.healthStatus }, r.thresholds) ? badStreak + 1 : 0;
            const absolute = judge(
                {
                    ...report.canary,
                    health: { code: h.code, ms: h.ms, failedChecks: failedChecks(h.body), badStreak, expected: r.healthStatus },
                    ...(await readings.sample()),
                },
                r.thresholds,
            );
            // The last step has no stable traffic to compare with (its weight is 0).
            const relative =
                w.stable > 0
                    ? compareWithStable(report.canary, report.stable, { ...r.comparison, minRequests: r.thresholds.minRequests })
                    : [];
            if (r.answerSignal && signal0) {
                const now = await readSignal(r);
                relative.push(
                    compareAnswerSignal(
                        { requests: report.canary.requests, count: counterIncrease(signal0.canary, now?.canary) },
                        { requests: report.stable.requests, count: counterIncrease(signal0.stable, now?.stable) },
                        { ...r.answerSignal, minRequests: r.thresholds.minRequests },
                    ),
                );
            }
            const breach = (absolute.ok ? undefined : absolute.breach) ?? relative.find((m) => m.status === "breach");
            if (breach) await abort(r, i, breach.message);
            const elapsed = clock.now() - startedAt;
            if (elapsed < step.pauseSeconds * 1000) continue;
            const judged = !absolute.results.some((m) => m.status === "inconclusive") && !relative.some((m) => m.status === "inconclusive");
            if (judged || step.weight === 100) break;
            if (elapsed >= 2 * step.pauseSeconds * 1000 + 10_000)
                await abort(
                    r,
                    i,
                    `too few requests to judge the canary within ${2 * step.pauseSeconds + 10}s (${absolute.results.find((m) => m.status === "inconclusive")?.message ?? relative[0]?.message})`,
                );
        }
        log(
            `canary step ${i + 1} passed: canary ${report.canary.requests} requests, ${report.canary.errors5xx} 5xx; stable ${report.stable.requests} requests, ${report.stable.errors5xx} 5xx`,
        );
        reports.push(report);
    }
    await r.control.end();
    return reports;
}

/** Both slots' answer-signal counters now (undefined without release.canary.answerSignal; a side without it: undefined). */
async function readSignal(r: CanaryRun): Promise<{ canary?: number; stable?: number } | undefined> {
    if (!r.answerSignal) return undefined;
    const metric = r.answerSignal.metric;
    const [c, st] = await Promise.all([r.probes.slotMetrics(r.canary.slot), r.probes.slotMetrics(r.stable.slot)]);
    return {
        canary: c === undefined ? undefined : parseCounter(c, metric),
        stable: st === undefined ? undefined : parseCounter(st, metric),
    };
}

/** Aborts when `npm run abort` asked for it (it has already set the weights and moved the conversations). */
async function abortIfAsked(r: CanaryRun, step: number): Promise<void> {
    const asked = await r.control.abortRequest();
    if (asked) await abort(r, step, `aborted by hand: ${asked.reason}`, asked);
}

async function abort(r: CanaryRun, step: number, reason: string, byHand?: AbortRequest): Promise<never> {
    let unpinned = { count: 0, underWay: 0 };
    // Stable first: no request finds both at weight 0.
    const set = await setWeights(
        r.admin,
        r.clock,
        [
            { slot: r.stable.slot, fqdn: r.stable.fqdn, weight: 100 },
            { slot: r.canary.slot, fqdn: r.canary.fqdn, weight: 0, maint: true },
        ],
        async () => {
            unpinned = await r.admin.unpinConversations(r.canary.slot).catch(() => unpinned);
        },
    );
    const ms = byHand ? byHand.weightZeroMs : set.ms;
    const moved = (byHand?.moved ?? 0) + unpinned.count;
    const movedUnderWay = (byHand?.movedUnderWay ?? 0) + unpinned.underWay;
    await r.control.end().catch(() => undefined);
    throw new CanaryAborted(
        `canary aborted at step ${step + 1} (${r.steps[step].weight}%): ${reason}. Canary weight 0 in ${ms} ms${byHand ? " (by the abort command)" : " of the breach"}; ` +
            `${moved} conversation${moved === 1 ? "" : "s"} pinned to it (${movedUnderWay} with more than one message) moved to stable (${r.stable.slot}); ${r.canary.release} gets no traffic.`,
    );
}
