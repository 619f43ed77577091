// The HAProxy admin-socket client: slots, weights, statistics and the persisted slot
// file. The only place that knows the backend's name, the socket's path, the field
// positions of `show servers state` and the slot-file format (which
// proxy/start-proxy.sh reads back when the proxy restarts).
import type { ContainerExec } from "../docker/cli";
import { SLOTS, type Slot, type SlotState } from "../core/slots";
import { type PersistedSlot, type ProxyAdmin, ProxyError, type ServerStats } from "../engine/ports";
import {
    activeOf,
    fillOf,
    parseTableSummaries,
    type Pinned,
    pinnedOf,
    type TableFill,
    type TableSummary,
    unpinCommands,
} from "../core/conversationTables";

export type { Pinned } from "../core/conversationTables";

export const BACKEND = "agents";
export const ADMIN_SOCKET = "/run/haproxy/admin.sock";
/**
 * How long an admin session waits for HAProxy's answer once its commands are sent. socat's
 * own default is 0.5 s, after which it exits 0 with whatever arrived: a proxy slow to answer
 * (a loaded machine, a reload under a flood) would read as an empty answer. HAProxy closes
 * the session as soon as it has answered, so a longer wait costs nothing when it is quick.
 */
export const ADMIN_ANSWER_SECONDS = 10;
/** The command that runs one admin-socket session in the proxy container (commands on stdin). */
export const ADMIN_SESSION = ["socat", "-t", String(ADMIN_ANSWER_SECONDS), "stdio", ADMIN_SOCKET];
/** The proxy's state folder (a volume, so a replaced proxy keeps it) and the slot file in it. */
export const SLOT_DIR = "/var/lib/zdt";
export const SLOT_FILE = `${SLOT_DIR}/slots`;
/**
 * How many times, and for how long, a read is asked again while its session fails or its
 * answer lacks the agents backend. A session that a proxy accepts as it stops (a reload's
 * old worker, a handed-over proxy) answers without its stopped proxies; after the stop
 * that proxy refuses sessions. The next session reaches the proxy that serves.
 */
export const READ_ATTEMPTS = 25;
export const READ_RETRY_MS = 10_000;

/** What a complete answer of each read holds: the agents backend, which every template of the proxy image has. */
export const HOLDS_BACKEND = {
    stat: (out: string): boolean => statRow(out, BACKEND, "BACKEND") !== undefined,
    servers: (out: string): boolean => out.split("\n").some((l) => !l.startsWith("#") && l.trim().split(/\s+/)[1] === BACKEND),
    conn: (out: string): boolean => out.split("\n").some((l) => l.trim().startsWith(`${BACKEND}/`)),
    table: (out: string): boolean => parseTableSummaries(out).has(BACKEND),
};

/**
 * Whether a session failed because the proxy's admin socket refused it or was gone (a proxy
 * that has stopped, or has not started yet), not because its container or engine is: only
 * such a read is asked again, so a lost node is found as quickly as before.
 */
export function sessionRefused(err: unknown): boolean {
    return err instanceof Error && /socat.*(Connection refused|No such file or directory)/s.test(err.message);
}

/** An admin session's answer, or the error HAProxy's refusal in it makes. */
function refusedOrNot(commands: string[], out: string): string {
    if (/^(Unknown command|No such|Require|Invalid|Can't|Cannot|Filter entry|'[^']*' expects)/im.test(out))
        throw new ProxyError(`proxy refused "${commands.join("; ")}": ${out.trim()}`);
    return out;
}

/** One row of `show stat` CSV (the header line names the columns). */
export function statRow(csv: string, proxy: string, server: string): Record<string, string> | undefined {
    const [header, ...rows] = csv.split("\n");
    const cols = header.replace(/^#\s*/, "").split(",");
    const row = rows.map((r) => r.split(",")).find((f) => f[0] === proxy && f[1] === server);
    return row && Object.fromEntries(cols.map((c, i) => [c, row[i] ?? ""]));
}

/** `show servers state <backend>` into slot states (fields by position, as HAProxy 2.x prints them). */
export function parseServersState(out: string): Partial<Record<Slot, SlotState>> {
    const result: Partial<Record<Slot, SlotState>> = {};
    for (const line of out.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length < 18 || line.startsWith("#")) continue;
        const slot = f[3] as Slot;
        if (!SLOTS.includes(slot)) continue;
        const admin = Number(f[6]);
        // srv_op_state 2 = running; admin bits 0x01 forced, 0x02 inherited, 0x20 DNS-resolution maintenance.
        // (0x04 only records "disabled" in the config file and stays set after "state ready".)
        result[slot] = {
            slot,
            id: Number(f[2]),
            fqdn: f[17],
            up: Number(f[5]) === 2,
            maint: (admin & 0x23) !== 0,
            weight: Number(f[7]),
            address: f[4],
            port: Number(f[18]),
        };
    }
    return result;
}

/** A slot's server connections (in use by a request or stream, and idle in its pool) and the address they go to. */
export interface SlotConnections {
    used: number;
    idle: number;
    address: string;
    port: number;
}

/** `show servers conn <backend>` (HAProxy 2.6: columns named by its header line) into each slot's connections. */
export function parseServersConn(out: string): Partial<Record<Slot, SlotConnections>> {
    const lines = out.split("\n").filter((l) => l.trim());
    const header = lines.find((l) => l.startsWith("#"));
    if (!header) return {};
    const cols = header.replace(/^#\s*/, "").split(/\s+/);
    const at = (name: string) => cols.indexOf(name);
    const result: Partial<Record<Slot, SlotConnections>> = {};
    for (const line of lines.filter((l) => !l.startsWith("#"))) {
        const f = line.trim().split(/\s+/);
        const slot = f[0].split("/")[1] as Slot;
        if (!SLOTS.includes(slot)) continue;
        result[slot] = {
            used: Number(f[at("used_cur")]),
            idle: Number(f[at("idle_cur")]),
            address: f[at("addr")],
            port: Number(f[at("port")]),
        };
    }
    return result;
}

/**
 * The admin commands that make HAProxy drop a server's pooled idle connections: changing
 * its address or port through the admin socket purges them (HAProxy >= 2.2,
 * srv_update_addr_port), so the port moves away and back. (An address changed by a DNS
 * answer, as after `set server ... fqdn`, purges nothing.)
 */
export function purgeCommands(server: string, conns: SlotConnections): string[] {
    const away = conns.port === 65535 ? conns.port - 1 : conns.port + 1;
    return [`set server ${server} addr ${conns.address} port ${away}`, `set server ${server} addr ${conns.address} port ${conns.port}`];
}

/**
 * The slot file: "<slot> <address> <weight> <ready|maint> [<port>]" per line (the port of
 * the release the slot points at, when known; start-proxy falls back to its AGENT_PORT).
 */
export function slotFile(state: Record<Slot, PersistedSlot>, ports: Partial<Record<Slot, number>> = {}): string {
    return (
        SLOTS.map(
            (s) => `${s} ${state[s].fqdn} ${state[s].weight} ${state[s].maint ? "maint" : "ready"}${ports[s] ? ` ${ports[s]}` : ""}`,
        ).join("\n") + "\n"
    );
}

/** How long a re-pointed slot may take to resolve its new address before its port can be set. */
export const RESOLVE_TIMEOUT_MS = 10_000;

export class HaproxyAdmin implements ProxyAdmin {
    constructor(
        /** Runs a command inside the proxy container. */
        private readonly exec: ContainerExec,
        /** The proxy's name, for messages. */
        readonly proxyName: string,
        /** The port releases listen on (agent.port): a slot re-pointed to a release gets it. Unset: ports stay as they are. */
        private readonly agentPort?: number,
        private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    ) {}

    /** Sends commands in one admin-socket session; HAProxy runs them in order, with no gap for traffic in between. */
    async send(...commands: string[]): Promise<string> {
        return refusedOrNot(commands, await this.exec(ADMIN_SESSION, commands.join(";") + "\n"));
    }

    /**
     * Commands ending in a read, in one session, asked again (200 ms apart, READ_ATTEMPTS
     * times, within READ_RETRY_MS) while the socket refuses it or its answer is not `complete`:
     * a session that met a reload or a hand-over (the old proxy answers without its stopped
     * proxies, then refuses sessions; an exec that follows the serving proxy finds the new
     * one). What precedes the read must be safe to repeat (state and weight commands are).
     * The last answer is judged as `send` judges it; an empty one is an error saying so.
     */
    async read(complete: (out: string) => boolean, ...commands: string[]): Promise<string> {
        const started = Date.now();
        let out = "";
        let failure: unknown;
        for (let attempt = 1; ; attempt++) {
            try {
                out = await this.exec(ADMIN_SESSION, commands.join(";") + "\n");
                failure = undefined;
                if (complete(out)) break;
            } catch (e) {
                if (!sessionRefused(e)) throw e;
                failure = e;
            }
            if (attempt >= READ_ATTEMPTS || Date.now() - started >= READ_RETRY_MS) break;
            await this.sleep(200);
        }
        if (failure !== undefined) throw failure;
        if (!out.trim())
            throw new ProxyError(
                `proxy ${this.proxyName} did not answer "${commands[commands.length - 1]}" (asked again for ${READ_RETRY_MS / 1000} s, each session given ${ADMIN_ANSWER_SECONDS} s)`,
            );
        return refusedOrNot(commands, out);
    }

    /** Both slots as the proxy has them, read after `before` (commands of the same admin session, whose answers are empty). */
    async slots(...before: string[]): Promise<Record<Slot, SlotState>> {
        const out = await this.read(HOLDS_BACKEND.servers, ...before, `show servers state ${BACKEND}`);
        const found = parseServersState(out);
        for (const s of SLOTS)
            if (!found[s])
                throw new ProxyError(`proxy ${this.proxyName} has no server ${BACKEND}/${s}; is it the zero-downtime proxy image?`);
        return found as Record<Slot, SlotState>;
    }

    /**
     * Points an idle slot at a container, with weight 0: checked by HAProxy, given no traffic.
     * A release on another port than the slot's: HAProxy sets a port only with an address,
     * so once the new name has resolved (in maintenance still), the slot gets that address
     * and the release's port; later DNS answers change the address and keep the port.
     */
    async assign(slot: Slot, fqdn: string): Promise<string> {
        const s = `${BACKEND}/${slot}`;
        const repoint = [`set server ${s} state maint`, `set server ${s} fqdn ${fqdn}`, `set server ${s} weight 0`];
        if (this.agentPort === undefined || (await this.slots())[slot].port === this.agentPort)
            return this.send(...repoint, `set server ${s} state ready`);
        const out = [await this.send(...repoint)];
        let state = (await this.slots())[slot];
        for (let waited = 0; !state.address || !/^[0-9a-f.:]+$/i.test(state.address) || state.address === "0.0.0.0"; waited += 200) {
            if (waited >= RESOLVE_TIMEOUT_MS)
                throw new ProxyError(`${s}: ${fqdn} did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s, so its port could not be set`);
            await this.sleep(200);
            state = (await this.slots())[slot];
        }
        out.push(await this.send(`set server ${s} addr ${state.address} port ${this.agentPort}`));
        out.push(await this.send(`set server ${s} state ready`));
        return out.join("");
    }

    /**
     * Ends every server connection a slot opened before now; the switch calls it once the
     * health gate has seen the new release answer through the slot, before the slot gets any
     * weight. Server connections are pooled, and a pool must never outlive its target: in
     * HAProxy 2.6 a connection in use when the slot was re-pointed goes back to the pool when
     * its request ends (even in maintenance; fixed upstream in 3.3), and a new address from
     * DNS (`set server ... fqdn`) does not empty the pool, nor does it stop the gate's first
     * probes from opening connections to the old address before the DNS answer. Re-pointing
     * without this sent 1,750 of 15,000 requests in 12 s to the previous target in a trial.
     * So, in maintenance (no new request reaches the slot, not even a conversation pinned to
     * it): wait for the connections in use (closed after drainMs, the retirement's drain),
     * purge the pool, and bring the slot back. Resolves to what it did, for the log.
     */
    async emptyPool(slot: Slot, drainMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<string> {
        const s = `${BACKEND}/${slot}`;
        const done: string[] = [];
        // Each step and the reading that follows it in one admin session (one `docker exec` each).
        let conns = await this.connectionsOf(slot, `set server ${s} state maint`);
        const inUse = conns.used;
        let shut = false;
        for (let waited = 0; conns.used > 0; waited += 200) {
            if (waited >= drainMs && !shut) {
                shut = true;
                await this.send(`shutdown sessions server ${s}`);
            }
            if (waited >= drainMs + 5_000)
                throw new ProxyError(`${s} still has ${conns.used} connections in use after they were shut down; not giving it traffic`);
            await sleep(200);
            conns = await this.connectionsOf(slot);
        }
        if (inUse > 0)
            done.push(shut ? `shut ${inUse} connections still in use after ${drainMs / 1000} s` : `waited for ${inUse} connections in use`);
        if (conns.idle > 0) {
            done.push(`purged ${conns.idle} pooled connections`);
            await this.send(...purgeCommands(s, conns));
            if ((conns = await this.connectionsOf(slot)).idle > 0)
                throw new ProxyError(`${s} still pools ${conns.idle} connections to ${conns.address} after a purge; not giving it traffic`);
        }
        let up = (await this.slots(`set server ${s} state ready`))[slot].up;
        for (let waited = 0; !up; waited += 200) {
            if (waited >= 10_000)
                throw new ProxyError(`${s} did not come back up within 10 s of leaving maintenance; not giving it traffic`);
            await sleep(200);
            up = (await this.slots())[slot].up;
        }
        return done.join(", ");
    }

    /** A slot's connections, read after `before` (commands of the same admin session). */
    private async connectionsOf(slot: Slot, ...before: string[]): Promise<SlotConnections> {
        const found = parseServersConn(await this.read(HOLDS_BACKEND.conn, ...before, `show servers conn ${BACKEND}`))[slot];
        if (!found) throw new ProxyError(`proxy ${this.proxyName}: no connection counts for ${BACKEND}/${slot} in show servers conn`);
        return found;
    }

    /**
     * Sets the weights of several slots in one session, in the order given. A flip
     * raises the new slot before it lowers the old one, so no request between the two
     * commands finds both at weight 0.
     */
    setWeights(...weights: [Slot, number][]): Promise<string> {
        return this.send(...weights.map(([s, w]) => `set server ${BACKEND}/${s} weight ${w}`));
    }

    maint(slot: Slot): Promise<string> {
        return this.send(`set server ${BACKEND}/${slot} state maint`);
    }

    async stats(slot: Slot): Promise<ServerStats> {
        const row = statRow(await this.read(HOLDS_BACKEND.stat, "show stat"), BACKEND, slot);
        if (!row) throw new ProxyError(`no statistics for ${BACKEND}/${slot}`);
        const get = (c: string) => Number(row[c] || 0);
        return { req: get("req_tot"), err5xx: get("hrsp_5xx"), rtimeMs: get("rtime"), status: row.status, sessions: get("scur") };
    }

    /** Requests the frontend has seen, and how many it answered with 5xx. */
    async totals(): Promise<{ requests: number; errors5xx: number }> {
        const fe = statRow(await this.read(HOLDS_BACKEND.stat, "show stat"), BACKEND, "FRONTEND");
        return fe ? { requests: Number(fe.req_tot), errors5xx: Number(fe.hrsp_5xx) } : { requests: 0, errors5xx: 0 };
    }

    /** Every stick table's size and entry count: one header line per table, whatever the traffic. */
    async tables(): Promise<Map<string, TableSummary>> {
        return parseTableSummaries(await this.read(HOLDS_BACKEND.table, "show table"));
    }

    /** The conversations pinned to a slot (the count tables of the config template; none without them). */
    async pinned(slot: Slot): Promise<Pinned> {
        return pinnedOf(await this.tables(), slot);
    }

    /**
     * Active conversations: answered 200 within the idle timeout, of one slot or of both;
     * undefined when the config template does not count them.
     */
    async activeConversations(slot?: Slot): Promise<number | undefined> {
        return activeOf(await this.tables(), slot);
    }

    /** How full the pinning table is (undefined when the template has none). */
    async conversationTable(): Promise<TableFill | undefined> {
        return fillOf(await this.tables(), BACKEND);
    }

    /** Unpins the conversations of a slot (their next message goes where the weights say); resolves to what it unpinned. */
    async unpinConversations(slot: Slot): Promise<Pinned> {
        const [{ id }, tables] = await Promise.all([this.slots().then((s) => s[slot]), this.tables()]);
        const commands = unpinCommands(tables, BACKEND, [id], slot);
        if (commands.length > 0) await this.send(...commands);
        return pinnedOf(tables, slot);
    }

    /** Persists the slots, with the ports the proxy has for them, so a proxy restart comes back with the same live release. */
    async persist(state: Record<Slot, PersistedSlot>): Promise<void> {
        // The ports of the slots the proxy has as plain servers (Swarm's templates have none: their port is AGENT_PORT).
        const now = parseServersState(await this.read(HOLDS_BACKEND.servers, `show servers state ${BACKEND}`));
        const ports = Object.fromEntries(SLOTS.filter((s) => now[s]?.fqdn === state[s].fqdn).map((s) => [s, now[s]?.port]));
        await this.exec(["sh", "-c", `cat > ${SLOT_FILE}.new && mv ${SLOT_FILE}.new ${SLOT_FILE}`], slotFile(state, ports));
    }
}
