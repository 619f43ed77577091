// The canary cohort per step: which new conversations count, and the stated tolerance.
import { expect } from "chai";
import type { LoadReport } from "../../load/client";
import { stepShares } from "../../load/cohorts";

type Log = LoadReport["conversationLog"];

/** n conversations begun evenly between `from` and `to`, `perHundredOnCanary` of each 100 on the canary, spread out. */
function begun(from: number, to: number, n: number, perHundredOnCanary: number): Log {
    return Array.from({ length: n }, (_, i) => ({
        startedAt: from + Math.floor(((to - from) * i) / n),
        release: Math.floor(((i + 1) * perHundredOnCanary) / 100) > Math.floor((i * perHundredOnCanary) / 100) ? "v2" : "v1",
        verdict: "completed" as const,
    }));
}

describe("canary cohorts per step", () => {
    const steps = [
        { weight: 5, startedAt: 10_000 },
        { weight: 50, startedAt: 20_000 },
        { weight: 100, startedAt: 30_000 },
    ];

    it("counts the conversations begun inside each step (not at its edges) and the share the canary took", () => {
        const log = [...begun(10_000, 20_000, 200, 5), ...begun(20_000, 30_000, 200, 50), ...begun(30_000, 31_000, 10, 100)];
        const shares = stepShares(log, steps, "v2");
        expect(shares.map((s) => s.weight)).to.deep.equal([5, 50]);
        // 200 begun per step, those within 300 ms of a weight change left out.
        expect(shares[0].conversations).to.equal(188);
        expect(shares[0].sharePercent).to.be.closeTo(5, 1);
        expect(shares[1].sharePercent).to.be.closeTo(50, 1);
        expect(shares.every((s) => s.withinTolerance)).to.equal(true);
    });

    it("states a tolerance of 3 binomial standard deviations plus 2 points, and fails a share outside it", () => {
        const log = [...begun(10_000, 20_000, 100, 25), ...begun(20_000, 30_000, 100, 50)];
        const [five, fifty] = stepShares(log, steps, "v2", 0);
        expect(five.tolerancePercent).to.equal(8.5); // 300 * sqrt(0.05 * 0.95 / 100) + 2
        expect(five.sharePercent).to.equal(25);
        expect(five.withinTolerance).to.equal(false);
        expect(fifty.tolerancePercent).to.equal(17);
        expect(fifty.withinTolerance).to.equal(true);
    });

    it("a step in which no conversation began is not within tolerance", () => {
        expect(stepShares([], steps, "v2")[0]).to.include({ conversations: 0, withinTolerance: false });
    });
});
