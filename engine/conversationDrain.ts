// Before a release retires, the conversations under way on it finish there. The rule
// (docs/agent-contract.md, the drain's rule): on a messaging channel a conversation is a series of exchanges,
// each a customer's message and the agent's answer; the customer's next message comes after
// they read the answer and type. A conversation not answered within
// proxy.conversations.quietSeconds is between exchanges: its customer put the phone down,
// and their next message is a new exchange. So the old release has no conversation left
// when none pinned to it is talking (the proxy's talking table for its slot is empty), and
// the switch waits for that, at most the drain. Those still pinned then are unpinned: they
// move to the new release at their next message, and the retired slot's counts start from
// nothing when it takes the next release. The result counts them, and those moved while
// still talking (cut by the drain's limit). A proxy config of an earlier version, without
// the talking table, keeps the earlier rule: wait until no conversation is pinned.
import type { Slot, SwitchResult } from "../contracts/switchContract";
import type { Pinned } from "../core/conversationTables";
import { type ProxyAdmin, type Clock } from "./ports";

/** How often the drain looks at the proxy's count tables. */
export const CONVERSATION_POLL_MS = 1000;

export type ConversationDrain = NonNullable<SwitchResult["retirement"]>["conversations"];

/** The conversations the drain still waits for (pure): those talking, or every pin where the proxy does not count talking. */
export function stillUnderWay(p: Pinned): number {
    return p.talking ?? p.count;
}

export async function drainConversations(
    admin: Pick<ProxyAdmin, "pinned" | "unpinConversations">,
    from: Slot,
    to: Slot,
    limitMs: number,
    run: { clock: Clock; log(message: string): void; checkpoint(phase: string): void },
): Promise<ConversationDrain> {
    const { clock, log } = run;
    let pinned = await admin.pinned(from);
    const start = clock.now();
    if (stillUnderWay(pinned) > 0)
        log(
            pinned.talking === undefined
                ? `waiting for ${pinned.count} conversations pinned to ${from} (${pinned.underWay} with more than one message) to go idle (at most ${limitMs / 1000}s)`
                : `waiting for ${pinned.talking} of the ${pinned.count} conversations pinned to ${from} to end their exchange (answered within quietSeconds; at most ${limitMs / 1000}s)`,
        );
    while (stillUnderWay(pinned) > 0 && clock.now() - start < limitMs) {
        run.checkpoint("the conversation drain");
        await clock.sleep(CONVERSATION_POLL_MS);
        pinned = await admin.pinned(from);
    }
    const drain = {
        waitedMs: clock.now() - start,
        moved: pinned.count,
        movedUnderWay: pinned.underWay,
        movedTalking: Math.min(stillUnderWay(pinned), pinned.count),
    };
    if (pinned.count > 0) await admin.unpinConversations(from);
    if (drain.waitedMs > 0 || pinned.count > 0)
        log(
            `conversation drain: ${Math.round(drain.waitedMs / 100) / 10}s, ${pinned.count} still pinned (they move to ${to}; ${pinned.underWay} of them had more than one message, ${drain.movedTalking} were still talking)`,
        );
    return drain;
}
