// A slot on Docker Swarm: not one HAProxy server but a server template, the servers
// <slot>1..<slot>N resolving the release service's tasks (tasks.<service>) through
// Docker's DNS; each running task fills one server. What one node's proxy answers about
// them, read into the one-host shapes the switch works with (pure; platform/swarm/nodeProxy.ts
// sends the commands).
import type { SlotConnections } from "../../haproxy/admin";
import { SLOTS, type Slot } from "../../contracts/switchContract";
import { type SlotState } from "../../core/slots";

/** Servers per slot template: room for every task of a release and as many again being rescheduled. */
export function slotServers(replicas: number): number {
    return 2 * replicas;
}

/** One server of a slot's template, from `show servers state`. */
export interface TemplateServer {
    slot: Slot;
    /** blue1, blue2, ... */
    name: string;
    id: number;
    /** The task's address, or "-" while the server has none. */
    address: string;
    up: boolean;
    /** Forced or configured into maintenance, or without an address (0x23 of srv_admin_state). */
    maint: boolean;
    weight: number;
    fqdn: string;
}

/** The slot a template server belongs to: blue3 -> blue. */
export function slotOfServer(name: string): Slot | undefined {
    const m = /^(blue|green)\d+$/.exec(name);
    return m ? (m[1] as Slot) : undefined;
}

/** `show servers state <backend>` into every template server, by slot (fields by position, HAProxy 2.x). */
export function parseTemplateServers(out: string): Record<Slot, TemplateServer[]> {
    const result: Record<Slot, TemplateServer[]> = { blue: [], green: [] };
    for (const line of out.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length < 18 || line.startsWith("#")) continue;
        const slot = slotOfServer(f[3]);
        if (!slot) continue;
        const admin = Number(f[6]);
        result[slot].push({
            slot,
            name: f[3],
            id: Number(f[2]),
            address: f[4],
            up: Number(f[5]) === 2 && (admin & 0x23) === 0,
            maint: (admin & 0x23) !== 0,
            weight: Number(f[7]),
            fqdn: f[17],
        });
    }
    return result;
}

/** A slot of one proxy: the one-host slot state, how many of its servers are up, and their tasks' addresses (sorted). */
export type TemplateSlotState = SlotState & { upServers: number; addresses: string[] };

/**
 * A slot's servers as one slot: pointed at the template's name, up when at least `wantUp`
 * of its servers are (every task of the release, for the health gate), in maintenance when
 * none of them is in service, weighted as its first server (the switch weights them alike).
 */
export function templateSlot(slot: Slot, servers: TemplateServer[], wantUp: number): TemplateSlotState {
    if (servers.length === 0) throw new Error(`no servers ${slot}1..${slot}N in the proxy's agents backend`);
    const upServers = servers.filter((s) => s.up).length;
    return {
        addresses: servers
            .filter((s) => s.up)
            .map((s) => s.address)
            .sort(),
        slot,
        id: servers[0].id,
        fqdn: servers[0].fqdn,
        up: upServers >= Math.max(1, wantUp),
        maint: servers.every((s) => s.maint),
        weight: servers[0].weight,
        upServers,
    };
}

/** Both slots of one proxy (pure). */
export function templateSlots(out: string, wantUp: number): Record<Slot, TemplateSlotState> {
    const servers = parseTemplateServers(out);
    return Object.fromEntries(SLOTS.map((s) => [s, templateSlot(s, servers[s], wantUp)])) as Record<Slot, TemplateSlotState>;
}

/** `show servers conn <backend>` (HAProxy 2.6, columns named by its header) summed per slot over its servers. */
export function templateConnections(out: string): Record<Slot, Pick<SlotConnections, "used" | "idle">> {
    const result: Record<Slot, { used: number; idle: number }> = { blue: { used: 0, idle: 0 }, green: { used: 0, idle: 0 } };
    const lines = out.split("\n").filter((l) => l.trim());
    const header = lines.find((l) => l.startsWith("#"));
    if (!header) return result;
    const cols = header.replace(/^#\s*/, "").split(/\s+/);
    for (const line of lines.filter((l) => !l.startsWith("#"))) {
        const f = line.trim().split(/\s+/);
        const slot = slotOfServer(f[0].split("/")[1] ?? "");
        if (!slot) continue;
        result[slot].used += Number(f[cols.indexOf("used_cur")]) || 0;
        result[slot].idle += Number(f[cols.indexOf("idle_cur")]) || 0;
    }
    return result;
}

/** The backends a slot's template lives in: the agents backend (weights) and its probe backend (the switch's probes). */
export function slotBackends(slot: Slot): [string, string] {
    return ["agents", `probe_${slot}`];
}
