// The release itself, one function per phase over a shared run (engine/switchRun.ts):
//
//   1. begin: read which slot (blue/green) is live from the proxy itself (ground truth);
//   2. bring up: point the idle slot at the new release, weight 0 (checked, no traffic);
//   3. health gate: /health through the proxy, pinned to the slot, answers 200 from the
//      new release three times in a row, and the proxy's own check sees it UP
//      (engine/healthGate.ts); then the slot's connection pool is emptied; with an
//      evaluation set, its conversations are replayed on the new release and the live one
//      and judged (engine/evaluationGate.ts), still before any weight moves;
//   4. take the traffic: a canary's steps (engine/canaryRollout.ts), then the flip: new
//      slot weight 100, old slot weight 0, in one admin session - no reload, no worker
//      restart, no client connection closed;
//   5. confirm through the proxy that answers come from the new release;
//   6. verify for the window (engine/verification.ts); on a breach flip back at once and
//      fail naming the threshold and by how much;
//   7. retire the release it replaced (engine/retirement.ts).
// Everything it touches comes in `SwitchDeps`, so unit tests run it against fakes.
import type { Slot, SwitchInput, SwitchResult } from "../contracts/switchContract";
import { fillWarning, fuller, type TableFill } from "../core/conversationTables";
import { runCanary } from "./canaryRollout";
import { evaluationGate } from "./evaluationGate";
import { bringUp, emptyPool, healthGate } from "./healthGate";
import { retire, type Retired } from "./retirement";
import {
    beginRun,
    checkpoint,
    CONFIRM_STREAK,
    CONFIRM_TIMEOUT_MS,
    flipBack,
    otherSlot,
    type SwitchDeps,
    type SwitchRun,
} from "./switchRun";
import type { Served } from "./ports";
import { verify } from "./verification";
import { setWeights } from "./weights";

export {
    CONFIRM_STREAK,
    CONFIRM_TIMEOUT_MS,
    CONVERSATION_READ_MS,
    FAILED_LOG_LINES,
    GATE_POLL_MS,
    GATE_STREAK,
    otherSlot,
    type SwitchDeps,
    SwitchError,
} from "./switchRun";

export async function runSwitch(input: SwitchInput, deps: SwitchDeps): Promise<SwitchResult> {
    const run = await beginRun(input, deps);
    if (run.reverifying) {
        await completeInterruptedCanary(run);
    } else {
        const restartsAtStart = await bringUp(run);
        await healthGate(run, restartsAtStart);
        await emptyPool(run);
        await evaluationGate(run);
        await takeTraffic(run);
    }
    await confirm(run);
    const verification = await verify(run);
    const retired = await retire(run);
    return result(run, verification, retired);
}

/** The new release was already live (an earlier run stopped after its flip): it is verified again. */
async function completeInterruptedCanary(run: SwitchRun): Promise<void> {
    const { deps, input, before, slot } = run;
    deps.log(`${input.targetRelease} is already live on ${slot}; verifying it again`);
    const other = otherSlot(slot);
    if (before[other].maint || before[other].weight === 0) return;
    // A canary interrupted past half way: it takes all new conversations now, and the
    // verification window judges it.
    deps.log(`completing an interrupted canary: ${slot} 100, ${other} 0 (was ${before[slot].weight}/${before[other].weight})`);
    await setWeights(deps.admin, deps.clock, [
        { slot, fqdn: input.targetContainer, weight: 100 },
        { slot: other, fqdn: before[other].fqdn, weight: 0 },
    ]);
}

/** After the gate: the conversation baseline, a canary's steps if it is one, then the flip. */
async function takeTraffic(run: SwitchRun): Promise<void> {
    const { deps, input, live, slot, before } = run;
    const { admin, clock } = deps;
    // The conversation gate's baseline: conversations answered within the window, before
    // any weight moves (a canary's first step, or the flip).
    run.conversationBaseline = live ? ((await admin.activeConversations()) ?? null) : null;
    await readTable(run);
    if (live && input.strategy === "canary") {
        // Step by step instead of one flip; ends with the canary at 100 %.
        const canaryStart = clock.now();
        run.canarySteps = await runCanary({
            admin,
            control: deps.canaryControl,
            containers: deps.containers,
            probes: deps.probes,
            clock,
            log: deps.log,
            checkpoint: (phase) => checkpoint(run, phase),
            canary: { slot, fqdn: input.targetContainer, release: input.targetRelease },
            stable: { slot: live, fqdn: before[live].fqdn },
            steps: input.canary.steps,
            thresholds: input.thresholds,
            healthStatus: input.healthStatus,
            llmHistogram: input.llmHistogram,
            comparison: input.canary,
            ...(input.canary.answerSignal ? { answerSignal: input.canary.answerSignal } : {}),
            probeIntervalMs: input.probeIntervalMs,
            probeRequestsPerTick: input.probeRequestsPerTick,
        });
        run.phases.canaryMs = clock.now() - canaryStart;
    }
    await flip(run);
}

/** The flip: the new slot 100, the old one 0, in one admin session. */
async function flip(run: SwitchRun): Promise<void> {
    const { deps, input, live, slot, before } = run;
    const idle = otherSlot(slot);
    const { ms } = await setWeights(deps.admin, deps.clock, [
        { slot, fqdn: input.targetContainer, weight: 100 },
        // On a first deploy there is no old slot to lower: the idle one is only recorded, in maintenance.
        { slot: idle, fqdn: before[idle].fqdn, weight: 0, ...(live ? {} : { maint: true, recordOnly: true }) },
    ]);
    run.phases.flipMs = ms;
    deps.log(`flipped ${live ?? "(none)"} -> ${slot} in ${ms} ms`);
}

/** Several answers in a row through the proxy from the new release; flips back if they do not come. */
async function confirm(run: SwitchRun): Promise<void> {
    const { deps } = run;
    const confirmStart = deps.clock.now();
    let streak = 0;
    while (streak < CONFIRM_STREAK) {
        checkpoint(run, "the confirmation");
        for (const served of await deps.probes.served(CONFIRM_STREAK - streak)) streak = servedByTarget(run, served) ? streak + 1 : 0;
        if (deps.clock.now() - confirmStart > CONFIRM_TIMEOUT_MS) {
            await flipBack(run, `answers through the proxy did not come from the new release within ${CONFIRM_TIMEOUT_MS / 1000}s`);
        }
    }
    run.phases.confirmMs = deps.clock.now() - confirmStart;
}

/**
 * An answer through the proxy comes from the new release: the proxy says its slot answered,
 * and the agent, if it names its release, names this one.
 */
function servedByTarget(run: SwitchRun, served: Served): boolean {
    return served.slot === run.slot && (served.release === undefined || served.release === run.input.targetRelease);
}

/** How full the pinning table is (one header line); a warning is logged at once, the fuller reading kept. */
async function readTable(run: SwitchRun): Promise<void> {
    const fill: TableFill | undefined = await run.deps.admin.conversationTable().catch(() => undefined);
    const warning = fillWarning(fill);
    if (warning) run.deps.log(`warning: ${warning}`);
    run.conversationTable = fuller(run.conversationTable, fill);
}

async function result(run: SwitchRun, verification: SwitchResult["verification"], retired: Retired): Promise<SwitchResult> {
    const { input, live, slot, liveInfo } = run;
    // The previous release: what was live when this run started, or, when this run only
    // re-verifies (an earlier run was interrupted after its flip), what the last
    // successful run left live.
    const prev = run.deps.lastRun;
    const previous =
        live && live !== slot
            ? { color: live, release: liveInfo?.release ?? null, version: liveInfo?.version ?? null }
            : prev && prev.liveRelease !== input.targetRelease
              ? { color: prev.liveColor, release: prev.liveRelease, version: prev.liveVersion }
              : { color: prev?.previousColor ?? null, release: prev?.previousRelease ?? null, version: prev?.previousVersion ?? null };
    await readTable(run);
    const after = await run.deps.admin.slots();
    const weightOf = (x: Slot) => (after[x].maint ? 0 : after[x].weight);
    const table = run.conversationTable;
    return {
        strategy: input.strategy,
        weights: { blue: weightOf("blue"), green: weightOf("green") },
        liveColor: slot,
        liveRelease: input.targetRelease,
        liveVersion: input.targetVersion,
        previousColor: previous.color,
        previousRelease: previous.release,
        previousVersion: previous.version,
        phases: run.phases,
        verification,
        judgedAgainst: {
            thresholds: input.thresholds,
            health: { path: input.healthPath, expectStatus: input.healthStatus },
            canary:
                input.strategy === "canary"
                    ? { maxErrorRateDeltaPercent: input.canary.maxErrorRateDeltaPercent, maxLatencyRatio: input.canary.maxLatencyRatio }
                    : null,
        },
        retirement: retired.retirement,
        conversationTable: table ? { ...table, warning: fillWarning(table) ?? null } : null,
        canarySteps: run.canarySteps,
        evaluation: run.evaluation,
        nodesLost: [],
        keptImage: retired.keptImage,
        prunedImage: retired.prunedImage,
    };
}
