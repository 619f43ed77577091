// Before a release retires, the conversations pinned to it finish there: the switch waits
// until the proxy's stick table holds none for its slot (each entry expires after the
// conversation idle timeout), at most the drain. Those still pinned then are unpinned, so
// they move to the new release at their next message and the retired slot's counts start
// from nothing when it takes the next release; the result counts them.
import type { Slot, SwitchResult } from "../contracts/switchContract";
import { type ProxyAdmin, type Clock } from "./ports";

/** How often the drain looks at the proxy's stick table. */
export const CONVERSATION_POLL_MS = 1000;

export type ConversationDrain = NonNullable<SwitchResult["retirement"]>["conversations"];

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
    if (pinned.count > 0)
        log(
            `waiting for ${pinned.count} conversations pinned to ${from} (${pinned.underWay} with more than one message) to go idle (at most ${limitMs / 1000}s)`,
        );
    while (pinned.count > 0 && clock.now() - start < limitMs) {
        run.checkpoint("the conversation drain");
        await clock.sleep(CONVERSATION_POLL_MS);
        pinned = await admin.pinned(from);
    }
    const drain = { waitedMs: clock.now() - start, moved: pinned.count, movedUnderWay: pinned.underWay };
    if (pinned.count > 0) await admin.unpinConversations(from);
    if (drain.waitedMs > 0 || pinned.count > 0)
        log(
            `conversation drain: ${Math.round(drain.waitedMs / 100) / 10}s, ${pinned.count} still pinned (they move to ${to}; ${pinned.underWay} of them had more than one message)`,
        );
    return drain;
}
