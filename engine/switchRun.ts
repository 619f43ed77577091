// What the phases of a release share (engine/switch.ts runs them in order): the input, the
// platform's adapters (SwitchDeps), what the run found when it began, and what the phases
// record for the result. Also the two moves every phase may make: a safe point where a run
// whose caller is gone stops, and the flip back on a breach.
import type { CanaryControl } from "../contracts/canaryControl";
import type { EvaluationRecord, Slot, SwitchInput, SwitchResult } from "../contracts/switchContract";
import type { TableFill } from "../core/conversationTables";
import type { ImageRecord } from "../core/images";
import { liveSlot, type SlotState } from "../core/slots";
import type { Clock, Judge, ProxyAdmin, ProxyProbes, ReleaseContainers } from "./ports";
import { setWeights } from "./weights";

export class SwitchError extends Error {}

export interface SwitchDeps {
    admin: ProxyAdmin;
    probes: ProxyProbes;
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
    /** Scores the evaluation set's rubrics (release.evaluation.judge); absent without one. */
    judge?: Judge;
    /** Why this run must stop now (its caller is gone), checked at every safe point; undefined to go on. */
    stopReason?(): string | undefined;
}

/** Answers in a row from the new release that the health gate and the confirmation want. */
export const GATE_STREAK = 3;
export const CONFIRM_STREAK = 5;
export const CONFIRM_TIMEOUT_MS = 30_000;
export const GATE_POLL_MS = 150;
/** Log lines of a failed release quoted in the error. */
export const FAILED_LOG_LINES = 15;
export const PROGRESS_EVERY_MS = 15_000;
/** How often the verification counts active conversations (a read of the proxy's stick table). */
export const CONVERSATION_READ_MS = 5_000;

export function otherSlot(slot: Slot): Slot {
    return slot === "blue" ? "green" : "blue";
}

export interface SwitchRun {
    input: SwitchInput;
    deps: SwitchDeps;
    /** The slots as the proxy had them when the run began (ground truth). */
    before: Record<Slot, SlotState>;
    /** The slot that served when the run began, and the release it served; none on a first deploy. */
    live: Slot | undefined;
    liveInfo: { release: string; version?: string } | undefined;
    /** The slot of the new release. */
    slot: Slot;
    /** The new release was already live (an earlier run was interrupted after its flip): verify it again. */
    reverifying: boolean;
    phases: SwitchResult["phases"];
    /** Active conversations just before any weight moved (the conversation gate's baseline). */
    conversationBaseline: number | null;
    /** The fullest reading of the pinning table. */
    conversationTable: TableFill | undefined;
    canarySteps: SwitchResult["canarySteps"];
    /** The evaluation set's replay, when the stack has one (engine/evaluationGate.ts). */
    evaluation: EvaluationRecord | null;
}

/** Reads which slot serves and which release it runs; clears a canary control file an interrupted run left. */
export async function beginRun(input: SwitchInput, deps: SwitchDeps): Promise<SwitchRun> {
    // A canary control file left by an interrupted run must not steer this one.
    await deps.canaryControl.end();
    const before = await deps.admin.slots();
    const live = liveSlot(before, input.targetContainer);
    const liveInfo = live ? await deps.releaseOf(before[live].fqdn) : undefined;
    const reverifying = live !== undefined && before[live].fqdn === input.targetContainer;
    return {
        input,
        deps,
        before,
        live,
        liveInfo,
        slot: reverifying ? live : live === "blue" ? "green" : "blue",
        reverifying,
        phases: {},
        conversationBaseline: null,
        conversationTable: undefined,
        canarySteps: null,
        evaluation: null,
    };
}

/** A safe point: no admin session is half sent. Stopping here leaves traffic where it is. */
export function checkpoint(run: SwitchRun, phase: string): void {
    const why = run.deps.stopReason?.();
    if (why)
        throw new SwitchError(`traffic switch stopped during ${phase}: ${why}. Traffic stays as it is; the next \`pulumi up\` converges.`);
}

/** On a breach after the flip: the live release takes everything back at once, the new one none; fails the run naming why. */
export async function flipBack(run: SwitchRun, reason: string): Promise<never> {
    const { live, slot, input, before } = run;
    if (!live || live === slot) {
        throw new SwitchError(
            `verification failed: ${reason}. There is no previous colour to return to; ${input.targetRelease} keeps serving.`,
        );
    }
    let moved = 0;
    const ms = await setWeights(
        run.deps.admin,
        run.deps.clock,
        [
            { slot: live, fqdn: before[live].fqdn, weight: 100 },
            { slot, fqdn: input.targetContainer, weight: 0, maint: true },
        ],
        async () => {
            // Conversations that began on the failed release move to the live one (the one
            // allowed move; counted in the message).
            moved = (await run.deps.admin.unpinConversations(slot).catch(() => ({ count: 0 }))).count;
        },
    );
    throw new SwitchError(
        `verification failed: ${reason}. Traffic flipped back to ${live} (${before[live].fqdn}) in ${ms.ms} ms; ${input.targetRelease} gets no traffic` +
            (moved ? `; ${moved} conversation${moved === 1 ? "" : "s"} that began on it moved to ${live}.` : "."),
    );
}
