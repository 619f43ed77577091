// Canary decisions: step weights, step lists, and the canary compared with stable.
import { expect } from "chai";
import { compareWithStable, LATENCY_NOISE_MS, stepProblems, stepWeights } from "../../core/canary";

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
