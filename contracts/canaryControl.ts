// The canary's control files (haproxy/canaryControl.ts keeps them in the proxy): the step
// under way, written by the switch and read by the status view, and an abort asked for by
// hand, written by `npm run abort` (ops/abort.ts) and read by the switch. One schema per
// file; the engine reaches them through CanaryControl.
import { z } from "zod";
import { SLOTS } from "../core/slots";

export const CanaryStateSchema = z.object({
    /** The canary's release id and container, and the slots of both releases. */
    release: z.string(),
    container: z.string(),
    canarySlot: z.enum(SLOTS),
    stableSlot: z.enum(SLOTS),
    /** The step under way (1-based), of how many, and its weight. */
    step: z.number().int().min(1),
    of: z.number().int().min(1),
    weight: z.number(),
    /** When the step began (epoch ms). */
    startedAt: z.number(),
});
export type CanaryState = z.infer<typeof CanaryStateSchema>;

export const AbortRequestSchema = z.object({
    /** When the canary's weight went to 0 (epoch ms). */
    at: z.number(),
    reason: z.string(),
    /** How long setting the weights took, from the moment the abort was asked for (ms). */
    weightZeroMs: z.number(),
    /** Conversations pinned to the canary that the abort moved to stable, and how many had more than one message. */
    moved: z.number(),
    movedUnderWay: z.number(),
});
export type AbortRequest = z.infer<typeof AbortRequestSchema>;

/** What the canary rollout needs from the control files (unit tests pass an in-memory one). */
export interface CanaryControl {
    /** Records the step under way; clears a stale abort on the first step. */
    step(state: CanaryState): Promise<void>;
    /** The abort asked for by hand since the canary began, if any. */
    abortRequest(): Promise<AbortRequest | undefined>;
    /** The canary is over (passed or aborted): removes both files. */
    end(): Promise<void>;
}
