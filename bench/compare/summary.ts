// The comparison's figures per method (pure): each measured release is a row; a method's
// summary is the median and the spread of each figure over its repetitions.
import type { LoadReport } from "../../load/client";

export interface ReleaseRow {
    method: string;
    rep: number;
    release: string;
    requests: number;
    failed: number;
    streamsTruncated: number;
    conversationsBroken: number;
    conversationsFailed: number;
    /** Failed requests by reason, as the load client names them (status, error code, release). */
    failures?: Record<string, number>;
    /** First to last failure (ms); 0 without failures. */
    unavailableMs: number;
    switchMs: number | undefined;
    wallMs: number;
    /** Where the wall time went (ours): each phase, and "other" for the rest (program start, preview, policy pack). */
    phasesMs?: Record<string, number>;
    /** Resources in the stack's state after the release (ours). */
    stateResources?: number;
}

export interface Spread {
    median: number;
    min: number;
    max: number;
}

export const FIGURES = ["failed", "streamsTruncated", "conversationsBroken", "unavailableMs", "switchMs", "wallMs"] as const;
export type Figure = (typeof FIGURES)[number];

/** The row of one release from its load report and timings. */
export function rowOf(
    method: string,
    rep: number,
    release: string,
    load: LoadReport,
    timings: { wallMs: number; switchMs?: number; phasesMs?: Record<string, number>; stateResources?: number },
): ReleaseRow {
    const w = load.failureWindowMs;
    return {
        method,
        rep,
        release,
        requests: load.requests,
        failed: load.failed,
        streamsTruncated: load.streamsTruncated,
        conversationsBroken: load.conversationsBroken,
        conversationsFailed: load.conversationsFailed,
        ...(load.failed > 0 && load.failures ? { failures: load.failures } : {}),
        unavailableMs: w ? w.lastMs - w.firstMs : 0,
        switchMs: timings.switchMs,
        wallMs: timings.wallMs,
        ...(timings.phasesMs ? { phasesMs: withOther(timings.phasesMs, timings.wallMs) } : {}),
        ...(timings.stateResources !== undefined ? { stateResources: timings.stateResources } : {}),
    };
}

/** The phases and what the wall time spent outside them ("other"; never negative). */
export function withOther(phasesMs: Record<string, number>, wallMs: number): Record<string, number> {
    const known = Object.values(phasesMs).reduce((a, b) => a + b, 0);
    return { ...phasesMs, other: Math.max(0, wallMs - known) };
}

/** Median (the lower middle of an even count), minimum and maximum; undefined for no values. */
export function spread(values: number[]): Spread | undefined {
    if (values.length === 0) return undefined;
    const s = [...values].sort((a, b) => a - b);
    return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1] };
}

/** Per method, in first-seen order: how many releases, and the spread of each figure. */
export function summarize(rows: ReleaseRow[]): { method: string; releases: number; figures: Partial<Record<Figure, Spread>> }[] {
    const methods = [...new Set(rows.map((r) => r.method))];
    return methods.map((method) => {
        const mine = rows.filter((r) => r.method === method);
        const figures: Partial<Record<Figure, Spread>> = {};
        for (const f of FIGURES) {
            const s = spread(mine.map((r) => r[f]).filter((v): v is number => v !== undefined));
            if (s) figures[f] = s;
        }
        return { method, releases: mine.length, figures };
    });
}

/** The order of the methods in repetition `rep` (0-based): rotated, so none always goes first on a warm machine. */
export function orderFor<T>(methods: T[], rep: number): T[] {
    const k = rep % methods.length;
    return [...methods.slice(k), ...methods.slice(0, k)];
}
