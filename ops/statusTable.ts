// The status view's table (pure): the blueprint's monitoring table for one release, each
// row judged by the verification's own rules (core/verdict.ts) on the latest readings,
// as OK / WARN / ALERT, or NO DATA / WAIT when there is nothing to judge yet. Active
// conversations are judged as the release gate judges them, against the count when the
// view started instead of the count before a flip.
import { describeFill, fillWarning, isFull, type TableFill } from "../core/conversationTables";
import type { Thresholds } from "../contracts/switchContract";
import { HEALTH_BREACH_STREAK, judge, type MetricResult, type Sample } from "../core/verdict";
import { certificateVerdict } from "../core/certificates";

export interface ReleaseStatus {
    slot: string;
    release: string;
    weight: number;
    /** "live" or "canary" (the one with less weight while both take traffic). */
    role: string;
    sample: Sample;
    /**
     * Conversations pinned to it (the proxy's stick table), and those answered within the
     * proxy's window (undefined: not counted). The row is judged on sample.conversations:
     * all releases' active conversations now against the count when the view started.
     */
    conversations: number;
    activeConversations: number | undefined;
}

const WORDS: Record<MetricResult["status"], string> = {
    ok: "OK",
    warn: "WARN",
    breach: "ALERT",
    inconclusive: "WAIT",
    "no-data": "NO DATA",
};

export interface Row {
    metric: string;
    value: string;
    acceptable: string;
    alert: string;
    status: string;
}

/** The rows of one release: the five metrics of the blueprint's table. */
export function statusRows(r: ReleaseStatus, t: Thresholds): Row[] {
    // The status view judges each reading as it is: a slow /health counts at once.
    const good = r.sample.health.expected ?? 200;
    const bad = r.sample.health.code !== good || r.sample.health.ms > t.maxHealthResponseMs;
    const results = judge({ ...r.sample, health: { ...r.sample.health, badStreak: bad ? HEALTH_BREACH_STREAK : 0 } }, t).results;
    const of = (m: MetricResult["metric"]) => results.find((x) => x.metric === m)!;
    const health = r.sample.health.code !== good ? of("health") : of("health-response-time");
    const a = t.acceptable;
    return [
        row("health check response time", health, `< ${a.healthResponseMs} ms`, `> ${t.maxHealthResponseMs} ms`),
        row("error rate (5xx)", of("error-rate"), `< ${a.errorRatePercent} %`, `> ${t.maxErrorRatePercent} %`),
        row("LLM inference latency (p95)", of("latency"), `< ${a.latencyMs / 1000} s`, `> ${t.maxLatencyMs / 1000} s`),
        row("memory usage", of("memory"), `< ${a.memoryPercent} %`, `> ${t.maxMemoryPercent} %`),
        {
            ...row(
                "active conversations",
                of("conversations"),
                `start +- ${a.conversationChangePercent} %`,
                `drop > ${t.maxConversationDropPercent} %`,
            ),
            value: conversationValue(r, t),
        },
    ];
}

/** Active conversations of all releases (the gate's count); null when the proxy does not count them. */
export function activeConversationTotal(releases: Pick<ReleaseStatus, "activeConversations">[]): number | null {
    if (releases.some((r) => r.activeConversations === undefined)) return null;
    return releases.reduce((sum, r) => sum + (r.activeConversations ?? 0), 0);
}

/** This release's share, then the figures judged: all releases' count against the start. */
function conversationValue(r: ReleaseStatus, t: Thresholds): string {
    const here = `${r.activeConversations === undefined ? "not counted" : `${r.activeConversations} active`}, ${r.conversations} pinned here`;
    const c = r.sample.conversations;
    if (!c || c.baseline === null) return here;
    if (c.baseline < t.minConversations)
        return `${here}; ${c.active} in all, ${c.baseline} at start (a drop is judged from ${t.minConversations})`;
    const change = (100 * (c.active - c.baseline)) / c.baseline;
    return `${here}; ${c.active} in all, ${c.baseline} at start (${change >= 0 ? "+" : ""}${change.toFixed(1)}%)`;
}

function row(metric: string, m: MetricResult, acceptable: string, alert: string): Row {
    return { metric, value: m.message, acceptable, alert, status: WORDS[m.status] };
}

/**
 * The proxy's pinning table: OK with room, WARN from 90 % (HAProxy evicts the oldest pins
 * of a full table), ALERT when full; NO DATA when the template has no table.
 */
export function tableStatus(fill: TableFill | undefined): { line: string; status: "OK" | "WARN" | "ALERT" | "NO DATA" } {
    if (!fill) return { line: "conversation table: not read (the config template has no pinning table)", status: "NO DATA" };
    const status = isFull(fill) ? "ALERT" : fillWarning(fill) ? "WARN" : "OK";
    return { line: `conversation table: ${describeFill(fill)}  ${status}`, status };
}

/**
 * The served certificate's line (proxy.tls): ALERT once expired, WARN under `minValidDays`,
 * nothing without HTTPS (pure).
 */
export function certificateStatus(
    served: { serial: string; notAfter: Date } | undefined,
    now: Date,
    minValidDays: number,
): { line: string; status: "OK" | "WARN" | "ALERT" } | undefined {
    if (!served) return undefined;
    const verdict = certificateVerdict(served.notAfter, now, minValidDays);
    const status = verdict.ok ? "OK" : served.notAfter.getTime() <= now.getTime() ? "ALERT" : "WARN";
    return { line: `certificate: serial ${served.serial}, ${verdict.text}  ${status}`, status };
}

/** One node's proxy on a swarm, over the interval: what went through it, or why it did not answer. */
export interface NodeStatus {
    node: string;
    requests?: number;
    errors5xx?: number;
    why?: string;
}

/** A line per node's proxy (Swarm): OK with its requests and 5xx over the interval, ALERT without an answer (pure). */
export function nodeLines(nodes: NodeStatus[], intervalSeconds: number): { line: string; status: "OK" | "ALERT" }[] {
    return nodes.map((n) =>
        n.why !== undefined
            ? { line: `proxy on ${n.node}: no answer (${n.why})  ALERT`, status: "ALERT" }
            : {
                  line: `proxy on ${n.node}: ${n.requests ?? 0} requests, ${n.errors5xx ?? 0} 5xx in the last ${intervalSeconds}s  OK`,
                  status: "OK",
              },
    );
}

/** The whole view as text: a heading per release and an aligned table, then the proxy's pinning table. */
export function renderStatus(
    title: string,
    releases: ReleaseStatus[],
    t: Thresholds,
    table?: TableFill,
    certificate?: { line: string },
    keeper?: { line: string },
    /** On Swarm: a line per node's proxy (nodeLines). */
    nodes: { line: string }[] = [],
): string {
    const lines = [title, "", tableStatus(table).line, ...[certificate, keeper, ...nodes].flatMap((l) => (l ? [l.line] : [])), ""];
    if (releases.length === 0) lines.push("no release takes traffic");
    for (const r of releases) {
        lines.push(`${r.role}: ${r.release} on ${r.slot}, weight ${r.weight}`);
        const rows = statusRows(r, t);
        const head: Row = { metric: "metric", value: "value", acceptable: "acceptable", alert: "alert", status: "status" };
        const cols: (keyof Row)[] = ["metric", "value", "acceptable", "alert", "status"];
        const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((x) => x[c].length))])) as Record<
            keyof Row,
            number
        >;
        for (const x of [head, ...rows])
            lines.push(
                "  " +
                    cols
                        .map((c) => x[c].padEnd(width[c]))
                        .join("  ")
                        .trimEnd(),
            );
        lines.push("");
    }
    return lines.join("\n");
}
