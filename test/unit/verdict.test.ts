// The verification verdict as a table: samples against thresholds.
import { expect } from "chai";
import { badHealth, CONVERSATION_BREACH_STREAK, conversationDrop, conversationSample, judge, Sample } from "../../core/verdict";
import { switchInput } from "../support/switchInput";

const T = switchInput({
    thresholds: { maxErrorRatePercent: 1, maxLatencyMs: 5000, maxHealthResponseMs: 500, maxMemoryPercent: 90, minRequests: 20 },
}).thresholds;
const llm = (p95Ms: number, answers = 50) => ({ llm: { p95Ms, answers } });
const mem = (percent: number) => ({ memory: { percent, usedMb: Math.round(percent * 5.12), limitMb: 512 } });
const healthy = { code: 200, ms: 5, failedChecks: "", badStreak: 0 };
const sample = (s: Partial<Omit<Sample, "health">> & { health?: Partial<Sample["health"]> }): Sample => ({
    requests: 100,
    errors5xx: 0,
    avgResponseMs: 50,
    ...s,
    health: { ...healthy, ...s.health },
});

describe("verification verdict", () => {
    const table: [string, Sample, string | null][] = [
        ["a clean sample passes", sample({}), null],
        ["no traffic yet: rate and latency inconclusive, not failed", sample({ requests: 0, errors5xx: 0, avgResponseMs: 0 }), null],
        ["below the minimum sample even with every request failing", sample({ requests: 19, errors5xx: 19 }), null],
        ["at the minimum sample the rate is judged", sample({ requests: 20, errors5xx: 1 }), "error-rate"],
        ["5xx rate exactly at the threshold passes", sample({ requests: 100, errors5xx: 1 }), null],
        ["5xx rate just over the threshold fails", sample({ requests: 1000, errors5xx: 11 }), "error-rate"],
        ["latency exactly at the threshold passes", sample({ avgResponseMs: 5000 }), null],
        ["latency over the threshold fails", sample({ avgResponseMs: 5001 }), "latency"],
        ["/health failing twice in a row is not yet a breach", sample({ health: { code: 503, badStreak: 2 } }), null],
        ["/health failing three times in a row is", sample({ health: { code: 503, badStreak: 3 } }), "health"],
        ["/health slow three times in a row", sample({ health: { ms: 501, badStreak: 3 } }), "health-response-time"],
        ["/health exactly at its threshold passes", sample({ health: { ms: 500, badStreak: 0 } }), null],
        ["LLM p95 at the threshold passes", sample(llm(5000)), null],
        ["LLM p95 over the threshold fails, whatever HAProxy's average", sample({ ...llm(5001), avgResponseMs: 10 }), "latency"],
        ["LLM p95 on too few answers is not judged", sample(llm(9000, 19)), null],
        ["memory at the threshold passes", sample(mem(90)), null],
        ["memory over the threshold fails", sample(mem(90.5)), "memory"],
        ["conversations 20 % below the baseline pass", sample({ conversations: { active: 80, baseline: 100, dropStreak: 0 } }), null],
        [
            "a drop of more than 20 % in one reading is not yet a breach",
            sample({ conversations: { active: 79, baseline: 100, dropStreak: 1 } }),
            null,
        ],
        ["in two readings in a row it is", sample({ conversations: { active: 79, baseline: 100, dropStreak: 2 } }), "conversations"],
        ["a drop on too small a baseline is not judged", sample({ conversations: { active: 0, baseline: 49, dropStreak: 2 } }), null],
        ["more conversations than before is no breach", sample({ conversations: { active: 300, baseline: 100, dropStreak: 0 } }), null],
    ];
    for (const [title, s, metric] of table) {
        it(title, () => {
            const v = judge(s, T);
            if (metric === null) expect(v.ok, JSON.stringify(v)).to.equal(true);
            else expect(v.ok ? "ok" : v.breach.metric).to.equal(metric);
        });
    }

    it("a drop of active conversations is a drop from minConversations on and over the threshold; one reading of it is a warning", () => {
        expect(conversationDrop({ active: 79, baseline: 100 }, T)).to.equal(true);
        expect(conversationDrop({ active: 80, baseline: 100 }, T)).to.equal(false);
        expect(conversationDrop({ active: 0, baseline: T.minConversations - 1 }, T)).to.equal(false);
        expect(conversationDrop({ active: 0, baseline: null }, T)).to.equal(false);
        // A reading with a drop goes on from the previous streak; one without starts it again.
        expect(conversationSample({ active: 79, baseline: 100 }, 1, T)).to.deep.equal({ active: 79, baseline: 100, dropStreak: 2 });
        expect(conversationSample({ active: 95, baseline: 100 }, 1, T)).to.deep.equal({ active: 95, baseline: 100, dropStreak: 0 });
        expect(conversationSample(null, 1, T)).to.equal(null);
        const once = judge(sample({ conversations: { active: 30, baseline: 120, dropStreak: 1 } }), T);
        expect(once.results.find((r) => r.metric === "conversations")).to.deep.equal({
            metric: "conversations",
            status: "warn",
            message: `30 active conversations, 120 before the flip (-75.0%): a drop of 75.0% exceeds threshold 20% by 55.0 points in 1 reading(s) in a row; ${CONVERSATION_BREACH_STREAK} in a row is a breach`,
        });
    });

    it("a breach message names the metric, the value, the threshold and by how much", () => {
        const v = judge(sample({ requests: 200, errors5xx: 10 }), T);
        expect(v.ok ? "" : v.breach.message).to.equal("5xx rate 5.0% (10 of 200 requests) exceeds threshold 1% by 4.0 points");
        const l = judge(sample({ avgResponseMs: 6200 }), T);
        expect(l.ok ? "" : l.breach.message).to.equal(
            "average response time 6200 ms exceeds threshold 5000 ms by 1200 ms (no LLM latency measured; HAProxy's average response time judged instead)",
        );
        const p = judge(sample(llm(6100, 34)), T);
        expect(p.ok ? "" : p.breach.message).to.equal("LLM latency p95 6100 ms (34 answers) exceeds threshold 5000 ms by 1100 ms");
        const c = judge(sample({ conversations: { active: 30, baseline: 120, dropStreak: 2 } }), T);
        expect(c.ok ? "" : c.breach.message).to.equal(
            "30 active conversations, 120 before the flip (-75.0%): a drop of 75.0% exceeds threshold 20% by 55.0 points (2 readings in a row)",
        );
        const m = judge(sample(mem(95)), T);
        expect(m.ok ? "" : m.breach.message).to.equal("memory 95.0% (486 MB of the 512 MB limit) exceeds threshold 90% by 5.0 points");
        const h = judge(sample({ health: { code: 503, failedChecks: "failed checks: llm (timeout)", badStreak: 3 } }), T);
        expect(h.ok ? "" : h.breach.message).to.equal("health check failed 3 time(s) in a row (last 503: failed checks: llm (timeout))");
    });

    it("says why a metric was not judged", () => {
        const v = judge(sample({ requests: 4 }), T);
        expect(v.results.find((r) => r.metric === "error-rate")).to.deep.equal({
            metric: "error-rate",
            status: "inconclusive",
            message: "4 of the 20 requests needed to judge",
        });
    });

    it("a /health probe is bad when it is not 200 or slower than the threshold", () => {
        expect(badHealth({ code: 200, ms: 500 }, T)).to.equal(false);
        expect(badHealth({ code: 200, ms: 501 }, T)).to.equal(true);
        expect(badHealth({ code: 0, ms: 0 }, T)).to.equal(true);
    });

    it("outside the blueprint's acceptable ranges a release passes with warnings", () => {
        const v = judge(sample({ requests: 1000, errors5xx: 5, health: { ms: 300 }, ...llm(2500), ...mem(85) }), T);
        expect(v.ok).to.equal(true);
        expect(v.results.map((r) => [r.metric, r.status])).to.deep.equal([
            ["health", "ok"],
            ["health-response-time", "warn"],
            ["error-rate", "warn"],
            ["latency", "warn"],
            ["memory", "warn"],
            ["conversations", "no-data"],
        ]);
        expect(v.results.find((r) => r.metric === "latency")!.message).to.equal(
            "LLM latency p95 2500 ms (50 answers) (above the acceptable 2000 ms)",
        );
    });

    it("says which data is missing instead of passing silently", () => {
        const v = judge(sample({ llm: null, memory: null }), T);
        expect(v.ok).to.equal(true);
        expect(v.results.find((r) => r.metric === "memory")).to.deep.include({ status: "no-data" });
        expect(v.results.find((r) => r.metric === "latency")!.message).to.equal(
            "average response time 50 ms (the agent exposes no LLM latency histogram; HAProxy's average response time judged instead)",
        );
    });
});
