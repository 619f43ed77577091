// The comparison benchmark's figures: one row per release, a spread per method.
import { expect } from "chai";
import { orderFor, spread, summarize, type ReleaseRow } from "../../bench/compare/summary";

const row = (method: string, failed: number, wallMs: number, switchMs?: number): ReleaseRow => ({
    method,
    rep: 0,
    release: "1.0.0 -> 2.0.0",
    requests: 1000,
    failed,
    streamsTruncated: 0,
    conversationsBroken: 0,
    conversationsFailed: 0,
    unavailableMs: failed ? 1200 : 0,
    switchMs,
    wallMs,
});

describe("comparison benchmark figures", () => {
    it("gives the median (lower middle), minimum and maximum", () => {
        expect(spread([5, 1, 3])).to.deep.equal({ median: 3, min: 1, max: 5 });
        expect(spread([4, 1, 3, 2])).to.deep.equal({ median: 2, min: 1, max: 4 });
        expect(spread([])).to.equal(undefined);
    });

    it("summarizes per method in first-seen order, leaving out figures a method does not have", () => {
        const s = summarize([row("naive", 400, 3000, 3000), row("ours", 0, 20000), row("naive", 380, 3100, 3100), row("ours", 0, 22000)]);
        expect(s.map((m) => [m.method, m.releases])).to.deep.equal([
            ["naive", 2],
            ["ours", 2],
        ]);
        expect(s[0].figures.failed).to.deep.equal({ median: 380, min: 380, max: 400 });
        expect(s[1].figures.failed).to.deep.equal({ median: 0, min: 0, max: 0 });
        expect(s[1].figures).to.not.have.property("switchMs");
    });

    it("rotates the order of the methods from one repetition to the next", () => {
        expect(orderFor(["a", "b", "c"], 0)).to.deep.equal(["a", "b", "c"]);
        expect(orderFor(["a", "b", "c"], 1)).to.deep.equal(["b", "c", "a"]);
        expect(orderFor(["a", "b", "c"], 4)).to.deep.equal(["b", "c", "a"]);
    });
});
