// The reference agent's per-conversation memory: turns count up per conversation, and a
// conversation this release never saw (or forgot) starts at turn 1.
import { expect } from "chai";
import { Conversations } from "../../agent/src/conversations";

describe("agent conversation memory", () => {
    it("counts turns per conversation and remembers the previous question", () => {
        const c = new Conversations();
        expect(c.take("a", "hi")).to.deep.equal({ conversationId: "a", turn: 1, previousQuestion: null });
        expect(c.take("b", "hello")).to.deep.include({ turn: 1 });
        expect(c.take("a", "refunds?")).to.deep.equal({ conversationId: "a", turn: 2, previousQuestion: "hi" });
        expect(c.take("a", "thanks")).to.deep.include({ turn: 3, previousQuestion: "refunds?" });
        expect(c.active()).to.equal(2);
    });

    it("forgets a conversation idle for longer than the idle timeout", () => {
        let now = 0;
        const c = new Conversations(1000, 100, () => now);
        c.take("a", "hi");
        now = 900;
        expect(c.take("a", "again")).to.deep.include({ turn: 2 });
        now = 2000;
        expect(c.active()).to.equal(0);
        expect(c.take("a", "back")).to.deep.include({ turn: 1, previousQuestion: null });
    });

    it("knows a conversation it saw within the idle timeout, and no other", () => {
        let now = 0;
        const c = new Conversations(1000, 100, () => now);
        expect(c.knows("a")).to.equal(false);
        c.take("a", "hi");
        expect(c.knows("a")).to.equal(true);
        now = 1500;
        expect(c.knows("a")).to.equal(false);
    });

    it("keeps at most `max` conversations, forgetting the least recently used", () => {
        const c = new Conversations(60_000, 2);
        c.take("a", "1");
        c.take("b", "1");
        c.take("a", "2"); // a is now the most recent
        c.take("c", "1"); // evicts b
        expect(c.active()).to.equal(2);
        expect(c.take("b", "2")).to.deep.include({ turn: 1 });
    });
});
