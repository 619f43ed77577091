// Percentiles of a sample (nearest rank, as latency reports usually give them): pure,
// for the load client's latency figures and the comparison benchmark.

/** The p-th percentile (0 < p <= 100) of `values` by nearest rank; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
    if (values.length === 0) return undefined;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[Math.min(rank, sorted.length) - 1];
}
