import { expect } from "chai";
import { assignLanes } from "../lanes";

describe("the test command's lanes", () => {
    it("puts the longest file first on the least loaded lane, keeping each lane's files in the order given", () => {
        const seconds = { a: 100, b: 90, c: 60, d: 40, e: 5 };
        const lanes = assignLanes(["a", "b", "c", "d", "e", "f"], 2, seconds);
        // a(100) | b(90); c(60) to b's lane (150); f(60, unmeasured) to a's (160); d(40) to b's (190); e(5) to a's (165).
        expect(lanes).to.deep.equal([
            ["a", "e", "f"],
            ["b", "c", "d"],
        ]);
        // Unmeasured: a unit test file weighs 1 s, a real-engine suite 60 s.
        expect(assignLanes(["test/unit/u.test.ts", "test/integration/new.test.ts", "big"], 2, { big: 50 })).to.deep.equal([
            ["test/integration/new.test.ts"],
            ["test/unit/u.test.ts", "big"],
        ]);
    });

    it("one lane keeps every file in order; more lanes than files leave none empty; a bad count is refused", () => {
        expect(assignLanes(["x", "y"], 1, {})).to.deep.equal([["x", "y"]]);
        expect(assignLanes(["x"], 3, {})).to.deep.equal([["x"]]);
        expect(() => assignLanes(["x"], 0)).to.throw(/--lanes must be a whole number from 1/);
    });
});
