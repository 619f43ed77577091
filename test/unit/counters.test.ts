// Counts from two or more readings of a proxy's counters, across a restart of the counters
// (a proxy reload or hand-over): never a negative count (the CI run of stop 46 printed
// "-6968 of the 20 requests needed to judge" after a reload in the status view's interval).
import { expect } from "chai";
import { countsSince, CountsOverWindow, SummedCounters } from "../../core/counters";

describe("proxy counters", () => {
    it("counts the difference of two readings", () => {
        expect(countsSince({ req: 100, err5xx: 2 }, { req: 130, err5xx: 3 })).to.deep.equal({
            counts: { req: 30, err5xx: 1 },
            restarted: false,
        });
    });

    it("counts nothing without an earlier reading", () => {
        expect(countsSince(undefined, { req: 130, err5xx: 3 })).to.deep.equal({ counts: { req: 0, err5xx: 0 }, restarted: false });
    });

    it("a reading below the one before is a restart: the counts since it are the reading itself", () => {
        expect(countsSince({ req: 7000, err5xx: 4 }, { req: 32, err5xx: 0 })).to.deep.equal({
            counts: { req: 32, err5xx: 0 },
            restarted: true,
        });
        // One counter going back is enough (the other may have grown past its old value).
        expect(countsSince({ req: 10, err5xx: 4 }, { req: 50, err5xx: 1 }).counts).to.deep.equal({ req: 50, err5xx: 1 });
    });

    it("a window read many times adds each interval, across a restart, and never goes back", () => {
        const w = new CountsOverWindow({ req: 1000, err5xx: 10 });
        expect(w.add({ req: 1100, err5xx: 10 })).to.deep.equal({ req: 100, err5xx: 0 });
        // The reload: the new worker counted 40 requests and 1 5xx since it started.
        expect(w.add({ req: 40, err5xx: 1 })).to.deep.equal({ req: 140, err5xx: 1 });
        // Past the old worker's count again: still counted from the last reading, not the window's start.
        expect(w.add({ req: 1500, err5xx: 1 })).to.deep.equal({ req: 1600, err5xx: 1 });
        expect(w.counts).to.deep.equal({ req: 1600, err5xx: 1 });
        expect(w.restartCount).to.equal(1);
    });

    it("a window's start is not changed by later readings (its counts are copies)", () => {
        const start = { req: 5, err5xx: 0 };
        const w = new CountsOverWindow(start);
        const c = w.add({ req: 9, err5xx: 0 });
        c.req = 999;
        expect(w.counts).to.deep.equal({ req: 4, err5xx: 0 });
        expect(start).to.deep.equal({ req: 5, err5xx: 0 });
    });

    it("several sources summed: one source's restart counts from its new start, and the sum never goes back", () => {
        const c = new SummedCounters({ req: 0, err5xx: 0 });
        c.add("n1", { req: 5000, err5xx: 7 });
        c.add("n2", { req: 3000, err5xx: 2 });
        expect(c.sum(["n1", "n2"])).to.deep.equal({ req: 8000, err5xx: 9 });
        // n2's proxy starts again and serves 40; n1 serves 100 more.
        c.add("n1", { req: 5100, err5xx: 7 });
        c.add("n2", { req: 40, err5xx: 1 });
        // Summing the readings (5140) would read as a restart of everything, or, had n1 grown
        // past 8000, hide n2's restart; each source's own difference is 140 requests, 1 5xx.
        expect(c.sum(["n1", "n2"])).to.deep.equal({ req: 8140, err5xx: 10 });
        const w = new CountsOverWindow({ req: 8000, err5xx: 9 });
        expect(w.add(c.sum(["n1", "n2"]))).to.deep.equal({ req: 140, err5xx: 1 });
        expect(w.restartCount).to.equal(0);
    });

    it("a source never read adds nothing, and the names are the zero's", () => {
        const c = new SummedCounters({ requests: 0, errors5xx: 0 });
        expect(c.sum(["n1"])).to.deep.equal({ requests: 0, errors5xx: 0 });
        c.add("n1", { requests: 3, errors5xx: 0 });
        expect(c.sum(["n1", "n9"])).to.deep.equal({ requests: 3, errors5xx: 0 });
    });
});
