// Canary decisions (pure): the weights of a step, and the canary judged against the
// stable release over the same interval. A canary that breaches no absolute threshold
// still fails when it is much worse than stable (core/verdict.ts judges the absolute
// limits; this adds the comparison).
import type { MetricResult } from "./verdict";

export interface CanaryStep {
    /** Share of new conversations the canary takes during the step (percent, 1-100). */
    weight: number;
    /** How long the step lasts before the next one (seconds). */
    pauseSeconds: number;
}

/** The figures of one release over an interval (deltas of HAProxy's server statistics). */
export interface Interval {
    requests: number;
    errors5xx: number;
    avgResponseMs: number;
}

export interface Comparison {
    /** How many percentage points the canary's 5xx rate may exceed stable's. */
    maxErrorRateDeltaPercent: number;
    /** How many times stable's average response time the canary's may be. */
    maxLatencyRatio: number;
    /** Requests each side needs before they are compared. */
    minRequests: number;
}

/** HAProxy weights of the canary and the stable slot at a step (they sum to 100). */
export function stepWeights(step: CanaryStep): { canary: number; stable: number } {
    return { canary: step.weight, stable: 100 - step.weight };
}

/** Problems with a list of steps, in words; empty when the list is valid. */
export function stepProblems(steps: CanaryStep[]): string[] {
    const problems: string[] = [];
    if (steps.length === 0) problems.push("give at least one step");
    steps.forEach((s, i) => {
        if (i > 0 && s.weight <= steps[i - 1].weight)
            problems.push(`step ${i + 1}: weight ${s.weight} must be above the previous step's ${steps[i - 1].weight}`);
    });
    if (steps.length > 0 && steps[steps.length - 1].weight !== 100) problems.push("the last step must have weight 100");
    return problems;
}

/**
 * Latency differences below this are noise, whatever their ratio (3 ms against 1 ms is
 * three times slower and means nothing for an agent whose answers take seconds).
 */
export const LATENCY_NOISE_MS = 100;

const rate = (i: Interval) => (i.requests ? (100 * i.errors5xx) / i.requests : 0);

/** The canary against stable over the same interval; inconclusive while either side has too few requests. */
export function compareWithStable(canary: Interval, stable: Interval, c: Comparison): MetricResult[] {
    if (canary.requests < c.minRequests || stable.requests < c.minRequests) {
        const why = `canary ${canary.requests}, stable ${stable.requests} of the ${c.minRequests} requests each needed to compare`;
        return [
            { metric: "error-rate", status: "inconclusive", message: why },
            { metric: "latency", status: "inconclusive", message: why },
        ];
    }
    const delta = rate(canary) - rate(stable);
    const ratio = stable.avgResponseMs > 0 ? canary.avgResponseMs / stable.avgResponseMs : 1;
    return [
        delta > c.maxErrorRateDeltaPercent
            ? {
                  metric: "error-rate",
                  status: "breach",
                  message: `canary 5xx rate ${rate(canary).toFixed(1)}% is ${delta.toFixed(1)} points above stable's ${rate(stable).toFixed(1)}% (allowed: ${c.maxErrorRateDeltaPercent})`,
              }
            : {
                  metric: "error-rate",
                  status: "ok",
                  message: `canary 5xx rate ${rate(canary).toFixed(1)}%, stable ${rate(stable).toFixed(1)}%`,
              },
        ratio > c.maxLatencyRatio && canary.avgResponseMs - stable.avgResponseMs >= LATENCY_NOISE_MS
            ? {
                  metric: "latency",
                  status: "breach",
                  message: `canary average response time ${canary.avgResponseMs} ms is ${ratio.toFixed(1)} x stable's ${stable.avgResponseMs} ms (allowed: ${c.maxLatencyRatio} x)`,
              }
            : { metric: "latency", status: "ok", message: `canary ${canary.avgResponseMs} ms, stable ${stable.avgResponseMs} ms` },
    ];
}

/** One release's answer signal over an interval: its requests (HAProxy's) and the counter's increase (undefined: not exported). */
export interface SignalInterval {
    requests: number;
    count: number | undefined;
}

export interface AnswerSignal {
    /** The counter (release.canary.answerSignal.metric). */
    metric: string;
    /** How many more per 100 requests the canary may count than stable. */
    maxDeltaPercent: number;
    minRequests: number;
}

/**
 * The canary's answer signal (fallbacks, hand-offs) per 100 requests against stable's over
 * the same interval: a breach when it is more than maxDeltaPercent above; inconclusive
 * while either side has too few requests; no-data when either release does not export it.
 */
export function compareAnswerSignal(canary: SignalInterval, stable: SignalInterval, s: AnswerSignal): MetricResult {
    const metric = "answer-signal" as const;
    const missing = [canary.count === undefined && "the canary", stable.count === undefined && "stable"].filter(Boolean);
    if (missing.length)
        return { metric, status: "no-data", message: `${missing.join(" and ")} export${missing.length > 1 ? "" : "s"} no ${s.metric}` };
    if (canary.requests < s.minRequests || stable.requests < s.minRequests)
        return {
            metric,
            status: "inconclusive",
            message: `canary ${canary.requests}, stable ${stable.requests} of the ${s.minRequests} requests each needed to compare ${s.metric}`,
        };
    const per100 = (i: SignalInterval) => (100 * i.count!) / i.requests;
    const [c, st] = [per100(canary), per100(stable)];
    const said = `canary ${s.metric} ${c.toFixed(1)} per 100 requests (${canary.count} in ${canary.requests}), stable ${st.toFixed(1)} (${stable.count} in ${stable.requests})`;
    return c - st > s.maxDeltaPercent
        ? { metric, status: "breach", message: `${said}: ${(c - st).toFixed(1)} above (allowed: ${s.maxDeltaPercent})` }
        : { metric, status: "ok", message: said };
}

/** A counter's increase between two readings; a lower second reading (a restarted agent) counts whole. */
export function counterIncrease(before: number | undefined, after: number | undefined): number | undefined {
    if (after === undefined) return undefined;
    return before === undefined || after < before ? after : after - before;
}
