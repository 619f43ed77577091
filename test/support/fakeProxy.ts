// A fake of what the switch reaches inside the proxy container: HAProxy's admin socket
// (the commands it sends, answered in HAProxy 2.6's own formats), the slot file, and
// curl through the proxy to agent "containers" whose behaviour a test sets. Time is
// virtual: sleeping advances the clock at once, so a 900 s window runs in milliseconds.
import type { ContainerExec } from "../../docker/cli";
import { ADMIN_SESSION } from "../../haproxy/admin";
import { ANSWER_END } from "../../haproxy/probes";
import type { Slot } from "../../contracts/switchContract";
import { type Clock } from "../../engine/ports";

export interface FakeAgent {
    release: string;
    version: string;
    /** /health answer: status code and response time. */
    healthCode?: number;
    healthMs?: number;
    /** Share of chat requests answered 5xx, and the average response time HAProxy reports. */
    errorRate?: number;
    rtimeMs?: number;
    /** Its GET /metrics (Prometheus text), read at each call; none: 404, as an agent without metrics. */
    metrics?: () => string;
    /** A /health that answers plain text ("ok"), naming no release: an agent that knows nothing of us. */
    plainHealth?: boolean;
    /** Where its health endpoint is (other paths answer 404); /health by default. */
    healthPath?: string;
    /** Its answer to an evaluation turn (haproxy/probes.ts slotRequest); none: 404. */
    answer?: (request: { path: string; body: string; headers: Record<string, string> }) => { status?: number; body: string; ms?: number };
}

interface FakeServer {
    fqdn: string;
    weight: number;
    maint: boolean;
    req: number;
    err5xx: number;
}

export class FakeProxy {
    /** Every admin-socket session, as sent (commands joined by ";"). */
    readonly sessions: string[] = [];
    /** Every slot file written. */
    readonly persisted: string[] = [];
    readonly agents = new Map<string, FakeAgent>();
    /** Conversations pinned to each slot (stick-table entries); a test sets and ages them. */
    readonly pinned: Record<Slot, number> = { blue: 0, green: 0 };
    /**
     * Of those, the conversations answered within quietSeconds (the talking tables); a test
     * sets and ages them. Undefined: a config template of an earlier version, without them.
     */
    talking: Record<Slot, number> | undefined = undefined;
    /**
     * Each slot's server connections, as HAProxy 2.6 keeps them: in use (they end one per
     * `show servers conn`, unless stuck, and go back to the pool even in maintenance) and
     * idle in the pool (emptied by entering maintenance and by a new port or address set
     * through the admin socket, never by a new fqdn). Giving weight to a slot that still has
     * any throws: its next requests would reach the previous target.
     */
    readonly connections: Record<Slot, { used: number; idle: number; port: number; stuck?: boolean; keepsPool?: boolean }> = {
        blue: { used: 0, idle: 0, port: 8080 },
        green: { used: 0, idle: 0, port: 8080 },
    };
    /** Slots whose sessions were shut down (`shutdown sessions server`). */
    readonly shutdowns: Slot[] = [];
    /**
     * Active conversations (answered within the window) at each read; undefined: a config
     * template that does not count them (HAProxy refuses the filter).
     */
    activeConversations: (() => number) | undefined = undefined;
    /** Evaluation turns, as they reached a slot. */
    readonly turns: { slot: Slot; release: string; path: string; body: string; headers: Record<string, string> }[] = [];
    /** GET /metrics requests that reached an agent. */
    metricsRequests = 0;
    /** The name the proxy gives the server that answers for a slot (x-zdt-server); the slot's own by default. */
    serverName: ((slot: Slot) => string) | undefined = undefined;
    /** Called on every `show table`, e.g. to let pinned conversations go idle over time. */
    onShowTable: () => void = () => undefined;
    /** The stick tables' size (`show table` headers). */
    tableSize = 204800;
    /** How many times the tables were read. */
    tableShows = 0;
    private readonly servers: Record<Slot, FakeServer>;
    private t = 1_000_000;
    private errorCarry = new Map<string, number>();
    private shareCarry = new Map<Slot, number>();

    readonly clock: Clock = {
        now: () => this.t,
        sleep: async (ms) => {
            this.t += ms;
        },
    };

    constructor(live?: { slot: Slot; agent: string }) {
        const idle = (): FakeServer => ({ fqdn: "unassigned.invalid", weight: 0, maint: true, req: 0, err5xx: 0 });
        this.servers = { blue: idle(), green: idle() };
        if (live) this.servers[live.slot] = { fqdn: live.agent, weight: 100, maint: false, req: 0, err5xx: 0 };
    }

    /** Every admin command that changed something (`set ...`), in order, whatever else its session read. */
    setCommands(): string[] {
        return this.sessions.flatMap((s) => s.split(";")).filter((c) => c.startsWith("set "));
    }

    serving(): Slot | undefined {
        return (["blue", "green"] as Slot[])
            .filter((s) => !this.servers[s].maint && this.servers[s].weight > 0)
            .sort((a, b) => this.servers[b].weight - this.servers[a].weight)[0];
    }

    readonly exec: ContainerExec = async (args, input = "") => {
        this.t += 5; // every docker exec takes a little time
        if (args.join(" ") === ADMIN_SESSION.join(" ")) return this.admin(input.trim());
        if (args[0] === "sh" && args[1] === "-c" && args[2].includes("curl")) return this.turn(args.slice(4), input);
        if (args[0] === "sh") {
            this.persisted.push(input);
            return "";
        }
        if (args[0] === "curl") return this.curl(args);
        throw new Error(`fake proxy: unexpected command ${args.join(" ")}`);
    };

    private admin(session: string): string {
        this.sessions.push(session);
        const out: string[] = [];
        for (const cmd of session.split(";")) {
            let m: RegExpMatchArray | null;
            if ((m = cmd.match(/^set server agents\/(blue|green) (state|fqdn|weight) (\S+)$/))) {
                const s = this.servers[m[1] as Slot];
                if (m[2] === "fqdn" && !s.maint) throw new Error("fake proxy: a slot re-pointed out of maintenance");
                const c = this.connections[m[1] as Slot];
                if (m[2] === "weight" && Number(m[3]) > 0 && s.weight === 0 && c.used + c.idle > 0)
                    throw new Error(`fake proxy: ${m[1]} given weight with ${c.used + c.idle} connections opened before`);
                // As HAProxy 2.6: maintenance closes the slot's idle server connections.
                if (m[2] === "state" && m[3] === "maint") c.idle = 0;
                if (m[2] === "state") s.maint = m[3] === "maint";
                else if (m[2] === "fqdn") s.fqdn = m[3];
                else s.weight = Number(m[3]);
            } else if (cmd === "show servers conn agents") {
                out.push(
                    "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]",
                );
                (["blue", "green"] as Slot[]).forEach((slot, i) => {
                    const c = this.connections[slot];
                    out.push(
                        `agents/${slot} 3/${i + 1} 172.18.0.${i + 2} ${c.port} - 5000 ${c.used} 6 6 0 ${c.idle} -1 ${c.idle} ${c.idle} 0`,
                    );
                    // In-flight requests end one by one, and their connections go back to the pool.
                    if (c.used > 0 && !c.stuck) {
                        c.used--;
                        c.idle++;
                    }
                });
            } else if ((m = cmd.match(/^set server agents\/(blue|green) addr (\S+) port (\d+)$/))) {
                const c = this.connections[m[1] as Slot];
                if (Number(m[3]) !== c.port && !c.keepsPool) c.idle = 0; // a changed port purges the pool
                c.port = Number(m[3]);
            } else if ((m = cmd.match(/^shutdown sessions server agents\/(blue|green)$/))) {
                this.connections[m[1] as Slot].used = 0;
                this.shutdowns.push(m[1] as Slot);
            } else if (cmd === "show servers state agents") {
                out.push(
                    "1",
                    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord",
                );
                (["blue", "green"] as Slot[]).forEach((slot, i) => {
                    const s = this.servers[slot];
                    // HAProxy's own check (http-check expect status, the agent's expected code): healthy agents answer 2xx.
                    const code = this.health(s.fqdn).code;
                    const up = !s.maint && code >= 200 && code < 300;
                    out.push(
                        `3 agents ${i + 1} ${slot} 172.18.0.${i + 2} ${up ? 2 : 0} ${s.maint ? 1 : 4} ${s.weight} ${s.weight} 10 6 3 4 6 0 0 0 ${s.fqdn} ${this.connections[slot].port} -`,
                    );
                });
            } else if (cmd === "show table") {
                // HAProxy 2.6 prints one header line per table; the count tables are the
                // config template's (core/conversationTables.ts). Under way: every other one.
                this.onShowTable();
                this.tableShows++;
                const header = (name: string, used: number) => `# table: ${name}, type: string, size:${this.tableSize}, used:${used}`;
                out.push(header("agents", this.pinned.blue + this.pinned.green));
                for (const slot of ["blue", "green"] as Slot[]) {
                    out.push(
                        header(`zdt_pinned_${slot}`, this.pinned[slot]),
                        header(`zdt_underway_${slot}`, Math.floor(this.pinned[slot] / 2)),
                    );
                    if (this.talking) out.push(header(`zdt_talking_${slot}`, this.talking[slot]));
                    // A template that does not count active conversations has no active tables.
                    if (this.activeConversations) out.push(header(`zdt_active_${slot}`, slot === "blue" ? this.activeConversations() : 0));
                }
            } else if (cmd.startsWith("show table ")) {
                throw new Error(`a reading streamed a stick table: "${cmd}" (its size grows with traffic)`);
            } else if ((m = cmd.match(/^clear table agents data\.server_id eq (\d)$/))) {
                this.pinned[Number(m[1]) === 1 ? "blue" : "green"] = 0;
            } else if ((m = cmd.match(/^clear table zdt_(pinned|underway|active|talking)_(blue|green)$/))) {
                // The count tables of the slot whose entries were cleared just before.
                if (m[1] === "talking" && this.talking) this.talking[m[2] as Slot] = 0;
            } else if (cmd === "show stat") {
                const cols =
                    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime".split(
                        ",",
                    );
                const row = (sv: string, req: number, err: number, rtime: number) =>
                    cols
                        .map(
                            (c) =>
                                (
                                    ({
                                        pxname: "agents",
                                        svname: sv,
                                        req_tot: String(req),
                                        hrsp_5xx: String(err),
                                        rtime: String(rtime),
                                        status: "UP",
                                    }) as Record<string, string>
                                )[c] ?? "",
                        )
                        .join(",");
                const total = (k: "req" | "err5xx") => this.servers.blue[k] + this.servers.green[k];
                out.push(`# ${cols.join(",")}`, row("FRONTEND", total("req"), total("err5xx"), 0));
                for (const slot of ["blue", "green"] as Slot[]) {
                    const s = this.servers[slot];
                    out.push(row(slot, s.req, s.err5xx, this.agents.get(s.fqdn)?.rtimeMs ?? 3));
                }
                out.push(row("BACKEND", total("req"), total("err5xx"), 0));
            } else {
                return `Unknown command: '${cmd}'\n`;
            }
        }
        return out.join("\n") + "\n";
    }

    private health(container: string): { code: number; ms: number } {
        const a = this.agents.get(container);
        return a ? { code: a.healthCode ?? 200, ms: a.healthMs ?? 4 } : { code: 503, ms: 1 };
    }

    private body(container: string): string {
        const a = this.agents.get(container);
        if (a?.plainHealth) return a.healthCode === 503 ? "failing" : "ok";
        return a
            ? JSON.stringify({
                  status: a.healthCode === 503 ? "failing" : "ok",
                  releaseId: a.release,
                  version: a.version,
                  checks: { knowledge: { ok: a.healthCode !== 503, detail: "fault (FAULT_HEALTH=fail)" } },
              })
            : "";
    }

    /** An evaluation turn (sh -c 'curl "$@" ...' sh <curl's arguments>): headers, write-out and its end, then the body. */
    private turn(args: string[], input: string): string {
        const headers: Record<string, string> = {};
        args.forEach((a, i) => {
            if (args[i - 1] !== "-H") return;
            const at = a.indexOf(": ");
            headers[a.slice(0, at).toLowerCase()] = a.slice(at + 2);
        });
        const slot = headers["x-zdt-slot"] as Slot;
        const fqdn = this.servers[slot].fqdn;
        const agent = this.agents.get(fqdn);
        const path = new URL(args[args.length - 1]).pathname;
        const body = args.includes("@-") ? input : "";
        this.turns.push({ slot, release: agent?.release ?? fqdn, path, body, headers });
        const a = agent?.answer?.({ path, body, headers }) ?? { status: 404, body: "no route" };
        const status = a.status ?? 200;
        this.t += a.ms ?? 20;
        return `HTTP/1.1 ${status} X\r\nx-zdt-server: ${slot}\r\n\r\n\n${status} ${(a.ms ?? 20) / 1000}\n${ANSWER_END}\n${a.body}`;
    }

    private curl(args: string[]): string {
        // Several requests in one curl (haproxy/probes.ts, served): each answer, then its end marker.
        if ((args[args.indexOf("-w") + 1] ?? "").includes(ANSWER_END)) {
            const pin = args.filter((a) => a.startsWith("x-zdt-slot: "));
            return args
                .filter((a) => /^https?:\/\//.test(a))
                .map((u) => `${this.curl([...pin, u])}\n${ANSWER_END}\n`)
                .join("");
        }
        const pinned = args.find((a) => a.startsWith("x-zdt-slot: "))?.slice("x-zdt-slot: ".length) as Slot | undefined;
        const url = args[args.length - 1];
        const path = new URL(url).pathname;
        if (path !== "/metrics" && path !== "/version" && path !== "/v1/chat") {
            // A health probe, as HAProxy answers curl -D - inside its container: the server that answered in x-zdt-server.
            const slot = pinned ?? this.serving();
            if (!slot) return `HTTP/1.1 503 Service Unavailable\r\n\r\nno server\n503 0.001`;
            const s = this.servers[slot];
            const served = this.serverName?.(slot) ?? slot;
            if (path !== (this.agents.get(s.fqdn)?.healthPath ?? "/health"))
                return `HTTP/1.1 404 Not Found\r\nx-zdt-server: ${served}\r\n\r\nnot found\n404 0.001`;
            const h = this.health(s.fqdn);
            return `HTTP/1.1 ${h.code} X\r\nx-zdt-server: ${served}\r\n\r\n${this.body(s.fqdn)}\n${h.code} ${h.ms / 1000}`;
        }
        if (url.endsWith("/metrics")) {
            this.metricsRequests++;
            const a = this.agents.get(this.servers[pinned ?? this.serving()!].fqdn);
            return a?.metrics ? `${a.metrics()}\n200` : "no route GET /metrics\n404";
        }
        const slot = this.serving();
        if (!slot) return "";
        const s = this.servers[slot];
        if (url.endsWith("/version")) return this.body(s.fqdn);
        if (url.endsWith("/v1/chat")) {
            // Spread over the slots in service by weight, as HAProxy's roundrobin does.
            const n = args.filter((a) => a.endsWith("/v1/chat")).length;
            const inService = (["blue", "green"] as Slot[]).filter((sl) => !this.servers[sl].maint && this.servers[sl].weight > 0);
            const total = inService.reduce((t, sl) => t + this.servers[sl].weight, 0);
            for (const sl of inService) {
                const srv = this.servers[sl];
                const share = (this.shareCarry.get(sl) ?? 0) + (n * srv.weight) / total;
                const got = Math.floor(share + 1e-9);
                this.shareCarry.set(sl, share - got);
                const rate = this.agents.get(srv.fqdn)?.errorRate ?? 0;
                const carried = (this.errorCarry.get(srv.fqdn) ?? 0) + got * rate;
                const errors = Math.floor(carried);
                this.errorCarry.set(srv.fqdn, carried - errors);
                srv.req += got;
                srv.err5xx += errors;
            }
            return "";
        }
        throw new Error(`fake proxy: unexpected URL ${url}`);
    }
}
