// Which release the new conversations of each canary step went to, against the step's
// weight. The proxy balances a conversation's first message by weight and pins the rest,
// so the share of new conversations a step sends to the canary estimates its weight; the
// tolerance is that of a sample of n (3 standard deviations of a binomial share, plus 2
// points for the conversations begun as the weights changed).
import type { LoadReport } from "./client";

export interface StepShare {
    weight: number;
    /** New conversations begun during the step, and how many the canary answered. */
    conversations: number;
    onCanary: number;
    /** Percent of the step's new conversations on the canary. */
    sharePercent: number;
    /** How far from the weight the share may be (percentage points). */
    tolerancePercent: number;
    withinTolerance: boolean;
}

/**
 * The share of each step but the last (100 %, which has no stable to share with), from the
 * conversations whose first message was sent between `marginMs` after the step's start
 * and `marginMs` before the next one's.
 */
export function stepShares(
    log: LoadReport["conversationLog"],
    steps: { weight: number; startedAt: number }[],
    canaryRelease: string,
    marginMs = 300,
): StepShare[] {
    return steps.slice(0, -1).map((step, i) => {
        const from = step.startedAt + marginMs;
        const to = steps[i + 1].startedAt - marginMs;
        const begun = log.filter((c) => c.startedAt >= from && c.startedAt < to);
        const onCanary = begun.filter((c) => c.release === canaryRelease).length;
        const n = begun.length;
        const p = step.weight / 100;
        const sharePercent = n ? (100 * onCanary) / n : 0;
        const tolerancePercent = n ? 300 * Math.sqrt((p * (1 - p)) / n) + 2 : 100;
        return {
            weight: step.weight,
            conversations: n,
            onCanary,
            sharePercent: Math.round(sharePercent * 10) / 10,
            tolerancePercent: Math.round(tolerancePercent * 10) / 10,
            withinTolerance: n > 0 && Math.abs(sharePercent - step.weight) <= tolerancePercent,
        };
    });
}
