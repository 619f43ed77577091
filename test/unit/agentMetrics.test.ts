// Reading the agent's histogram and its quantiles, as Prometheus does.
import { expect } from "chai";
import { histogramDelta, parseGauge, parseHistogram, quantile } from "../../core/agentMetrics";

const text = (counts: number[], les = ["0.5", "1", "2", "5", "+Inf"]) =>
    [
        "# HELP agent_llm_latency_seconds Time to produce an answer.",
        "# TYPE agent_llm_latency_seconds histogram",
        ...les.map((le, i) => `agent_llm_latency_seconds_bucket{le="${le}"} ${counts[i]}`),
        `agent_llm_latency_seconds_sum 12.5`,
        `agent_llm_latency_seconds_count ${counts[counts.length - 1]}`,
        "# TYPE agent_conversations_active gauge",
        "agent_conversations_active 42",
    ].join("\n");

describe("agent metrics", () => {
    it("reads a histogram's cumulative buckets and a gauge", () => {
        const h = parseHistogram(text([10, 20, 30, 40, 40]), "agent_llm_latency_seconds")!;
        expect(h.buckets.map((b) => b.le)).to.deep.equal([0.5, 1, 2, 5, Infinity]);
        expect(h.count).to.equal(40);
        expect(parseGauge(text([1, 1, 1, 1, 1]), "agent_conversations_active")).to.equal(42);
        expect(parseHistogram("agent_up 1", "agent_llm_latency_seconds")).to.equal(undefined);
        expect(parseGauge("", "agent_conversations_active")).to.equal(undefined);
    });

    it("computes quantiles like histogram_quantile: linear inside the bucket, exact at a bound", () => {
        const h = parseHistogram(text([50, 80, 95, 100, 100]), "agent_llm_latency_seconds")!;
        expect(quantile(h, 0.5)).to.equal(0.5);
        expect(quantile(h, 0.95)).to.equal(2); // exactly 95 of 100 took at most 2 s
        expect(quantile(h, 0.9)).to.be.closeTo(1 + (10 / 15) * 1, 1e-9);
        expect(quantile(h, 0.99)).to.be.closeTo(2 + (4 / 5) * 3, 1e-9);
    });

    it("puts a quantile in the +Inf bucket at the highest finite bound, and has none without observations", () => {
        const slow = parseHistogram(text([0, 0, 0, 1, 20]), "agent_llm_latency_seconds")!;
        expect(quantile(slow, 0.95)).to.equal(5);
        expect(quantile(parseHistogram(text([0, 0, 0, 0, 0]), "agent_llm_latency_seconds")!, 0.95)).to.equal(undefined);
    });

    it("subtracts an earlier reading (the window's own observations); a restarted agent counts whole", () => {
        const a = parseHistogram(text([100, 100, 100, 100, 100]), "agent_llm_latency_seconds")!;
        const b = parseHistogram(text([100, 100, 100, 110, 120]), "agent_llm_latency_seconds")!;
        const d = histogramDelta(a, b);
        expect(d.buckets.map((x) => x.count)).to.deep.equal([0, 0, 0, 10, 20]);
        expect(d.count).to.equal(20);
        expect(quantile(d, 0.5)).to.equal(5);
        expect(histogramDelta(b, a)).to.equal(a);
        expect(histogramDelta(undefined, a)).to.equal(a);
    });
});
