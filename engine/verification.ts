// The verification window after the flip (or a canary's last step): the new release is
// judged every probe interval on its own traffic against the thresholds (core/verdict.ts);
// a breach flips back at once. A drop of active conversations seen in one reading when the
// window ends keeps the verification going until the next reading decides.
import type { SwitchResult } from "../contracts/switchContract";
import { counted, CountsOverWindow } from "../core/counters";
import { failedChecks } from "../core/health";
import { badHealth, conversationSample, judge, type MetricResult, type Sample } from "../core/verdict";
import { ReleaseReadings } from "./releaseReadings";
import { checkpoint, CONVERSATION_READ_MS, flipBack, PROGRESS_EVERY_MS, type SwitchRun } from "./switchRun";

export async function verify(run: SwitchRun): Promise<SwitchResult["verification"]> {
    const { deps, input, slot } = run;
    const { admin, probes, clock, log } = deps;
    const t = input.thresholds;
    const windowMs = input.verifyWindowSeconds * 1000;
    const verifyStart = clock.now();
    // The slot's requests and 5xx since the window began (a proxy reload in it restarts the proxy's counters).
    let current = await admin.stats(slot);
    const window = new CountsOverWindow(counted(current));
    let counts = window.counts;
    let maxHealthMs = 0;
    let badStreak = 0;
    let lastProgress = verifyStart;
    const readings = new ReleaseReadings(probes, deps.containers, slot, input.targetContainer, input.llmHistogram);
    await readings.start();
    let conversations: Sample["conversations"] = undefined;
    let conversationsReadAt = -Infinity;
    const dropSeen = () => (conversations?.dropStreak ?? 0) > 0;
    let extended = false;
    let gates: MetricResult[] = [];
    log(
        `verifying ${input.targetRelease} for ${input.verifyWindowSeconds}s (5xx <= ${t.maxErrorRatePercent}%, LLM p95 <= ${t.maxLatencyMs} ms, /health <= ${t.maxHealthResponseMs} ms, memory <= ${t.maxMemoryPercent}%, conversation drop <= ${t.maxConversationDropPercent}%)`,
    );
    while (clock.now() - verifyStart < windowMs || dropSeen()) {
        if (!extended && clock.now() - verifyStart >= windowMs) {
            extended = true;
            log(`verification window over with a drop of active conversations in one reading: the next reading decides`);
        }
        checkpoint(run, "the verification");
        await Promise.all([probes.synthetic(input.probeRequestsPerTick), clock.sleep(input.probeIntervalMs)]);
        if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = clock.now();
            log(
                `verifying: ${Math.round((clock.now() - verifyStart) / 1000)}s of ${input.verifyWindowSeconds}s, ${counts.req} requests, ${counts.err5xx} 5xx`,
            );
        }
        const h = await probes.slotHealth(slot);
        current = await admin.stats(slot);
        counts = window.add(counted(current));
        maxHealthMs = Math.max(maxHealthMs, h.ms);
        badStreak = badHealth({ ...h, expected: input.healthStatus }, t) ? badStreak + 1 : 0;
        // Counting them reads the proxy's count tables: every few seconds is enough.
        if (clock.now() - conversationsReadAt >= CONVERSATION_READ_MS) {
            conversationsReadAt = clock.now();
            const active = await admin.activeConversations();
            conversations = conversationSample(
                active === undefined ? null : { active, baseline: run.conversationBaseline },
                conversations?.dropStreak ?? 0,
                t,
            );
        }
        const sample: Sample = {
            conversations,
            requests: counts.req,
            errors5xx: counts.err5xx,
            avgResponseMs: current.rtimeMs,
            health: { code: h.code, ms: h.ms, failedChecks: failedChecks(h.body), badStreak, expected: input.healthStatus },
            ...(await readings.sample()),
        };
        const verdict = judge(sample, t);
        gates = verdict.results;
        if (!verdict.ok) {
            log(`breach after ${((clock.now() - verifyStart) / 1000).toFixed(1)}s of verification (${verdict.breach.metric})`);
            await flipBack(run, verdict.breach.message);
        }
    }
    run.phases.verifyMs = clock.now() - verifyStart;
    const { req: requests, err5xx: errors } = counts;
    log(`verification passed: ${requests} requests, ${errors} 5xx, avg response ${current.rtimeMs} ms, max /health ${maxHealthMs} ms`);
    for (const g of gates) if (g.status !== "ok") log(`  ${g.metric}: ${g.status}: ${g.message}`);
    return { requests, errors5xx: errors, avgResponseMs: current.rtimeMs, maxHealthMs, gates };
}
