// Conversation counts the proxy keeps as aggregates, so that no reading streams the
// stick table. The pinning table (the agents backend's) holds one entry per pinned
// conversation; beside it, per slot, four count tables that the proxy fills as it
// answers (proxy/haproxy.cfg.tmpl): a conversation answered by the slot (pinned), one
// answered 200 (active), one answered more than once (under way), and one answered
// within proxy.conversations.quietSeconds (talking: its entry expires sooner). HAProxy prints
// each table's size and entry count in the header line of `show table` (with no table
// named: one line per table), so a count is one short line whatever the traffic.
import { SLOTS, type Slot } from "./slots";

/** The count tables of a slot, as the config templates name them. */
export function countTables(slot: Slot): { pinned: string; active: string; underWay: string; talking: string } {
    return {
        pinned: `zdt_pinned_${slot}`,
        active: `zdt_active_${slot}`,
        underWay: `zdt_underway_${slot}`,
        talking: `zdt_talking_${slot}`,
    };
}

/** A table's header in `show table`: "# table: agents, type: string, size:204800, used:12". */
export interface TableSummary {
    size: number;
    used: number;
}

/** `show table` (no table named) into each table's size and entry count. */
export function parseTableSummaries(out: string): Map<string, TableSummary> {
    const tables = new Map<string, TableSummary>();
    for (const line of out.split("\n")) {
        const m = /^# table: ([^,\s]+),.*\bsize:(\d+), used:(\d+)/.exec(line.trim());
        if (m) tables.set(m[1], { size: Number(m[2]), used: Number(m[3]) });
    }
    return tables;
}

/** Conversations pinned to a slot, how many of them have had more than one message, and how many are talking. */
export interface Pinned {
    count: number;
    underWay: number;
    /** Answered within proxy.conversations.quietSeconds; undefined for a template of an earlier version (no such table). */
    talking?: number;
}

/** A slot's pinned conversations from the count tables (none when a template has no count tables: it counts nothing). */
export function pinnedOf(tables: Map<string, TableSummary>, slot: Slot): Pinned {
    const t = countTables(slot);
    const talking = tables.get(t.talking)?.used;
    return {
        count: tables.get(t.pinned)?.used ?? 0,
        underWay: tables.get(t.underWay)?.used ?? 0,
        ...(talking === undefined ? {} : { talking }),
    };
}

/** Active conversations of a slot, or of both together; undefined when the template does not count them. */
export function activeOf(tables: Map<string, TableSummary>, slot?: Slot): number | undefined {
    const counts = (slot ? [slot] : SLOTS).map((s) => tables.get(countTables(s).active)?.used);
    return counts.some((c) => c === undefined) ? undefined : counts.reduce((a: number, c) => a + (c ?? 0), 0);
}

/** The pinning table's fill: how close HAProxy is to evicting pinned conversations. */
export interface TableFill {
    size: number;
    used: number;
    /** used / size, in percent (one decimal). */
    percent: number;
}

/** Fill at or above which a pin may be evicted soon (HAProxy evicts the oldest entries of a full table). */
export const FILL_WARN_PERCENT = 90;

export function fillOf(tables: Map<string, TableSummary>, table: string): TableFill | undefined {
    const t = tables.get(table);
    if (!t || t.size <= 0) return undefined;
    return { size: t.size, used: t.used, percent: Math.round((t.used / t.size) * 1000) / 10 };
}

/** The fuller of two readings (a release keeps its peak). */
export function fuller(a: TableFill | undefined, b: TableFill | undefined): TableFill | undefined {
    if (!a || !b) return a ?? b;
    return b.percent > a.percent ? b : a;
}

/**
 * Full: HAProxy 2.6 evicts the oldest entries when a new one does not fit, a batch of
 * size/256 + 1 at a time (stktable_trash_oldest), so a full table reads just below its size.
 */
export function isFull(fill: TableFill): boolean {
    return fill.used >= fill.size - Math.floor(fill.size / 256) - 1;
}

/** The table's fill in words: its entries, and from 90 % what that means and what to do. */
export function describeFill(fill: TableFill): string {
    const entries = `${fill.used} of ${fill.size} entries (${fill.percent} %)`;
    if (fill.percent < FILL_WARN_PERCENT) return entries;
    const what = isFull(fill)
        ? "full: HAProxy is evicting the oldest pins, so idle conversations lose their release"
        : "nearly full: when it is full HAProxy evicts the oldest pins";
    return `${entries}, ${what}; raise proxy.conversations.tableSize or lower proxy.conversations.idleTimeoutSeconds`;
}

/** What to tell an operator about the pinning table, or undefined while it has room. */
export function fillWarning(fill: TableFill | undefined): string | undefined {
    return fill && fill.percent >= FILL_WARN_PERCENT ? `conversation table ${describeFill(fill)}` : undefined;
}

/**
 * The commands that unpin a slot's conversations: its entries in the pinning table and
 * its count tables (those the template has). Each runs inside HAProxy; nothing is read back.
 */
export function unpinCommands(tables: Map<string, TableSummary>, backend: string, serverIds: number[], slot: Slot): string[] {
    if (!tables.has(backend)) return [];
    return [
        ...serverIds.map((id) => `clear table ${backend} data.server_id eq ${id}`),
        ...Object.values(countTables(slot))
            .filter((t) => tables.has(t))
            .map((t) => `clear table ${t}`),
    ];
}
