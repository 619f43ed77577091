// Counts over an interval from two readings of a proxy's counters (requests, 5xx). The
// counters are a process's: a proxy reload (a config change, an ACME certificate's first
// issuance) starts a new HAProxy worker, and a proxy hand-over a new container, each
// counting from zero. A reading below the one before it is such a restart: the counts since
// then are the new reading itself (as Prometheus' rate() reads a counter reset), never a
// negative count.

/** Counts since `before` (none: nothing yet, 0 each); `restarted` when the counters went back (pure). */
export function countsSince<K extends string>(
    before: Readonly<Record<K, number>> | undefined,
    now: Readonly<Record<K, number>>,
): { counts: Record<K, number>; restarted: boolean } {
    const keys = Object.keys(now) as K[];
    const counts = {} as Record<K, number>;
    if (!before) {
        for (const k of keys) counts[k] = 0;
        return { counts, restarted: false };
    }
    const restarted = keys.some((k) => now[k] < before[k]);
    for (const k of keys) counts[k] = restarted ? now[k] : now[k] - before[k];
    return { counts, restarted };
}

/**
 * Counts over a window read many times (a verification, a canary step): each reading adds
 * what it counted since the one before, so a restart in the window loses only the requests
 * between the last reading before it and the restart, and never makes a count go back.
 */
export class CountsOverWindow<K extends string> {
    private last: Record<K, number>;
    private readonly total: Record<K, number>;
    private restarts = 0;

    constructor(start: Readonly<Record<K, number>>) {
        this.last = { ...start };
        this.total = countsSince(start, start).counts;
    }

    /** Adds a reading; the counts since the window's start. */
    add(now: Readonly<Record<K, number>>): Record<K, number> {
        const { counts, restarted } = countsSince(this.last, now);
        for (const k of Object.keys(counts) as K[]) this.total[k] += counts[k];
        if (restarted) this.restarts++;
        this.last = { ...now };
        return { ...this.total };
    }

    get counts(): Record<K, number> {
        return { ...this.total };
    }

    /** How many times the counters restarted in the window. */
    get restartCount(): number {
        return this.restarts;
    }
}

/**
 * Several processes' counters (each node's proxy on a swarm) as one counter that only goes
 * up: each source is differenced on its own, a restart counted from the reading after it
 * (countsSince), and the differences summed. Summing the readings first would not do: one
 * proxy's restart would lower the sum (read downstream as every proxy restarting, so the
 * others' whole history counted again) or hide inside the others' growth.
 */
export class SummedCounters<K extends string> {
    /** Each source's first reading (counted whole, as a single source's counter would be) and its window since. */
    private readonly each = new Map<string, { first: Record<K, number>; since: CountsOverWindow<K> }>();

    /** `zero`: the counters' names, each 0. */
    constructor(private readonly zero: Readonly<Record<K, number>>) {}

    /** Records `source`'s reading. */
    add(source: string, now: Readonly<Record<K, number>>): void {
        const e = this.each.get(source);
        if (e) e.since.add(now);
        else this.each.set(source, { first: { ...now }, since: new CountsOverWindow(now) });
    }

    /** The summed counters of `sources` (one never read adds nothing). */
    sum(sources: readonly string[]): Record<K, number> {
        const out = { ...this.zero } as Record<K, number>;
        for (const src of sources) {
            const e = this.each.get(src);
            if (!e) continue;
            const since = e.since.counts;
            for (const k of Object.keys(out) as K[]) out[k] += e.first[k] + since[k];
        }
        return out;
    }
}

/** The counted part of a slot's reading (a proxy's ServerStats). */
export function counted(stats: { req: number; err5xx: number }): { req: number; err5xx: number } {
    return { req: stats.req, err5xx: stats.err5xx };
}
