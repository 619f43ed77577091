// The agent's Prometheus text (GET /metrics), read by the switch: a histogram's buckets,
// the difference of two readings (what happened during a window), and a quantile of it
// with Prometheus' own rule (linear within the bucket that holds it). Pure; an agent
// without /metrics or without the histogram gives undefined, and the gate says "no data".

/** Cumulative bucket counts by upper bound (seconds), +Inf last. */
export interface Histogram {
    buckets: { le: number; count: number }[];
    count: number;
}

/** The histogram `name` in a Prometheus text exposition, if present. */
export function parseHistogram(text: string, name: string): Histogram | undefined {
    const buckets: { le: number; count: number }[] = [];
    let count: number | undefined;
    for (const line of text.split("\n")) {
        if (line.startsWith(`${name}_bucket{`)) {
            const m = /le="([^"]+)"\}\s+(\S+)/.exec(line);
            if (m) buckets.push({ le: m[1] === "+Inf" ? Infinity : Number(m[1]), count: Number(m[2]) });
        } else if (line.startsWith(`${name}_count `)) {
            count = Number(line.slice(name.length + 7));
        }
    }
    if (buckets.length === 0 || buckets.some((b) => Number.isNaN(b.le) || Number.isNaN(b.count))) return undefined;
    buckets.sort((a, b) => a.le - b.le);
    return { buckets, count: count ?? buckets[buckets.length - 1].count };
}

/** A gauge's value, if present. */
export function parseGauge(text: string, name: string): number | undefined {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)$`, "m").exec(text);
    const v = m ? Number(m[1]) : NaN;
    return Number.isNaN(v) ? undefined : v;
}

/** A counter's value, its samples summed over their labels; undefined when the text has none. */
export function parseCounter(text: string, name: string): number | undefined {
    let sum: number | undefined;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "gm"))) {
        const v = Number(m[1]);
        if (!Number.isNaN(v)) sum = (sum ?? 0) + v;
    }
    return sum;
}

/**
 * What was observed between two readings of one histogram. A restarted agent (counts
 * going down) or different buckets give the later reading whole.
 */
export function histogramDelta(before: Histogram | undefined, after: Histogram): Histogram {
    const same =
        before &&
        before.buckets.length === after.buckets.length &&
        before.buckets.every((b, i) => b.le === after.buckets[i].le && b.count <= after.buckets[i].count);
    if (!same) return after;
    return {
        buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - before.buckets[i].count })),
        count: after.count - before.count,
    };
}

/**
 * The q-quantile (0-1) in seconds, as Prometheus' histogram_quantile computes it: linear
 * within the bucket that holds it; in the +Inf bucket, the highest finite bound. A
 * threshold on a bucket bound is therefore exact: "p95 above 5 s" means more than 5 % of
 * the observations took longer than 5 s. undefined without observations.
 */
export function quantile(h: Histogram, q: number): number | undefined {
    const total = h.buckets[h.buckets.length - 1]?.count ?? 0;
    if (total === 0) return undefined;
    const rank = q * total;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of h.buckets) {
        if (b.count >= rank) {
            if (b.le === Infinity) return prevLe;
            const inBucket = b.count - prevCount;
            return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
        }
        prevLe = b.le;
        prevCount = b.count;
    }
    return prevLe;
}
