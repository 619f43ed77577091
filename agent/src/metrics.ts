// Prometheus text exposition for the agent's own counters and histograms.
// 2 and 5 s are the blueprint's LLM latency levels (acceptable, alert): a gate on a bucket bound is exact.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30];

class Histogram {
    counts = BUCKETS.map(() => 0);
    sum = 0;
    count = 0;
    observe(seconds: number): void {
        this.sum += seconds;
        this.count++;
        BUCKETS.forEach((b, i) => {
            if (seconds <= b) this.counts[i]++;
        });
    }
    render(name: string, help: string): string {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
        BUCKETS.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
        lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum.toFixed(6)}`, `${name}_count ${this.count}`);
        return lines.join("\n");
    }
}

export class Metrics {
    private requests = new Map<string, number>();
    readonly requestDuration = new Histogram();
    readonly llmLatency = new Histogram();
    activeConversations = 0;
    /** Answers the knowledge base had nothing for (the answer-signal gate's example counter). */
    fallbackAnswers = 0;

    countRequest(status: number): void {
        const key = String(status);
        this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    }

    render(extra: Record<string, number>): string {
        const out = ["# HELP agent_http_requests_total HTTP requests by status code.", "# TYPE agent_http_requests_total counter"];
        for (const [status, n] of [...this.requests].sort()) out.push(`agent_http_requests_total{status="${status}"} ${n}`);
        out.push(this.requestDuration.render("agent_http_request_duration_seconds", "HTTP request latency."));
        out.push(this.llmLatency.render("agent_llm_latency_seconds", "Time to produce an answer from the LLM backend."));
        out.push(
            "# HELP agent_fallback_answers_total Chat answers the knowledge base had no passage for.",
            "# TYPE agent_fallback_answers_total counter",
            `agent_fallback_answers_total ${this.fallbackAnswers}`,
        );
        out.push(
            "# HELP agent_active_conversations Chat requests in flight.",
            "# TYPE agent_active_conversations gauge",
            `agent_active_conversations ${this.activeConversations}`,
        );
        const mem = process.memoryUsage();
        out.push(
            "# HELP agent_memory_rss_bytes Resident memory.",
            "# TYPE agent_memory_rss_bytes gauge",
            `agent_memory_rss_bytes ${mem.rss}`,
        );
        for (const [k, v] of Object.entries(extra)) out.push(`# TYPE ${k} gauge`, `${k} ${v}`);
        return out.join("\n") + "\n";
    }
}
