// The verification verdict: a pure function of a sample of the new release's figures
// and the thresholds (data, like Argo Rollouts' metric definitions). A value exactly
// at its threshold passes; rates and latencies are judged only on a sample of at least
// `minRequests` requests; /health must breach three probes in a row, and a drop of
// active conversations two readings in a row (one reading is noise: a lull in traffic, a
// slow client). Outside the
// blueprint's acceptable range (thresholds.acceptable) a metric passes with a warning;
// a metric whose data is missing (an agent without the histogram) says so.
import type { Thresholds } from "./thresholds";
import { healthOk } from "./health";

/** Consecutive bad /health probes before the health metrics count as breached. */
export const HEALTH_BREACH_STREAK = 3;
/**
 * Readings of active conversations in a row that must show the drop before it counts as
 * breached (readings are switch.ts's CONVERSATION_READ_MS apart): a count of conversations
 * answered within a window follows the traffic, and one low reading flipped back healthy
 * releases on a loaded machine.
 */
export const CONVERSATION_BREACH_STREAK = 2;

export interface Sample {
    /** Requests to the new release since the verification began, and how many were 5xx. */
    requests: number;
    errors5xx: number;
    /** Average response time of the new release (ms), HAProxy's. */
    avgResponseMs: number;
    /** The latest /health probe, and how many probes in a row (including it) were bad. */
    health: {
        code: number;
        ms: number;
        failedChecks: string;
        badStreak: number;
        /** The status of a good answer (agent.health.expectStatus; 200 when unset). */ expected?: number;
    };
    /**
     * The agent's LLM latency over the window: p95 of its histogram and how many answers it
     * holds; null when the agent exposes no histogram (undefined: not measured).
     */
    llm?: { p95Ms: number | undefined; answers: number } | null;
    /** The container's memory as the Docker engine reports it; null when it gave no reading. */
    memory?: { percent: number; usedMb: number; limitMb: number } | null;
    /**
     * Active conversations (both releases) now and just before the flip (baseline null: no
     * earlier release), and how many readings in a row (including this one) showed a drop
     * over the threshold (conversationDrop); null when the proxy does not count them.
     */
    conversations?: { active: number; baseline: number | null; dropStreak: number } | null;
}

export const METRICS = ["health", "health-response-time", "error-rate", "latency", "memory", "conversations", "answer-signal"] as const;
/**
 * "warn": within the alert threshold but outside the acceptable range; "inconclusive":
 * too small a sample to judge yet; "no-data": the release does not expose it.
 */
export const STATUSES = ["ok", "warn", "breach", "inconclusive", "no-data"] as const;

export interface MetricResult {
    metric: (typeof METRICS)[number];
    status: (typeof STATUSES)[number];
    message: string;
}

export type Verdict = { ok: true; results: MetricResult[] } | { ok: false; breach: MetricResult; results: MetricResult[] };

/** Whether a /health probe counts as bad: no 200, or slower than the threshold. */
export function badHealth(probe: { code: number; ms: number; expected?: number }, t: Thresholds): boolean {
    return !healthOk(probe.code, probe.expected) || probe.ms > t.maxHealthResponseMs;
}

/** Whether one reading of active conversations is a drop over the threshold (judged only from `minConversations` on). */
export function conversationDrop(c: { active: number; baseline: number | null }, t: Thresholds): boolean {
    if (c.baseline === null || c.baseline < t.minConversations) return false;
    return (100 * (c.baseline - c.active)) / c.baseline > t.maxConversationDropPercent;
}

/**
 * A new reading of active conversations as a sample takes it (pure): the streak of
 * readings with a drop goes on from the previous one, or starts again at 0.
 */
export function conversationSample(
    reading: { active: number; baseline: number | null } | null,
    previousStreak: number,
    t: Thresholds,
): Sample["conversations"] {
    return reading && { ...reading, dropStreak: conversationDrop(reading, t) ? previousStreak + 1 : 0 };
}

export function judge(s: Sample, t: Thresholds): Verdict {
    const h = s.health;
    const a = t.acceptable;
    const streak = h.badStreak >= HEALTH_BREACH_STREAK;
    const good = h.expected ?? 200;
    const results: MetricResult[] = [
        h.code !== good
            ? {
                  metric: "health",
                  status: streak ? "breach" : "ok",
                  message: `health check failed ${h.badStreak} time(s) in a row (last ${h.code || "no answer"}: ${h.failedChecks})`,
              }
            : { metric: "health", status: "ok", message: `health check answers ${good}` },
        h.code === good && h.ms > t.maxHealthResponseMs
            ? {
                  metric: "health-response-time",
                  status: streak ? "breach" : "warn",
                  message: `health response time ${h.ms} ms exceeds threshold ${t.maxHealthResponseMs} ms (by ${h.ms - t.maxHealthResponseMs} ms, ${h.badStreak} probe(s) in a row)`,
              }
            : {
                  metric: "health-response-time",
                  status: h.ms > a.healthResponseMs ? "warn" : "ok",
                  message: `health response time ${h.ms} ms${h.ms > a.healthResponseMs ? ` (above the acceptable ${a.healthResponseMs} ms)` : ""}`,
              },
    ];
    if (s.requests < t.minRequests) {
        results.push({
            metric: "error-rate",
            status: "inconclusive",
            message: `${s.requests} of the ${t.minRequests} requests needed to judge`,
        });
    } else {
        const rate = (100 * s.errors5xx) / s.requests;
        results.push(
            rate > t.maxErrorRatePercent
                ? {
                      metric: "error-rate",
                      status: "breach",
                      message: `5xx rate ${rate.toFixed(1)}% (${s.errors5xx} of ${s.requests} requests) exceeds threshold ${t.maxErrorRatePercent}% by ${(rate - t.maxErrorRatePercent).toFixed(1)} points`,
                  }
                : {
                      metric: "error-rate",
                      status: rate > a.errorRatePercent ? "warn" : "ok",
                      message: `5xx rate ${rate.toFixed(2)}%${rate > a.errorRatePercent ? ` (above the acceptable ${a.errorRatePercent}%)` : ""}`,
                  },
        );
    }
    results.push(latency(s, t), memory(s, t), conversations(s, t));
    const breach = results.find((r) => r.status === "breach");
    return breach ? { ok: false, breach, results } : { ok: true, results };
}

/** p95 LLM latency from the agent's histogram; without one, HAProxy's average, said so. */
function latency(s: Sample, t: Thresholds): MetricResult {
    const a = t.acceptable;
    if (!s.llm) {
        const source = `${s.llm === null ? "the agent exposes no LLM latency histogram" : "no LLM latency measured"}; HAProxy's average response time judged instead`;
        if (s.requests < t.minRequests)
            return {
                metric: "latency",
                status: "inconclusive",
                message: `${s.requests} of the ${t.minRequests} requests needed to judge (${source})`,
            };
        return s.avgResponseMs > t.maxLatencyMs
            ? {
                  metric: "latency",
                  status: "breach",
                  message: `average response time ${s.avgResponseMs} ms exceeds threshold ${t.maxLatencyMs} ms by ${s.avgResponseMs - t.maxLatencyMs} ms (${source})`,
              }
            : { metric: "latency", status: "ok", message: `average response time ${s.avgResponseMs} ms (${source})` };
    }
    const { p95Ms, answers } = s.llm;
    if (answers < t.minRequests || p95Ms === undefined)
        return { metric: "latency", status: "inconclusive", message: `${answers} of the ${t.minRequests} LLM answers needed to judge` };
    const p95 = Math.round(p95Ms);
    if (p95 > t.maxLatencyMs)
        return {
            metric: "latency",
            status: "breach",
            message: `LLM latency p95 ${p95} ms (${answers} answers) exceeds threshold ${t.maxLatencyMs} ms by ${p95 - t.maxLatencyMs} ms`,
        };
    return {
        metric: "latency",
        status: p95 > a.latencyMs ? "warn" : "ok",
        message: `LLM latency p95 ${p95} ms (${answers} answers)${p95 > a.latencyMs ? ` (above the acceptable ${a.latencyMs} ms)` : ""}`,
    };
}

/** Memory in percent of the container's limit, as the Docker engine reports it. */
function memory(s: Sample, t: Thresholds): MetricResult {
    if (s.memory === undefined) return { metric: "memory", status: "inconclusive", message: "memory not read yet" };
    if (s.memory === null)
        return { metric: "memory", status: "no-data", message: "the Docker engine gave no memory reading for the container" };
    const { percent, usedMb, limitMb } = s.memory;
    const of = `${usedMb} MB of the ${limitMb} MB limit`;
    if (percent > t.maxMemoryPercent)
        return {
            metric: "memory",
            status: "breach",
            message: `memory ${percent.toFixed(1)}% (${of}) exceeds threshold ${t.maxMemoryPercent}% by ${(percent - t.maxMemoryPercent).toFixed(1)} points`,
        };
    const warn = percent > t.acceptable.memoryPercent;
    return {
        metric: "memory",
        status: warn ? "warn" : "ok",
        message: `memory ${percent.toFixed(1)}% (${of})${warn ? ` (above the acceptable ${t.acceptable.memoryPercent}%)` : ""}`,
    };
}

/** Active conversations against the count just before the flip: a drop means the new release turns them away. */
function conversations(s: Sample, t: Thresholds): MetricResult {
    const c = s.conversations;
    if (c === undefined) return { metric: "conversations", status: "no-data", message: "active conversations not measured here" };
    if (c === null)
        return {
            metric: "conversations",
            status: "no-data",
            message: "the proxy does not count active conversations (config template without its zdt_active count tables)",
        };
    if (c.baseline === null)
        return {
            metric: "conversations",
            status: "no-data",
            message: `${c.active} active conversations; no earlier release to compare with`,
        };
    if (c.baseline < t.minConversations)
        return {
            metric: "conversations",
            status: "inconclusive",
            message: `${c.active} active conversations, ${c.baseline} before the flip: fewer than the ${t.minConversations} needed to judge a drop`,
        };
    const change = (100 * (c.active - c.baseline)) / c.baseline;
    const figures = `${c.active} active conversations, ${c.baseline} before the flip (${change >= 0 ? "+" : ""}${change.toFixed(1)}%)`;
    if (conversationDrop(c, t)) {
        const drop = `a drop of ${(-change).toFixed(1)}% exceeds threshold ${t.maxConversationDropPercent}% by ${(-change - t.maxConversationDropPercent).toFixed(1)} points`;
        return c.dropStreak >= CONVERSATION_BREACH_STREAK
            ? { metric: "conversations", status: "breach", message: `${figures}: ${drop} (${c.dropStreak} readings in a row)` }
            : {
                  metric: "conversations",
                  status: "warn",
                  message: `${figures}: ${drop} in ${c.dropStreak} reading(s) in a row; ${CONVERSATION_BREACH_STREAK} in a row is a breach`,
              };
    }
    const warn = Math.abs(change) > t.acceptable.conversationChangePercent;
    return {
        metric: "conversations",
        status: warn ? "warn" : "ok",
        message: `${figures}${warn ? ` (outside the acceptable +-${t.acceptable.conversationChangePercent}%)` : ""}`,
    };
}
