// One node's proxy on Docker Swarm: the task of the proxy's global service on that node,
// reached through the node's own engine (`docker exec`; Swarm has no exec through the
// manager). The same admin API as one host's proxy (ProxyAdmin), over server templates:
// every command to a slot goes to each of its servers, in the agents backend and in the
// slot's probe backend (platform/swarm/swarmSlots.ts).
import { ADMIN_SOCKET, BACKEND, HaproxyAdmin, HOLDS_BACKEND, type Pinned, statRow } from "../../haproxy/admin";
import type { ContainerExec } from "../../docker/cli";
import { activeOf, pinnedOf, type TableFill, type TableSummary, unpinCommands } from "../../core/conversationTables";
import { parseTemplateServers, type TemplateSlotState, slotBackends, templateConnections, templateSlots } from "./swarmSlots";
import type { Slot } from "../../contracts/switchContract";
import { type PersistedSlot, ProxyError, type ProxyAdmin, type ServerStats } from "../../engine/ports";

/** No task of the proxy's service runs on a node whose engine answers (stopped, or not yet started there). */
export class ProxyTaskGone extends ProxyError {}

export class NodeProxy implements ProxyAdmin {
    private readonly admin: HaproxyAdmin;

    constructor(
        /** Runs a command in this node's proxy task. */
        private readonly exec: ContainerExec,
        /** "the proxy on <node>", for messages. */
        readonly proxyName: string,
        /** Servers per slot template (ZDT_SLOT_SERVERS of the proxy service). */
        readonly slotServers: number,
        /** Tasks a slot must have up for the health gate (the release's replicas). */
        readonly replicas: number,
    ) {
        this.admin = new HaproxyAdmin(exec, proxyName);
    }

    send(...commands: string[]): Promise<string> {
        return this.admin.send(...commands);
    }

    private names(slot: Slot): string[] {
        return Array.from({ length: this.slotServers }, (_, i) => `${slot}${i + 1}`);
    }

    /** The same commands for each server of a slot, in the given backends, in one session. */
    private each(slot: Slot, backends: string[], commands: (server: string) => string[]): Promise<string> {
        return this.send(...backends.flatMap((b) => this.names(slot).flatMap((n) => commands(`${b}/${n}`))));
    }

    async slots(): Promise<Record<Slot, TemplateSlotState>> {
        return templateSlots(await this.admin.read(HOLDS_BACKEND.servers, `show servers state ${BACKEND}`), this.replicas);
    }

    private async ids(slot: Slot): Promise<number[]> {
        return parseTemplateServers(await this.admin.read(HOLDS_BACKEND.servers, `show servers state ${BACKEND}`))[slot].map((s) => s.id);
    }

    assign(slot: Slot, fqdn: string): Promise<string> {
        return this.each(slot, slotBackends(slot), (s) => [
            `set server ${s} state maint`,
            `set server ${s} fqdn ${fqdn}`,
            ...(s.startsWith(`${BACKEND}/`) ? [`set server ${s} weight 0`] : []),
            `set server ${s} state ready`,
        ]);
    }

    /**
     * Waits for the requests still running on a slot's servers before it gets weight
     * (closed after drainMs). Swarm's proxies keep no server connection after its answer
     * (http-reuse never, option http-server-close in proxy/haproxy-swarm.cfg.tmpl), so there
     * is no pool to purge.
     */
    async emptyPool(slot: Slot, drainMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<string> {
        await this.each(slot, [BACKEND], (s) => [`set server ${s} state maint`]);
        const used = async () => templateConnections(await this.admin.read(HOLDS_BACKEND.conn, `show servers conn ${BACKEND}`))[slot].used;
        let inUse = await used();
        const first = inUse;
        let shut = false;
        for (let waited = 0; inUse > 0; waited += 200) {
            if (waited >= drainMs && !shut) {
                shut = true;
                await this.each(slot, [BACKEND], (s) => [`shutdown sessions server ${s}`]);
            }
            if (waited >= drainMs + 5_000)
                throw new ProxyError(`${this.proxyName}: ${slot} still has ${inUse} connections in use after they were shut down`);
            await sleep(200);
            inUse = await used();
        }
        await this.each(slot, [BACKEND], (s) => [`set server ${s} state ready`]);
        for (let waited = 0; !(await this.slots())[slot].up; waited += 200) {
            if (waited >= 10_000)
                throw new ProxyError(`${this.proxyName}: ${slot} did not come back up within 10 s of leaving maintenance`);
            await sleep(200);
        }
        return first > 0 ? `${this.proxyName}: waited for ${first} connections in use${shut ? " (shut after the drain)" : ""}` : "";
    }

    setWeights(...weights: [Slot, number][]): Promise<string> {
        return this.send(...weights.flatMap(([slot, w]) => this.names(slot).map((n) => `set server ${BACKEND}/${n} weight ${w}`)));
    }

    maint(slot: Slot): Promise<string> {
        return this.each(slot, [BACKEND], (s) => [`set server ${s} state maint`]);
    }

    /** A slot's statistics summed over its servers (the response time weighted by requests). */
    async stats(slot: Slot): Promise<ServerStats> {
        const csv = await this.admin.read(HOLDS_BACKEND.stat, "show stat");
        const rows = this.names(slot)
            .map((n) => statRow(csv, BACKEND, n))
            .filter((r): r is Record<string, string> => r !== undefined);
        if (rows.length === 0) throw new ProxyError(`${this.proxyName}: no statistics for ${BACKEND}/${slot}1..${this.slotServers}`);
        const get = (r: Record<string, string>, c: string) => Number(r[c] || 0);
        const req = rows.reduce((t, r) => t + get(r, "req_tot"), 0);
        const rtime = req > 0 ? rows.reduce((t, r) => t + get(r, "rtime") * get(r, "req_tot"), 0) / req : 0;
        return {
            req,
            err5xx: rows.reduce((t, r) => t + get(r, "hrsp_5xx"), 0),
            rtimeMs: Math.round(rtime),
            status: rows.some((r) => r.status === "UP") ? "UP" : (rows[0].status ?? ""),
            sessions: rows.reduce((t, r) => t + get(r, "scur"), 0),
        };
    }

    /** Requests this node's proxy has seen (its frontend, every slot), and how many it answered with 5xx. */
    totals(): Promise<{ requests: number; errors5xx: number }> {
        return this.admin.totals();
    }

    /** Every stick table's size and entry count (the header lines of `show table`). */
    tables(): Promise<Map<string, TableSummary>> {
        return this.admin.tables();
    }

    async pinned(slot: Slot): Promise<Pinned> {
        return pinnedOf(await this.admin.tables(), slot);
    }

    async activeConversations(slot?: Slot): Promise<number | undefined> {
        return activeOf(await this.admin.tables(), slot);
    }

    async conversationTable(): Promise<TableFill | undefined> {
        return this.admin.conversationTable();
    }

    /** Unpins on this proxy (HAProxy's peers do not share deletions: the switch unpins on every proxy). */
    async unpinConversations(slot: Slot): Promise<Pinned> {
        const [ids, tables] = await Promise.all([this.ids(slot), this.admin.tables()]);
        const commands = unpinCommands(tables, BACKEND, ids, slot);
        if (commands.length > 0) await this.send(...commands);
        return pinnedOf(tables, slot);
    }

    persist(state: Record<Slot, PersistedSlot>): Promise<void> {
        return this.admin.persist(state);
    }

    /** Whether HAProxy answers on this task's admin socket. */
    async answers(): Promise<boolean> {
        return this.exec(["sh", "-c", `echo 'show info' | socat -t 2 stdio ${ADMIN_SOCKET}`]).then(
            (out) => /^Name: HAProxy/m.test(out),
            () => false,
        );
    }
}
