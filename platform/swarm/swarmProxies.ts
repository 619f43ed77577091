// Every node's proxy on Docker Swarm, as the one proxy the switch talks to (ProxyAdmin).
//
// - A weight change is all or nothing (engine/proxyGroup.ts): a proxy that refuses it
//   fails the change, and the proxies that took it get their previous weights back.
// - Every other change (re-pointing a slot, maintenance, the slot file) goes to every
//   proxy; one that refuses fails it, naming the proxy.
// - A lost node is left out: when a node's proxy cannot be reached (its engine does not
//   answer, or is stopping and its proxy task is gone) and the manager reports the node
//   down, its proxy task is gone with it (Swarm mode runs without live restore: an engine
//   that stops stops its tasks), so it serves nothing and needs no switch. While the
//   manager still reports it ready, the change waits (LOST_NODE_WAIT_MS) for the node to
//   be reported down or for its proxy to answer again (a task Swarm restarted: the change
//   is sent to it once more), then fails. Its last statistics stay in the sums, so the
//   switch's differences stay true.
// - Requests and 5xx are summed as one counter of each proxy's own differences
//   (SummedCounters): a proxy that starts again (a new image, its node back) counts from
//   its new start, and the sum never goes back.
// - Conversations: the proxies share one stick table (HAProxy peers), so the pinned and
//   active conversations are read from one proxy that answers.
import { engineUnreachable } from "../../docker/cli";
import type { Pinned } from "../../haproxy/admin";
import { ProxyGroup } from "../../engine/proxyGroup";
import { type NodeProxy, ProxyTaskGone } from "./nodeProxy";
import type { TableFill, TableSummary } from "../../core/conversationTables";
import type { TemplateSlotState } from "./swarmSlots";
import { type LostNode, SLOTS, type Slot } from "../../contracts/switchContract";
import { type PersistedSlot, type ProxyAdmin, type ServerStats, ProxyError } from "../../engine/ports";
import { type SlotState } from "../../core/slots";
import { counted, SummedCounters } from "../../core/counters";

/** How long a change waits for a node whose proxy cannot be reached to be reported down, or to answer again. */
export const LOST_NODE_WAIT_MS = 45_000;

export interface SwarmProxiesDeps {
    /** The node's state as the manager sees it (ready, down, unknown, disconnected). */
    nodeState(node: string): Promise<string>;
    sleep(ms: number): Promise<void>;
    log(message: string): void;
}

interface Outcome<T> {
    m: Member;
    value?: T;
    error?: Error;
}

interface Member {
    node: string;
    proxy: NodeProxy;
}

/**
 * Whether a proxy's failure may mean its node is going away, rather than HAProxy refusing
 * the command: its engine does not answer, its proxy task is gone, or a docker command
 * failed (any error that is not HAProxy's own, such as a task stopped by a stopping engine).
 */
export function nodeMayBeGone(err: Error): boolean {
    return engineUnreachable(err) || err instanceof ProxyTaskGone || !(err instanceof ProxyError);
}

/**
 * A slot as every proxy reports it, combined (pure): in maintenance where any has it so, and
 * up only where every proxy sees it up with the same tasks. Pinning across proxies needs
 * the same tasks behind a slot everywhere: a proxy whose DNS does not list a task yet (a
 * node just restarted, a task just rescheduled) would balance that task's conversations anew.
 */
export function combineSlots(each: Record<Slot, TemplateSlotState>[]): Record<Slot, SlotState> {
    if (each.length === 0) throw new ProxyError("no proxy answers");
    const same = (s: Slot) => each.every((e) => e[s].addresses.join(",") === each[0][s].addresses.join(","));
    return Object.fromEntries(
        SLOTS.map((s) => {
            const { addresses: _a, upServers: _u, ...state } = each[0][s];
            return [s, { ...state, up: each.every((e) => e[s].up) && same(s), maint: each.some((e) => e[s].maint) }];
        }),
    ) as Record<Slot, SlotState>;
}

/** Statistics summed over proxies, the response time weighted by requests (pure). */
export function sumStats(each: ServerStats[]): ServerStats {
    const req = each.reduce((t, s) => t + s.req, 0);
    return {
        req,
        err5xx: each.reduce((t, s) => t + s.err5xx, 0),
        rtimeMs: req > 0 ? Math.round(each.reduce((t, s) => t + s.rtimeMs * s.req, 0) / req) : 0,
        status: each.some((s) => s.status === "UP") ? "UP" : (each[0]?.status ?? ""),
        sessions: each.reduce((t, s) => t + s.sessions, 0),
    };
}

export class SwarmProxies implements ProxyAdmin {
    readonly proxyName: string;
    /** Nodes found lost (engine silent, manager reports them down), left out from then on; by node. */
    readonly lost = new Map<string, LostNode>();
    private readonly lastStats = new Map<string, ServerStats>();
    /** Each node's proxy's requests and 5xx, per slot (`node/slot`) and in all (`node`), summed across its restarts. */
    private readonly slotCounts = new SummedCounters({ req: 0, err5xx: 0 });
    private readonly nodeTotals = new SummedCounters({ requests: 0, errors5xx: 0 });

    constructor(
        private readonly members: Member[],
        private readonly deps: SwarmProxiesDeps,
    ) {
        if (members.length === 0) throw new ProxyError("a Swarm proxy group needs at least one node");
        this.proxyName = `the proxies on ${members.map((m) => m.node).join(", ")}`;
    }

    private live(): Member[] {
        return this.members.filter((m) => !this.lost.has(m.node));
    }

    /**
     * After a proxy could not be reached: "lost" once the manager reports its node down,
     * "back" once its proxy answers again, "silent" when neither happened within LOST_NODE_WAIT_MS.
     */
    private async settle(m: Member): Promise<"lost" | "back" | "silent"> {
        for (let waited = 0; waited <= LOST_NODE_WAIT_MS; waited += 1000) {
            const state = await this.deps.nodeState(m.node).catch(() => "unknown");
            if (state !== "ready") {
                if (!this.lost.has(m.node)) {
                    this.deps.log(`node ${m.node} is ${state}: its proxy is left out (its tasks stopped with its engine)`);
                    this.lost.set(m.node, { node: m.node, state, foundAt: Date.now() });
                }
                return "lost";
            }
            if (await m.proxy.answers()) return "back";
            await this.deps.sleep(1000);
        }
        return "silent";
    }

    /** `fn` on every live proxy at once; a lost node's proxy is left out; resolves to each outcome. */
    private async onEach<T>(fn: (p: NodeProxy) => Promise<T>): Promise<Outcome<T>[]> {
        const results = await Promise.all(
            this.live().map(async (m): Promise<Outcome<T> | undefined> => {
                for (let attempt = 1; ; attempt++) {
                    try {
                        return { m, value: await fn(m.proxy) };
                    } catch (err) {
                        const e = err as Error;
                        if (attempt > 1 || !nodeMayBeGone(e)) return { m, error: e };
                        const now = await this.settle(m);
                        if (now === "lost") return undefined;
                        if (now === "silent") return { m, error: e };
                    }
                }
            }),
        );
        const out = results.filter((r): r is Outcome<T> => r !== undefined);
        if (out.length === 0) throw new ProxyError(`no proxy answers (${[...this.lost.keys()].join(", ")} lost)`);
        return out;
    }

    /** A change every live proxy must take; fails naming those that refused. */
    private async onAll<T>(what: string, fn: (p: NodeProxy) => Promise<T>): Promise<T[]> {
        const out = await this.onEach(fn);
        const refused = out.filter((o) => o.error);
        if (refused.length)
            throw new ProxyError(`${what} refused by ${refused.map((o) => `the proxy on ${o.m.node} (${o.error!.message})`).join(", ")}`);
        return out.map((o) => o.value as T);
    }

    /** A read from every proxy that answers (one that does not is skipped). */
    private async fromAnswering<T>(fn: (p: NodeProxy) => Promise<T>): Promise<{ node: string; value: T }[]> {
        const got = (await this.onEach(fn)).filter((o) => !o.error).map((o) => ({ node: o.m.node, value: o.value as T }));
        if (got.length === 0) throw new ProxyError(`no proxy of ${this.proxyName} answered`);
        return got;
    }

    async slots(): Promise<Record<Slot, SlotState>> {
        return combineSlots(await this.onAll("reading the slots", (p) => p.slots()));
    }

    async assign(slot: Slot, fqdn: string): Promise<string> {
        return (await this.onAll(`pointing ${slot} at ${fqdn}`, (p) => p.assign(slot, fqdn))).join("");
    }

    async emptyPool(slot: Slot, drainMs: number, sleep?: (ms: number) => Promise<void>): Promise<string> {
        return (await this.onAll(`emptying ${slot}`, (p) => p.emptyPool(slot, drainMs, sleep))).filter(Boolean).join("; ");
    }

    async setWeights(...weights: [Slot, number][]): Promise<string> {
        // One read of every proxy finds the lost nodes (left out) and is what a refusal
        // restores; then all or nothing (one docker exec per proxy less than reading twice).
        const read = await this.onEach((p) => p.slots());
        const unread = read.filter((o) => o.error);
        if (unread.length)
            throw new ProxyError(
                `reading the weights refused by ${unread.map((o) => `the proxy on ${o.m.node} (${o.error!.message})`).join(", ")}`,
            );
        await new ProxyGroup(read.map((o) => o.m.proxy)).setWeightsFrom(
            read.map((o) => o.value!),
            ...weights,
        );
        return "";
    }

    async maint(slot: Slot): Promise<string> {
        return (await this.onAll(`maintenance of ${slot}`, (p) => p.maint(slot))).join("");
    }

    async stats(slot: Slot): Promise<ServerStats> {
        for (const { node, value } of await this.fromAnswering((p) => p.stats(slot))) {
            this.lastStats.set(`${node}/${slot}`, value);
            this.slotCounts.add(`${node}/${slot}`, counted(value));
        }
        const keys = this.members.map((m) => `${m.node}/${slot}`);
        const summed = sumStats(keys.map((k) => this.lastStats.get(k)).filter((s): s is ServerStats => s !== undefined));
        // Requests and 5xx: each proxy's own differences summed, so one proxy's restart neither lowers the sum nor hides in it.
        return { ...summed, ...this.slotCounts.sum(keys) };
    }

    /** Every stick table's size and entry count, from one proxy that answers (peers share the entries). */
    async tables(): Promise<Map<string, TableSummary>> {
        return (await this.fromAnswering((p) => p.tables()))[0].value;
    }

    /**
     * Each node's proxy's totals (its frontend: requests and 5xx, every slot), for the
     * operator's view: every node listed, one without an answer with the reason (lost: the
     * manager reports it down; or the error).
     */
    async totalsByNode(): Promise<{ node: string; totals?: { requests: number; errors5xx: number }; why?: string }[]> {
        const out = await this.onEach((p) => p.totals()).catch(() => [] as Outcome<{ requests: number; errors5xx: number }>[]);
        return this.members.map((m) => {
            const o = out.find((x) => x.m.node === m.node);
            if (o?.value) return { node: m.node, totals: o.value };
            return {
                node: m.node,
                why: this.lost.has(m.node) ? "lost: the manager reports its node down" : (o?.error?.message ?? "no answer"),
            };
        });
    }

    /** Every node's proxy's totals as one counter (each node's differences summed; a node that does not answer adds nothing since its last answer): one host's HaproxyAdmin.totals, for the cluster. */
    async totals(): Promise<{ requests: number; errors5xx: number }> {
        for (const n of await this.totalsByNode()) if (n.totals) this.nodeTotals.add(n.node, n.totals);
        return this.nodeTotals.sum(this.members.map((m) => m.node));
    }

    async pinned(slot: Slot): Promise<Pinned> {
        return (await this.fromAnswering((p) => p.pinned(slot)))[0].value;
    }

    async activeConversations(slot?: Slot): Promise<number | undefined> {
        return (await this.fromAnswering((p) => p.activeConversations(slot)))[0].value;
    }

    /** The fullest of the proxies' tables (they share entries through peers, so they should agree). */
    async conversationTable(): Promise<TableFill | undefined> {
        const fills = (await this.fromAnswering((p) => p.conversationTable())).map((r) => r.value);
        return fills.reduce<TableFill | undefined>((a, b) => (b && (!a || b.percent > a.percent) ? b : a), undefined);
    }

    async unpinConversations(slot: Slot): Promise<Pinned> {
        const each = await this.onAll(`unpinning ${slot}'s conversations`, (p) => p.unpinConversations(slot));
        return each.reduce((a, b) => (b.count > a.count ? b : a));
    }

    async persist(state: Record<Slot, PersistedSlot>): Promise<void> {
        await this.onAll("writing the slot file", (p) => p.persist(state));
    }
}
