// The new release's own readings for the verification and each canary step, beyond
// HAProxy's statistics: the p95 of its LLM latency (the agent's histogram, over the window
// only) and its memory against its limit (the Docker engine's `docker stats`, read in the
// background because one reading takes about a second).
import { histogramDelta, parseHistogram, quantile, type Histogram } from "../core/agentMetrics";
import type { Slot } from "../contracts/switchContract";
import type { Sample } from "../core/verdict";
import { type ProxyProbes, type ReleaseContainers } from "./ports";

/** The agent contract's LLM latency histogram (seconds). */
export const LLM_HISTOGRAM = "agent_llm_latency_seconds";
/**
 * The latency gate's percentile: the slow tail one customer in twenty meets. A higher one
 * (p99) needs hundreds of answers per window to be more than noise; a verification window
 * is judged from `minRequests` (20) on.
 */
export const LATENCY_QUANTILE = 0.95;

export class ReleaseReadings {
    private base: Histogram | undefined;
    private histogram = false;
    private memory: Sample["memory"] = undefined;
    private pending: Promise<void> | undefined;

    constructor(
        private readonly probes: Pick<ProxyProbes, "slotMetrics">,
        private readonly containers: Pick<ReleaseContainers, "memory">,
        private readonly slot: Slot,
        private readonly container: string,
        /** The agent's LLM latency histogram (agent.metrics.llmHistogram). */
        private readonly histogramName = LLM_HISTOGRAM,
    ) {}

    /** The reading the window's figures are counted from. */
    async start(): Promise<void> {
        const text = await this.probes.slotMetrics(this.slot);
        this.base = text === undefined ? undefined : parseHistogram(text, this.histogramName);
        this.histogram = this.base !== undefined;
        this.readMemory();
    }

    /** The figures so far; starts the next memory reading if none is under way. */
    async sample(): Promise<Pick<Sample, "llm" | "memory">> {
        this.readMemory();
        return { llm: await this.llm(), memory: this.memory };
    }

    private async llm(): Promise<Sample["llm"]> {
        if (!this.histogram) return null;
        const text = await this.probes.slotMetrics(this.slot);
        const now = text === undefined ? undefined : parseHistogram(text, this.histogramName);
        if (!now) return undefined; // a failed read: not measured this time
        const window = histogramDelta(this.base, now);
        const q = quantile(window, LATENCY_QUANTILE);
        return { p95Ms: q === undefined ? undefined : q * 1000, answers: window.count };
    }

    private readMemory(): void {
        this.pending ??= this.containers
            .memory(this.container)
            .then(
                (m) => void (this.memory = m ?? null),
                () => void (this.memory = null),
            )
            .finally(() => (this.pending = undefined));
    }
}
