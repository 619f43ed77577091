// Canary decisions: step weights, step lists, and the canary compared with stable.
import { expect } from "chai";
import { compareAnswerSignal, compareWithStable, counterIncrease, LATENCY_NOISE_MS, stepProblems, stepWeights } from "../../core/canary";
import { parseCounter } from "../../core/agentMetrics";

const c = { maxErrorRateDeltaPercent: 1, maxLatencyRatio: 2, minRequests: 20 };

describe("canary decisions", () => {
    it("a step gives the canary its weight and stable the rest", () => {
        expect(stepWeights({ weight: 5, pauseSeconds: 3600 })).to.deep.equal({ canary: 5, stable: 95 });
        expect(stepWeights({ weight: 100, pauseSeconds: 0 })).to.deep.equal({ canary: 100, stable: 0 });
    });

    it("steps rise strictly and end at 100", () => {
        const blueprint = [5, 25, 50, 100].map((weight) => ({ weight, pauseSeconds: 3600 }));
        expect(stepProblems(blueprint)).to.deep.equal([]);
        expect(stepProblems([])).to.deep.equal(["give at least one step"]);
        expect(
            stepProblems([
                { weight: 25, pauseSeconds: 1 },
                { weight: 5, pauseSeconds: 1 },
            ]),
        ).to.deep.equal(["step 2: weight 5 must be above the previous step's 25", "the last step must have weight 100"]);
    });

    it("compares nothing on too few requests", () => {
        const r = compareWithStable(
            { requests: 19, errors5xx: 19, avgResponseMs: 9000 },
            { requests: 500, errors5xx: 0, avgResponseMs: 10 },
            c,
        );
        expect(r.map((m) => m.status)).to.deep.equal(["inconclusive", "inconclusive"]);
    });

    it("fails a canary much worse than stable even under the absolute limits", () => {
        // 0.9% 5xx is under a 1% absolute limit, but stable has none: within 1 point, passes.
        const ok = compareWithStable(
            { requests: 1000, errors5xx: 9, avgResponseMs: 30 },
            { requests: 1000, errors5xx: 0, avgResponseMs: 20 },
            c,
        );
        expect(ok.map((m) => m.status)).to.deep.equal(["ok", "ok"]);
        const slow = compareWithStable(
            { requests: 100, errors5xx: 0, avgResponseMs: 900 },
            { requests: 1000, errors5xx: 0, avgResponseMs: 300 },
            c,
        );
        expect(slow[1]).to.deep.include({ status: "breach" });
        expect(slow[1].message).to.equal("canary average response time 900 ms is 3.0 x stable's 300 ms (allowed: 2 x)");
        const errors = compareWithStable(
            { requests: 100, errors5xx: 3, avgResponseMs: 20 },
            { requests: 1000, errors5xx: 5, avgResponseMs: 20 },
            {
                ...c,
                maxErrorRateDeltaPercent: 2,
            },
        );
        expect(errors[0].message).to.equal("canary 5xx rate 3.0% is 2.5 points above stable's 0.5% (allowed: 2)");
    });

    it("a latency ratio over a small difference is noise, not a breach", () => {
        const fast = compareWithStable(
            { requests: 100, errors5xx: 0, avgResponseMs: 9 },
            { requests: 1000, errors5xx: 0, avgResponseMs: 3 },
            c,
        );
        expect(fast[1]).to.deep.include({ status: "ok" });
        const slower = compareWithStable(
            { requests: 100, errors5xx: 0, avgResponseMs: 3 + 2 * LATENCY_NOISE_MS },
            { requests: 1000, errors5xx: 0, avgResponseMs: 3 },
            c,
        );
        expect(slower[1]).to.deep.include({ status: "breach" });
    });
});

describe("the canary's answer signal against stable (release.canary.answerSignal)", () => {
    const s = { metric: "agent_fallback_answers_total", maxDeltaPercent: 5, minRequests: 20 };

    it("a canary that falls back much more often than stable breaches, naming both rates and the allowance", () => {
        const r = compareAnswerSignal({ requests: 100, count: 30 }, { requests: 200, count: 4 }, s);
        expect(r.status).to.equal("breach");
        expect(r.message).to.equal(
            "canary agent_fallback_answers_total 30.0 per 100 requests (30 in 100), stable 2.0 (4 in 200): 28.0 above (allowed: 5)",
        );
        expect(compareAnswerSignal({ requests: 100, count: 6 }, { requests: 200, count: 4 }, s).status).to.equal("ok");
    });

    it("too few requests is inconclusive; a release without the counter is said, not passed silently", () => {
        expect(compareAnswerSignal({ requests: 5, count: 5 }, { requests: 200, count: 0 }, s).status).to.equal("inconclusive");
        const none = compareAnswerSignal({ requests: 100, count: undefined }, { requests: 200, count: 0 }, s);
        expect(none).to.deep.equal({
            metric: "answer-signal",
            status: "no-data",
            message: "the canary exports no agent_fallback_answers_total",
        });
    });

    it("the counter: summed over its labels, its increase between readings, a restart counted whole", () => {
        const text = '# TYPE x_total counter\nx_total{reason="none"} 3\nx_total{reason="handoff"} 4\nx_total_other 9\n';
        expect(parseCounter(text, "x_total")).to.equal(7);
        expect(parseCounter("y 1\n", "x_total")).to.equal(undefined);
        expect(counterIncrease(7, 10)).to.equal(3);
        expect(counterIncrease(7, 2)).to.equal(2);
        expect(counterIncrease(undefined, 4)).to.equal(4);
        expect(counterIncrease(3, undefined)).to.equal(undefined);
    });
});
