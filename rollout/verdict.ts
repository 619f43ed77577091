// The verification verdict: a pure function of a sample of the new release's figures
// and the thresholds (data, like Argo Rollouts' metric definitions). A value exactly
// at its threshold passes; rates and latencies are judged only on a sample of at least
// `minRequests` requests; /health must breach three probes in a row.
import type { Thresholds } from "./switchContract";

/** Consecutive bad /health probes before the health metrics count as breached. */
export const HEALTH_BREACH_STREAK = 3;

export interface Sample {
    /** Requests to the new release since the verification began, and how many were 5xx. */
    requests: number;
    errors5xx: number;
    /** Average response time of the new release (ms). */
    avgResponseMs: number;
    /** The latest /health probe, and how many probes in a row (including it) were bad. */
    health: { code: number; ms: number; failedChecks: string; badStreak: number };
}

export interface MetricResult {
    metric: "health" | "health-response-time" | "error-rate" | "latency";
    /** "inconclusive": too small a sample to judge yet. */
    status: "ok" | "breach" | "inconclusive";
    message: string;
}

export type Verdict = { ok: true; results: MetricResult[] } | { ok: false; breach: MetricResult; results: MetricResult[] };

/** Whether a /health probe counts as bad: no 200, or slower than the threshold. */
export function badHealth(probe: { code: number; ms: number }, t: Thresholds): boolean {
    return probe.code !== 200 || probe.ms > t.maxHealthResponseMs;
}

export function judge(s: Sample, t: Thresholds): Verdict {
    const h = s.health;
    const streak = h.badStreak >= HEALTH_BREACH_STREAK;
    const results: MetricResult[] = [
        h.code !== 200
            ? {
                  metric: "health",
                  status: streak ? "breach" : "ok",
                  message: `health check failed ${h.badStreak} time(s) in a row (last ${h.code || "no answer"}: ${h.failedChecks})`,
              }
            : { metric: "health", status: "ok", message: "health check answers 200" },
        h.code === 200 && h.ms > t.maxHealthResponseMs
            ? {
                  metric: "health-response-time",
                  status: streak ? "breach" : "ok",
                  message: `health response time ${h.ms} ms exceeds threshold ${t.maxHealthResponseMs} ms (by ${h.ms - t.maxHealthResponseMs} ms, ${h.badStreak} probe(s) in a row)`,
              }
            : { metric: "health-response-time", status: "ok", message: `health response time ${h.ms} ms` },
    ];
    if (s.requests < t.minRequests) {
        const why = `${s.requests} of the ${t.minRequests} requests needed to judge`;
        results.push(
            { metric: "error-rate", status: "inconclusive", message: why },
            { metric: "latency", status: "inconclusive", message: why },
        );
    } else {
        const rate = (100 * s.errors5xx) / s.requests;
        results.push(
            rate > t.maxErrorRatePercent
                ? {
                      metric: "error-rate",
                      status: "breach",
                      message: `5xx rate ${rate.toFixed(1)}% (${s.errors5xx} of ${s.requests} requests) exceeds threshold ${t.maxErrorRatePercent}% by ${(rate - t.maxErrorRatePercent).toFixed(1)} points`,
                  }
                : { metric: "error-rate", status: "ok", message: `5xx rate ${rate.toFixed(1)}%` },
        );
        results.push(
            s.avgResponseMs > t.maxLatencyMs
                ? {
                      metric: "latency",
                      status: "breach",
                      message: `average response time ${s.avgResponseMs} ms exceeds threshold ${t.maxLatencyMs} ms by ${s.avgResponseMs - t.maxLatencyMs} ms`,
                  }
                : { metric: "latency", status: "ok", message: `average response time ${s.avgResponseMs} ms` },
        );
    }
    const breach = results.find((r) => r.status === "breach");
    return breach ? { ok: false, breach, results } : { ok: true, results };
}
