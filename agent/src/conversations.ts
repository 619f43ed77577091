// Per-conversation memory of the reference agent: a turn counter and the last question,
// in process. It makes a conversation that hops between releases visible: a release that
// never saw a conversation answers its next message as turn 1. Bounded: conversations
// idle for longer than `idleMs` are forgotten, and at most `max` are kept (oldest first).

export interface Turn {
    conversationId: string;
    /** 1 for the first message of a conversation this release has seen. */
    turn: number;
    /** The conversation's previous question, if this release saw one. */
    previousQuestion: string | null;
}

interface Memory {
    turns: number;
    lastQuestion: string;
    lastSeen: number;
}

export class Conversations {
    private readonly memory = new Map<string, Memory>();

    constructor(
        private readonly idleMs = 30 * 60_000,
        private readonly max = 100_000,
        private readonly now: () => number = Date.now,
    ) {}

    /** Records one message of `conversationId` and returns its turn. */
    take(conversationId: string, question: string): Turn {
        const t = this.now();
        const known = this.memory.get(conversationId);
        const fresh = !known || t - known.lastSeen > this.idleMs;
        const turn = fresh ? 1 : known.turns + 1;
        const previousQuestion = fresh ? null : known.lastQuestion;
        // Re-inserting keeps the Map in least-recently-used order.
        this.memory.delete(conversationId);
        this.memory.set(conversationId, { turns: turn, lastQuestion: question, lastSeen: t });
        this.evict(t);
        return { conversationId, turn, previousQuestion };
    }

    /** Whether this release remembers `conversationId` (a message of it within the idle timeout). */
    knows(conversationId: string): boolean {
        const known = this.memory.get(conversationId);
        return known !== undefined && this.now() - known.lastSeen <= this.idleMs;
    }

    /** Conversations active within the idle timeout. */
    active(): number {
        this.evict(this.now());
        return this.memory.size;
    }

    private evict(t: number): void {
        for (const [id, m] of this.memory) {
            if (this.memory.size <= this.max && t - m.lastSeen <= this.idleMs) break;
            this.memory.delete(id);
        }
    }
}
