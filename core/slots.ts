// The two slots of the proxy's agents backend: blue and green. A module of its own, with no
// imports, so that the programs that must start fast (npm run abort) load nothing more.
export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];

/** A slot as the proxy has it. */
export interface SlotState {
    slot: Slot;
    /** The proxy's server id (what its stick table records for a pinned conversation). */
    id: number;
    /** The address the slot points at: a release's container (or service) name. */
    fqdn: string;
    /** The proxy's own health check sees it running. */
    up: boolean;
    /** In maintenance (no traffic, no checks). */
    maint: boolean;
    weight: number;
    /** The port the proxy reaches it on, and the address the fqdn resolved to ("-" before it resolved); one host only. */
    port?: number;
    address?: string;
}

/**
 * The slot that takes traffic: in service with a weight above 0; while a canary runs
 * (both take some), the one with the higher weight, and on a tie the one not pointed at
 * `unlessAt` (the release being brought up), so an interrupted canary starts over.
 */
export function liveSlot(slots: Record<Slot, SlotState>, unlessAt?: string): Slot | undefined {
    const serving = SLOTS.filter((s) => !slots[s].maint && slots[s].weight > 0);
    return serving.sort(
        (a, b) => slots[b].weight - slots[a].weight || Number(slots[a].fqdn === unlessAt) - Number(slots[b].fqdn === unlessAt),
    )[0];
}

/** The slot of a proxy server's name: "blue", or on Swarm a template's "blue3" (pure). */
export function slotOfServer(server: string | undefined): Slot | undefined {
    return SLOTS.find((s) => server === s || (server?.startsWith(s) && /^\d+$/.test(server.slice(s.length))));
}
