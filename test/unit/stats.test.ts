// Nearest-rank percentiles, as the latency figures of the load client use them.
import { expect } from "chai";
import { percentile } from "../../load/stats";

describe("percentiles", () => {
    it("takes the nearest rank: p50 of 1..10 is 5, p99 is 10, p100 the maximum", () => {
        const v = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
        expect(percentile(v, 50)).to.equal(5);
        expect(percentile(v, 99)).to.equal(10);
        expect(percentile(v, 100)).to.equal(10);
        expect(percentile(v, 10)).to.equal(1);
    });

    it("gives nothing for no values, and the value itself for one", () => {
        expect(percentile([], 50)).to.equal(undefined);
        expect(percentile([42], 99)).to.equal(42);
    });
});
