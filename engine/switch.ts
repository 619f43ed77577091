// The release itself: gate, flip, confirm, verify, and flip back on a breach.
//
//   1. read which slot (blue/green) is live from HAProxy itself (ground truth);
//   2. point the idle slot at the new release, weight 0 (checked, no traffic);
//   3. health gate: /health through the proxy, pinned to the slot, answers 200 from the
//      new release three times in a row, and HAProxy's own check sees it UP;
//   4. flip: new slot weight 100, old slot weight 0, in one admin-socket session - no
//      reload, no worker restart, no client connection closed;
//   5. confirm through the proxy that answers come from the new release;
//   6. verify for the window (core/verdict.ts); on a breach flip back at once and
//      fail naming the threshold and by how much.
// Everything it touches comes in `SwitchDeps`, so unit tests run it against fakes.
import { runCanary } from "./canaryRollout";
import { drainConversations } from "./conversationDrain";
import { fillWarning, fuller, type TableFill } from "../core/conversationTables";
import { crashOf } from "./crash";
import { Slot, SwitchInput, SwitchResult } from "../contracts/switchContract";
import { ReleaseReadings } from "./releaseReadings";
import { badHealth, conversationSample, judge, type MetricResult, Sample } from "../core/verdict";
import { liveSlot } from "../core/slots";
import { type PersistedSlot, type ProxyAdmin, HealthAnswer, ProxyProbes, type ReleaseContainers } from "./ports";
import { failedChecks } from "../core/health";
import { type CanaryControl } from "../contracts/canaryControl";
import { type ImageRecord, imageToPrune } from "../core/images";

export class SwitchError extends Error {}

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export interface SwitchDeps {
    admin: ProxyAdmin;
    probes: Pick<ProxyProbes, "slotHealth" | "servedRelease" | "chat" | "slotMetrics">;
    /** The release labels of a container (which release a slot serves). */
    releaseOf(container: string): Promise<{ release: string; version?: string } | undefined>;
    /** The result of the last successful run (what the command provider passes back). */
    lastRun?: SwitchResult;
    clock: Clock;
    log(message: string): void;
    /**
     * Stops a retiring release's container: it drains for `drainMs`, then ends the streams
     * still open with a final event; resolves to how many it ended so.
     */
    retire(container: string, drainMs: number): Promise<number>;
    /** The new release's own container: its state for the gate, its logs when the gate fails. */
    containers: ReleaseContainers;
    /** Removes an image a retired release ran, unless something still uses it. */
    removeImage(image: ImageRecord): Promise<{ removed: boolean; detail: string }>;
    /** The canary's control files in the proxy (the step under way, an abort by hand). */
    canaryControl: CanaryControl;
    /** Why this run must stop now (its caller is gone), checked at every safe point; undefined to go on. */
    stopReason?(): string | undefined;
}

/** Answers in a row from the new release that the health gate and the confirmation want. */
export const GATE_STREAK = 3;
export const CONFIRM_STREAK = 5;
export const CONFIRM_TIMEOUT_MS = 30_000;
export const GATE_POLL_MS = 300;
/** Log lines of a failed release quoted in the error. */
export const FAILED_LOG_LINES = 15;
const PROGRESS_EVERY_MS = 15_000;
/** How often the verification counts active conversations (a read of the proxy's stick table). */
export const CONVERSATION_READ_MS = 5_000;

export function otherSlot(slot: Slot): Slot {
    return slot === "blue" ? "green" : "blue";
}

export async function runSwitch(input: SwitchInput, deps: SwitchDeps): Promise<SwitchResult> {
    const { admin, probes, clock, log } = deps;
    /** A safe point: no admin session is half sent. Stopping here leaves traffic where it is. */
    const checkpoint = (phase: string) => {
        const why = deps.stopReason?.();
        if (why)
            throw new SwitchError(
                `traffic switch stopped during ${phase}: ${why}. Traffic stays as it is; the next \`pulumi up\` converges.`,
            );
    };
    const phases: SwitchResult["phases"] = {};
    const target = input.targetContainer;

    // A canary control file left by an interrupted run must not steer this one.
    await deps.canaryControl.end();
    const before = await admin.slots();
    const live = liveSlot(before, target);
    const liveInfo = live ? await deps.releaseOf(before[live].fqdn) : undefined;

    const flipBack = async (slot: Slot, reason: string): Promise<never> => {
        if (!live || live === slot) {
            throw new SwitchError(
                `verification failed: ${reason}. There is no previous colour to return to; ${input.targetRelease} keeps serving.`,
            );
        }
        const start = clock.now();
        await admin.setWeights([live, 100], [slot, 0]);
        const ms = clock.now() - start;
        // Conversations that began on the failed release move to the live one (the one
        // allowed move; counted in the message).
        const moved = (await admin.unpinConversations(slot).catch(() => ({ count: 0 }))).count;
        await admin.maint(slot).catch(() => undefined);
        const s = await admin.slots();
        await admin.persist({
            [live]: { fqdn: s[live].fqdn, weight: 100, maint: false },
            [slot]: { fqdn: s[slot].fqdn, weight: 0, maint: true },
        } as Record<Slot, PersistedSlot>);
        throw new SwitchError(
            `verification failed: ${reason}. Traffic flipped back to ${live} (${s[live].fqdn}) in ${ms} ms; ${input.targetRelease} gets no traffic` +
                (moved ? `; ${moved} conversation${moved === 1 ? "" : "s"} that began on it moved to ${live}.` : "."),
        );
    };

    let slot: Slot;
    let conversationBaseline: number | null = null;
    // How full the pinning table is: one header line, read twice; a warning is logged at once.
    let conversationTable: TableFill | undefined;
    const readTable = async (): Promise<TableFill | undefined> => {
        const fill = await admin.conversationTable().catch(() => undefined);
        const warning = fillWarning(fill);
        if (warning) log(`warning: ${warning}`);
        return fill;
    };
    let canarySteps: SwitchResult["canarySteps"] = null;
    if (live && before[live].fqdn === target) {
        slot = live;
        log(`${input.targetRelease} is already live on ${live}; verifying it again`);
        const other = otherSlot(live);
        if (!before[other].maint && before[other].weight > 0) {
            // A canary interrupted past half way: it takes all new conversations now, and
            // the verification window judges it.
            log(`completing an interrupted canary: ${live} 100, ${other} 0 (was ${before[live].weight}/${before[other].weight})`);
            await admin.setWeights([live, 100], [other, 0]);
            await admin.persist({
                [live]: { fqdn: target, weight: 100, maint: false },
                [other]: { fqdn: before[other].fqdn, weight: 0, maint: false },
            } as Record<Slot, PersistedSlot>);
        }
    } else {
        slot = live === "blue" ? "green" : "blue";
        log(
            `live: ${live ? `${live} (${liveInfo?.release ?? before[live].fqdn})` : "none (first deploy)"}; bringing ${input.targetRelease} up on ${slot}`,
        );
        await admin.assign(slot, target);

        // A release whose gate failed before was stopped (so it would not crash-loop);
        // running the same config again starts it and gates it again.
        let state = await deps.containers.state(target);
        if (state && !state.running && state.status !== "restarting") {
            log(`starting ${target} (${state.status}, left by an earlier failed gate)`);
            await deps.containers.start(target);
            state = await deps.containers.state(target);
        }
        const restartsAtStart = state?.restartCount ?? 0;
        const gateFailed = async (why: string): Promise<never> => {
            await admin.maint(slot);
            const logs = (await deps.containers.lastLogs(target, FAILED_LOG_LINES)).trimEnd();
            const stopped = await deps.containers.stop(target).then(
                () => `${target} is stopped; the next \`pulumi up\` starts it again (same config) or replaces it (changed config).`,
                (err: Error) => `${target} could not be stopped: ${err.message}`,
            );
            throw new SwitchError(
                `health gate: ${input.targetRelease} ${why}; traffic stays on ${live ?? "nothing"}. ${stopped}\n` +
                    `Last ${FAILED_LOG_LINES} log lines of ${target}:\n${logs.replace(/^/gm, "  | ") || "  | (none)"}`,
            );
        };

        const gateStart = clock.now();
        let last: HealthAnswer = { code: 0, body: "", ms: 0 };
        let streak = 0;
        for (;;) {
            checkpoint("the health gate");
            state = await deps.containers.state(target);
            const crash = crashOf(state, restartsAtStart);
            if (crash) await gateFailed(crash);
            last = await probes.slotHealth(slot);
            const s = (await admin.slots())[slot];
            streak = last.code === 200 && last.release === input.targetRelease && s.up ? streak + 1 : 0;
            if (streak >= GATE_STREAK) break;
            if (clock.now() - gateStart > input.healthGateTimeoutSeconds * 1000) {
                const from =
                    last.release && last.release !== input.targetRelease ? ` (answered by ${last.release}, not the new release)` : "";
                const dockerHealth = state?.health
                    ? `; Docker's health check: ${state.health.status}${state.health.lastOutput ? `, last output ${state.health.lastOutput}` : ""}`
                    : "";
                await gateFailed(
                    `did not pass /health through the proxy within ${input.healthGateTimeoutSeconds}s ` +
                        `(last answer ${last.code || "none"}${from}: ${failedChecks(last.body)}${dockerHealth})`,
                );
            }
            await clock.sleep(GATE_POLL_MS);
        }
        phases.healthGateMs = clock.now() - gateStart;
        log(`health gate passed in ${phases.healthGateMs} ms (/health ${last.ms} ms)`);
        // No request may ride a connection the slot opened to the release it held before.
        const poolStart = clock.now();
        const emptied = await admin.emptyPool(slot, input.drainTimeoutSeconds * 1000, (ms) => clock.sleep(ms));
        phases.emptyPoolMs = clock.now() - poolStart;
        if (emptied) log(`${slot}: ${emptied} (opened before the gate passed)`);

        // The conversation gate's baseline: conversations answered within the window, before
        // any weight moves (a canary's first step, or the flip).
        conversationBaseline = live ? ((await admin.activeConversations()) ?? null) : null;
        conversationTable = fuller(conversationTable, await readTable());
        if (live && input.strategy === "canary") {
            // Step by step instead of one flip; ends with the canary at 100 %.
            const canaryStart = clock.now();
            canarySteps = await runCanary({
                admin,
                control: deps.canaryControl,
                containers: deps.containers,
                probes,
                clock,
                log,
                checkpoint,
                canary: { slot, fqdn: target, release: input.targetRelease },
                stable: { slot: live, fqdn: before[live].fqdn },
                steps: input.canary.steps,
                thresholds: input.thresholds,
                comparison: input.canary,
                probeIntervalMs: input.probeIntervalMs,
                probeRequestsPerTick: input.probeRequestsPerTick,
            });
            phases.canaryMs = clock.now() - canaryStart;
        }
        const flipStart = clock.now();
        await admin.setWeights([slot, 100], ...(live ? [[live, 0] as [Slot, number]] : []));
        phases.flipMs = clock.now() - flipStart;
        const idle = otherSlot(slot);
        await admin.persist({
            [slot]: { fqdn: target, weight: 100, maint: false },
            [idle]: { fqdn: before[idle].fqdn, weight: 0, maint: !live },
        } as Record<Slot, PersistedSlot>);
        log(`flipped ${live ?? "(none)"} -> ${slot} in ${phases.flipMs} ms`);
    }

    // Confirm through the proxy: several answers in a row from the new release.
    const confirmStart = clock.now();
    let streak = 0;
    while (streak < CONFIRM_STREAK) {
        checkpoint("the confirmation");
        streak = (await probes.servedRelease()) === input.targetRelease ? streak + 1 : 0;
        if (clock.now() - confirmStart > CONFIRM_TIMEOUT_MS) {
            await flipBack(slot, `answers through the proxy did not come from the new release within ${CONFIRM_TIMEOUT_MS / 1000}s`);
        }
    }
    phases.confirmMs = clock.now() - confirmStart;

    // Verification window.
    const t = input.thresholds;
    const windowMs = input.verifyWindowSeconds * 1000;
    const verifyStart = clock.now();
    const base = await admin.stats(slot);
    let current = base;
    let maxHealthMs = 0;
    let badStreak = 0;
    let lastProgress = verifyStart;
    const readings = new ReleaseReadings(probes, deps.containers, slot, target);
    await readings.start();
    let conversations: Sample["conversations"] = undefined;
    let conversationsReadAt = -Infinity;
    const dropSeen = () => (conversations?.dropStreak ?? 0) > 0;
    let extended = false;
    let gates: MetricResult[] = [];
    log(
        `verifying ${input.targetRelease} for ${input.verifyWindowSeconds}s (5xx <= ${t.maxErrorRatePercent}%, LLM p95 <= ${t.maxLatencyMs} ms, /health <= ${t.maxHealthResponseMs} ms, memory <= ${t.maxMemoryPercent}%, conversation drop <= ${t.maxConversationDropPercent}%)`,
    );
    // A drop of active conversations seen in one reading when the window ends keeps the
    // verification going until the next reading decides (at most CONVERSATION_READ_MS on).
    while (clock.now() - verifyStart < windowMs || dropSeen()) {
        if (!extended && clock.now() - verifyStart >= windowMs) {
            extended = true;
            log(`verification window over with a drop of active conversations in one reading: the next reading decides`);
        }
        checkpoint("the verification");
        await Promise.all([probes.chat(input.probeRequestsPerTick), clock.sleep(input.probeIntervalMs)]);
        if (clock.now() - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = clock.now();
            log(
                `verifying: ${Math.round((clock.now() - verifyStart) / 1000)}s of ${input.verifyWindowSeconds}s, ${current.req - base.req} requests, ${current.err5xx - base.err5xx} 5xx`,
            );
        }
        const h = await probes.slotHealth(slot);
        current = await admin.stats(slot);
        maxHealthMs = Math.max(maxHealthMs, h.ms);
        badStreak = badHealth(h, t) ? badStreak + 1 : 0;
        // Counting them reads the stick table: every few seconds is enough.
        if (clock.now() - conversationsReadAt >= CONVERSATION_READ_MS) {
            conversationsReadAt = clock.now();
            const active = await admin.activeConversations();
            conversations = conversationSample(
                active === undefined ? null : { active, baseline: conversationBaseline },
                conversations?.dropStreak ?? 0,
                t,
            );
        }
        const sample: Sample = {
            conversations,
            requests: current.req - base.req,
            errors5xx: current.err5xx - base.err5xx,
            avgResponseMs: current.rtimeMs,
            health: { code: h.code, ms: h.ms, failedChecks: failedChecks(h.body), badStreak },
            ...(await readings.sample()),
        };
        const verdict = judge(sample, t);
        gates = verdict.results;
        if (!verdict.ok) {
            log(`breach after ${((clock.now() - verifyStart) / 1000).toFixed(1)}s of verification (${verdict.breach.metric})`);
            await flipBack(slot, verdict.breach.message);
        }
    }
    phases.verifyMs = clock.now() - verifyStart;
    const requests = current.req - base.req;
    const errors = current.err5xx - base.err5xx;
    log(`verification passed: ${requests} requests, ${errors} 5xx, avg response ${current.rtimeMs} ms, max /health ${maxHealthMs} ms`);
    for (const g of gates) if (g.status !== "ok") log(`  ${g.metric}: ${g.status}: ${g.message}`);

    // The previous release: what was live when this run started, or, when this run only
    // re-verifies (an earlier run was interrupted after its flip), what the last
    // successful run left live.
    // Retirement of the release this run replaced, with this run's drain. Pulumi then
    // deletes its (stopped) container, which is no longer declared.
    let retirement: SwitchResult["retirement"] = null;
    let keptImage: ImageRecord | null = deps.lastRun?.keptImage ?? null;
    let prunedImage: string | null = null;
    if (live && live !== slot) {
        const container = before[live].fqdn;
        const drainMs = input.drainTimeoutSeconds * 1000;
        const retiredState = await deps.containers.state(container);

        const conversations = await drainConversations(admin, live, slot, drainMs, { clock, log, checkpoint });
        log(`retiring ${liveInfo?.release ?? container}: draining for up to ${input.drainTimeoutSeconds}s`);
        const retireStart = clock.now();
        const streamsCut = await deps.retire(container, drainMs);
        retirement = { container, drainMs, tookMs: clock.now() - retireStart, streamsCut, conversations };
        log(`retired ${container}${streamsCut ? `: ${streamsCut} streams outlived the drain and got a final 'retired' event` : ""}`);

        // Images: keep the one just retired (a roll back), remove the one kept before it.
        const retiredImage = retiredState ? { id: retiredState.imageId, ref: retiredState.imageRef } : null;
        const liveImage = (await deps.containers.state(target))?.imageId;
        const prune = imageToPrune(keptImage, retiredImage, liveImage);
        if (prune) {
            const outcome = await deps.removeImage(prune);
            log(outcome.detail);
            if (outcome.removed) prunedImage = prune.ref;
        }
        keptImage = retiredImage ?? keptImage;
        if (keptImage) log(`kept image ${keptImage.ref} of the retired release for a roll back`);
    }

    const prev = deps.lastRun;
    const previous =
        live && live !== slot
            ? { color: live, release: liveInfo?.release ?? null, version: liveInfo?.version ?? null }
            : prev && prev.liveRelease !== input.targetRelease
              ? { color: prev.liveColor, release: prev.liveRelease, version: prev.liveVersion }
              : { color: prev?.previousColor ?? null, release: prev?.previousRelease ?? null, version: prev?.previousVersion ?? null };
    conversationTable = fuller(conversationTable, await readTable());
    const after = await admin.slots();
    const weightOf = (x: Slot) => (after[x].maint ? 0 : after[x].weight);
    return {
        strategy: input.strategy,
        weights: { blue: weightOf("blue"), green: weightOf("green") },
        liveColor: slot,
        liveRelease: input.targetRelease,
        liveVersion: input.targetVersion,
        previousColor: previous.color,
        previousRelease: previous.release,
        previousVersion: previous.version,
        phases,
        verification: { requests, errors5xx: errors, avgResponseMs: current.rtimeMs, maxHealthMs, gates },
        judgedAgainst: {
            thresholds: input.thresholds,
            canary:
                input.strategy === "canary"
                    ? { maxErrorRateDeltaPercent: input.canary.maxErrorRateDeltaPercent, maxLatencyRatio: input.canary.maxLatencyRatio }
                    : null,
        },
        retirement,
        conversationTable: conversationTable ? { ...conversationTable, warning: fillWarning(conversationTable) ?? null } : null,
        canarySteps,
        keptImage,
        prunedImage,
    };
}
