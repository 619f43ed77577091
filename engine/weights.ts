// The one way the engine moves traffic: set the slots' weights in one admin session, in the
// order given (the slot that rises first, so no request finds both lower), then record them
// in the proxy's slot file, so a restarted proxy comes back with the same weights. Used by
// the flip, the flip back, a canary's steps and its abort.
import type { Slot } from "../core/slots";
import type { Clock, PersistedSlot, ProxyAdmin } from "./ports";

export interface SlotWeight {
    slot: Slot;
    /** Where the slot points (recorded in the slot file). */
    fqdn: string;
    weight: number;
    /** Put in maintenance after the weights moved (no traffic, no checks). */
    maint?: boolean;
    /** Recorded in the slot file only: its weight is not sent (an idle slot on a first deploy). */
    recordOnly?: boolean;
}

/**
 * Sets the weights, runs `afterWeights` (what must happen before the slot file changes:
 * unpinning a failed release's conversations), puts the slots marked so in maintenance and
 * persists both. Resolves to when the weights were set and how long setting them took.
 */
export async function setWeights(
    admin: ProxyAdmin,
    clock: Clock,
    slots: SlotWeight[],
    afterWeights?: () => Promise<void>,
): Promise<{ at: number; ms: number }> {
    const start = clock.now();
    await admin.setWeights(...slots.filter((s) => !s.recordOnly).map((s): [Slot, number] => [s.slot, s.weight]));
    const at = clock.now();
    await afterWeights?.();
    for (const s of slots) if (s.maint && !s.recordOnly) await admin.maint(s.slot).catch(() => undefined);
    await admin.persist(
        Object.fromEntries(slots.map((s) => [s.slot, { fqdn: s.fqdn, weight: s.weight, maint: s.maint ?? false }])) as Record<
            Slot,
            PersistedSlot
        >,
    );
    return { at, ms: at - start };
}
