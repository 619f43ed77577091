import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import {
    ADMIN_ANSWER_SECONDS,
    ADMIN_SESSION,
    HaproxyAdmin,
    parseServersConn,
    parseServersState,
    purgeCommands,
    READ_ATTEMPTS,
    READ_RETRY_MS,
    SLOT_DIR,
    SLOT_FILE,
    slotFile,
    statRow,
} from "../../haproxy/admin";
import { FakeProxy } from "../support/fakeProxy";
import { liveSlot, slotOfServer, type SlotState } from "../../core/slots";
import { ANSWER_END, CurlProbes, parseCurlAnswer, splitAnswers, syntheticCurl } from "../../haproxy/probes";
import { REFERENCE_PROBE } from "../../config/release";
import { ProxyError } from "../../engine/ports";

describe("HAProxy `show stat` parsing", () => {
    const csv = "# pxname,svname,scur,req_tot,hrsp_5xx,status\nagents,FRONTEND,3,120,2,OPEN\nagents,green,1,80,0,UP\n";
    it("finds a row by proxy and server and names its columns", () => {
        expect(statRow(csv, "agents", "green")).to.include({ pxname: "agents", req_tot: "80", hrsp_5xx: "0", status: "UP" });
        expect(statRow(csv, "agents", "FRONTEND")!.req_tot).to.equal("120");
        expect(statRow(csv, "agents", "blue")).to.equal(undefined);
    });
});

describe("HAProxy `show servers state` and the slot file", () => {
    // As HAProxy 2.6 prints it: blue in maintenance by config (admin 0x01), green running at weight 100.
    const out = [
        "1",
        "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord",
        "3 agents 1 blue - 0 1 0 1 40 1 0 0 14 0 0 0 unassigned.invalid 8080 -",
        "3 agents 2 green 172.18.0.3 2 4 100 1 40 6 3 4 6 0 0 0 app-agent-2-0-0-bbbbbbbb 8080 -",
    ].join("\n");

    it("reads each slot's address, weight, check state and maintenance", () => {
        expect(parseServersState(out)).to.deep.equal({
            blue: { slot: "blue", id: 1, fqdn: "unassigned.invalid", up: false, maint: true, weight: 0, address: "-", port: 8080 },
            // 0x04 only records "disabled" in the config file and does not mean maintenance.
            green: {
                slot: "green",
                id: 2,
                fqdn: "app-agent-2-0-0-bbbbbbbb",
                up: true,
                maint: false,
                weight: 100,
                address: "172.18.0.3",
                port: 8080,
            },
        });
    });

    it("writes the slot file proxy/start-proxy.sh reads back: '<slot> <address> <weight> <ready|maint>'", () => {
        expect(slotFile({ blue: { fqdn: "a", weight: 0, maint: true }, green: { fqdn: "b", weight: 100, maint: false } })).to.equal(
            "blue a 0 maint\ngreen b 100 ready\n",
        );
        expect(
            slotFile({ blue: { fqdn: "a", weight: 0, maint: true }, green: { fqdn: "b", weight: 100, maint: false } }, { green: 3000 }),
        ).to.equal("blue a 0 maint\ngreen b 100 ready 3000\n");
        const script = fs.readFileSync(path.join(__dirname, "..", "..", "proxy", "start-proxy.sh"), "utf8");
        expect(script).to.include("while read -r slot address weight state port");
        expect(script).to.include("$2:${5:-$AGENT_PORT}");
        expect(script).to.include(`STATE=${SLOT_DIR}`);
        expect(`${SLOT_DIR}/slots`).to.equal(SLOT_FILE);
        expect(script).to.include("SLOTS=$STATE/slots");
    });
});

describe("the live slot", () => {
    const slots = (blue: [number, boolean, string], green: [number, boolean, string]): Record<"blue" | "green", SlotState> => ({
        blue: { slot: "blue", id: 1, weight: blue[0], maint: blue[1], fqdn: blue[2], up: true },
        green: { slot: "green", id: 2, weight: green[0], maint: green[1], fqdn: green[2], up: true },
    });

    it("is the slot in service with weight, none on a fresh proxy", () => {
        expect(liveSlot(slots([0, false, "a"], [100, false, "b"]))).to.equal("green");
        expect(liveSlot(slots([100, true, "a"], [0, false, "b"]))).to.equal(undefined);
    });

    it("during an interrupted canary, the one with more weight, and on a tie the one not running the new release", () => {
        expect(liveSlot(slots([25, false, "v2"], [75, false, "v1"]), "v2")).to.equal("green");
        expect(liveSlot(slots([60, false, "v2"], [40, false, "v1"]), "v2")).to.equal("blue");
        expect(liveSlot(slots([50, false, "v2"], [50, false, "v1"]), "v2")).to.equal("green");
        expect(liveSlot(slots([50, false, "v1"], [50, false, "v2"]), "v2")).to.equal("blue");
    });
});

describe("re-pointing a slot never leaves a pooled connection to its previous target", () => {
    // As HAProxy 2.6.12 printed it in a trial (six idle connections pooled to a slot).
    const out = [
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]",
        "agents/blue 3/1 172.31.0.2 8080 - 5000 0 1 1 0 0 -1 0 0 0",
        "agents/green 3/2 172.31.0.3 8080 - 5000 2 6 6 3 3 -1 6 3 3",
        "",
    ].join("\n");
    const DRAIN_MS = 30_000;
    const emptied = (proxy: FakeProxy) => new HaproxyAdmin(proxy.exec, "p").emptyPool("green", DRAIN_MS, async () => undefined);
    /** blue serves; green was just pointed at a new release that passed its gate. */
    async function gated(): Promise<FakeProxy> {
        const proxy = new FakeProxy({ slot: "blue", agent: "app-agent-1" });
        proxy.agents
            .set("app-agent-1", { release: "1-0-0-a", version: "1.0.0" })
            .set("app-agent-2", { release: "2-0-0-b", version: "2.0.0" });
        await new HaproxyAdmin(proxy.exec, "p").assign("green", "app-agent-2");
        proxy.sessions.length = 0;
        return proxy;
    }
    it("a release on another port (agent.port): once its name resolved, in maintenance still, the slot gets its address and that port", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: "app-agent-1" });
        proxy.agents.set("app-agent-2", { release: "2-0-0-b", version: "2.0.0" });
        await new HaproxyAdmin(proxy.exec, "p", 3000, async () => undefined).assign("green", "app-agent-2");
        expect(proxy.setCommands()).to.deep.equal([
            "set server agents/green state maint",
            "set server agents/green fqdn app-agent-2",
            "set server agents/green weight 0",
            "set server agents/green addr 172.18.0.3 port 3000",
            "set server agents/green state ready",
        ]);
        expect(proxy.connections.green.port).to.equal(3000);
        expect((await new HaproxyAdmin(proxy.exec, "p").slots()).green.port).to.equal(3000);
        // The same port: one admin session, no wait for the address.
        proxy.sessions.length = 0;
        await new HaproxyAdmin(proxy.exec, "p", 3000).assign("green", "app-agent-2");
        expect(proxy.sessions).to.have.length(2); // the read of the slots and the re-pointing
    });

    it("an admin session waits for a slow answer, and an empty one is an error naming the proxy, not a proxy without slots", async () => {
        // socat's default is to give up 0.5 s after sending, exiting 0 with nothing read.
        const wait = ADMIN_SESSION.indexOf("-t");
        expect(ADMIN_SESSION[0]).to.equal("socat");
        expect(Number(ADMIN_SESSION[wait + 1]))
            .to.equal(ADMIN_ANSWER_SECONDS)
            .and.be.at.least(5);
        let sessions = 0;
        const silent = new HaproxyAdmin(
            async () => {
                sessions++;
                return "";
            },
            "the proxy on node-2",
            undefined,
            async () => {},
        );
        const err = await silent.slots().then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err).to.be.instanceOf(ProxyError);
        expect(err!.message).to.equal(
            `proxy the proxy on node-2 did not answer "show servers state agents" (asked again for ${READ_RETRY_MS / 1000} s, each session given ${ADMIN_ANSWER_SECONDS} s)`,
        );
        expect(sessions).to.equal(READ_ATTEMPTS);
    });

    it("a read that met a reload (the old worker answers without its stopped proxies) is asked again; a write is sent once", async () => {
        // What HAProxy 2.6's old worker answers a session it accepted just before it stopped.
        const oldWorker: Record<string, string> = {
            "show stat": "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status\n\n",
            "show servers state agents": "Can't find backend.\n",
            "show servers conn agents": "",
            "show table": "",
        };
        const proxy = new FakeProxy({ slot: "blue", agent: "app-agent-1" });
        let reloading = 0;
        const sessions: string[] = [];
        const exec: typeof proxy.exec = async (args, input = "") => {
            sessions.push(input.trim());
            const command = input.trim().split(";").pop()!;
            if (args[0] === "socat" && reloading > 0 && command in oldWorker) {
                reloading--;
                return oldWorker[command];
            }
            return proxy.exec(args, input);
        };
        const slept: number[] = [];
        const admin = new HaproxyAdmin(exec, "p", undefined, async (ms) => {
            slept.push(ms);
        });
        for (const [read, command] of [
            [() => admin.stats("blue"), "show stat"],
            [() => admin.totals(), "show stat"],
            [() => admin.slots(), "show servers state agents"],
            [() => admin.tables(), "show table"],
            [() => admin.pinned("blue"), "show table"],
        ] as const) {
            reloading = 2;
            sessions.length = slept.length = 0;
            const value = await read();
            expect(sessions, command).to.deep.equal([command, command, command]);
            expect(slept, command).to.deep.equal([200, 200]);
            expect(value, command).to.deep.equal(await read()); // what the new worker answers
        }
        expect((await admin.stats("blue")).status).to.equal("UP");
        expect((await admin.slots()).blue.fqdn).to.equal("app-agent-1");

        // A session refused (the old proxy of a hand-over, stopped): the next one reaches the new proxy.
        let refused = 1;
        const handedOver = new HaproxyAdmin(
            async (args, input) => {
                if (refused-- > 0)
                    throw new Error('docker exec -i p: socat[9] E connect(5, AF=1 "/run/haproxy/admin.sock", 25): Connection refused');
                return proxy.exec(args, input);
            },
            "p",
            undefined,
            async () => {},
        );
        expect((await handedOver.stats("blue")).status).to.equal("UP");
        // Refused every time: that error, after the attempts. An engine or container that does
        // not answer is no session refused: its error at once (a lost Swarm node is found as before).
        for (const [error, attempts] of [
            ['docker exec -i p: socat[7] E connect(5, AF=1 "/run/haproxy/admin.sock", 25): Connection refused', READ_ATTEMPTS],
            ["docker exec -i p: Cannot connect to the Docker daemon at unix:///var/run/docker.sock", 1],
            ["docker exec -i p: Error response from daemon: No such container: p", 1],
        ] as const) {
            let tries = 0;
            const gone = new HaproxyAdmin(
                async () => {
                    tries++;
                    throw new Error(error);
                },
                "p",
                undefined,
                async () => {},
            );
            const message = await gone.tables().then(
                () => "",
                (e: Error) => e.message,
            );
            expect(message).to.equal(error);
            expect(tries, error).to.equal(attempts);
        }

        // A proxy without the agents backend at all still says so, after the attempts.
        const foreign = new HaproxyAdmin(
            async () => "# pxname,svname\nweb,FRONTEND\n",
            "p",
            undefined,
            async () => {},
        );
        const err = await foreign.stats("blue").then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err!.message).to.equal("no statistics for agents/blue");

        // Writes are not repeated, whatever they answer.
        reloading = 0;
        sessions.length = 0;
        await admin.setWeights(["blue", 100]);
        expect(sessions).to.deep.equal(["set server agents/blue weight 100"]);
    });

    it("persisting on a Swarm proxy (server templates blue1.., no plain slot server) writes the slot file without ports", async () => {
        const written: string[] = [];
        const exec = async (cmd: string[], input?: string): Promise<string> => {
            if (cmd[0] === "sh") {
                written.push(input ?? "");
                return "";
            }
            return [
                "1",
                "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord",
                "3 agents 1 blue1 10.0.1.2 2 0 100 100 4 6 3 4 6 0 0 0 tasks.app-agent-2 8080 -",
                "3 agents 5 green1 - 0 1 0 0 4 6 3 4 6 0 0 0 unassigned.invalid 8080 -",
            ].join("\n");
        };
        await new HaproxyAdmin(exec, "node-1").persist({
            blue: { fqdn: "tasks.app-agent-2", weight: 100, maint: false },
            green: { fqdn: "unassigned.invalid", weight: 0, maint: true },
        });
        expect(written).to.deep.equal(["blue tasks.app-agent-2 100 ready\ngreen unassigned.invalid 0 maint\n"]);
    });

    const maintAndBack = (...between: string[]) => [
        "set server agents/green state maint",
        ...between,
        "set server agents/green state ready",
    ];

    it("reads each slot's connections in use and idle, and their address, from `show servers conn`", () => {
        expect(parseServersConn(out)).to.deep.equal({
            blue: { used: 0, idle: 0, address: "172.31.0.2", port: 8080 },
            green: { used: 2, idle: 6, address: "172.31.0.3", port: 8080 },
        });
        expect(parseServersConn("")).to.deep.equal({});
    });

    it("a slot with no connection goes through maintenance and back, with nothing to purge", async () => {
        const proxy = await gated();
        expect(await emptied(proxy)).to.equal("");
        expect(proxy.setCommands()).to.deep.equal(maintAndBack());
    });

    it("waits for the connections in use, then purges the pool they went back to", async () => {
        const proxy = await gated();
        proxy.connections.green = { used: 3, idle: 5, port: 8080 };
        // maintenance closes the 5 idle ones; the 3 in use go back to the pool when they end (HAProxy 2.6)
        expect(await emptied(proxy)).to.equal("waited for 3 connections in use, purged 3 pooled connections");
        expect(proxy.setCommands()).to.deep.equal(
            maintAndBack("set server agents/green addr 172.18.0.3 port 8081", "set server agents/green addr 172.18.0.3 port 8080"),
        );
        expect(proxy.connections.green).to.include({ used: 0, idle: 0, port: 8080 });
        expect(proxy.shutdowns).to.deep.equal([]);
    });

    it("shuts what still runs on the previous target after the drain (the retirement's), never before", async () => {
        const proxy = await gated();
        proxy.connections.green = { used: 1, idle: 0, port: 8080, stuck: true }; // a stream that does not end
        let waited = 0;
        const did = await new HaproxyAdmin(proxy.exec, "p").emptyPool("green", DRAIN_MS, async (ms) => void (waited += ms));
        expect(waited).to.be.within(DRAIN_MS, DRAIN_MS + 1000);
        expect(proxy.shutdowns).to.deep.equal(["green"]);
        expect(did).to.equal("shut 1 connections still in use after 30 s");
    });

    it("refuses a slot whose pool does not empty, naming it", async () => {
        const proxy = await gated();
        proxy.connections.green = { used: 2, idle: 0, port: 8080, keepsPool: true };
        const err = await emptied(proxy).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err).to.be.instanceOf(ProxyError);
        expect(err?.message).to.match(/agents\/green still pools 2 connections to 172\.18\.0\.3 after a purge; not giving it traffic/);
        expect(proxy.setCommands()).to.not.include("set server agents/green state ready");
    });

    it("a slot that does not come back up after maintenance gets no traffic, and the error says so", async () => {
        const proxy = await gated();
        proxy.agents.get("app-agent-2")!.healthCode = 503;
        const err = await emptied(proxy).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).to.equal("agents/green did not come back up within 10 s of leaving maintenance; not giving it traffic");
        expect(proxy.setCommands().some((c) => /weight [1-9]/.test(c))).to.equal(false);
    });

    it("the purge moves the port away and back (the last port moves down)", () => {
        const conns = { used: 0, idle: 4, address: "10.0.0.9", port: 65535 };
        expect(purgeCommands("agents/blue", conns)).to.deep.equal([
            "set server agents/blue addr 10.0.0.9 port 65534",
            "set server agents/blue addr 10.0.0.9 port 65535",
        ]);
    });
});

describe("synthetic requests (release.probe)", () => {
    it("the reference agent's chat by default; a described request as described, with no body on GET", () => {
        const urls = ["http://127.0.0.1:8080/v1/chat", "http://127.0.0.1:8080/v1/chat"];
        expect(syntheticCurl(REFERENCE_PROBE, urls)).to.deep.equal([
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data-binary",
            '{"message":"release verification probe"}',
            ...urls,
        ]);
        const get = syntheticCurl({ method: "GET", path: "/ping", body: "ignored", contentType: "text/plain" }, ["u"]);
        expect(get).to.deep.equal(["curl", "-s", "-o", "/dev/null", "--max-time", "10", "-X", "GET", "u"]);
    });
});

describe("probes through the proxy: whose answer it was", () => {
    it("reads status, time, headers and body of curl -D - output, a 100 Continue first or none at all", () => {
        expect(parseCurlAnswer("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Zdt-Server: green\r\n\r\nok\n200 0.004")).to.deep.equal({
            code: 200,
            ms: 4,
            headers: { "content-type": "text/plain", "x-zdt-server": "green" },
            body: "ok",
        });
        const cont = parseCurlAnswer(
            'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nx-zdt-server: blue2\r\n\r\n{"a":\n1}\n503 0.120',
        );
        expect(cont).to.deep.include({ code: 503, ms: 120, body: '{"a":\n1}' });
        expect(cont.headers["x-zdt-server"]).to.equal("blue2");
        expect(parseCurlAnswer("curl: (7) Failed to connect\n0 0")).to.deep.equal({
            code: 0,
            ms: 0,
            headers: {},
            body: "curl: (7) Failed to connect",
        });
    });

    it("splits the answers of one curl that made several requests, in order, bodies with or without a last newline", async () => {
        // Real curl (as in the proxy's image) against a local server that answers as blue, then green, then blue.
        const servers = ["blue", "green", "blue"];
        let i = 0;
        const srv = http.createServer((_req, res) => {
            const name = servers[i++ % servers.length];
            res.writeHead(200, { "x-zdt-server": name });
            res.end(i === 2 ? `{"releaseId":"r-${name}"}\n` : `{"releaseId":"r-${name}"}`);
        });
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
        try {
            const calls: string[][] = [];
            const exec = (args: string[]) => {
                calls.push(args);
                return new Promise<string>((resolve, reject) =>
                    execFile(args[0], args.slice(1), (err, stdout) => (err ? reject(err) : resolve(stdout))),
                );
            };
            const probes = new CurlProbes(exec, (srv.address() as { port: number }).port);
            const served = await probes.served(3);
            expect(calls).to.have.length(1);
            expect(served).to.deep.equal([
                { slot: "blue", release: "r-blue" },
                { slot: "green", release: "r-green" },
                { slot: "blue", release: "r-blue" },
            ]);
            expect(splitAnswers(`x\n200 0.001\n${ANSWER_END}\n`)).to.have.length(1);
        } finally {
            srv.close();
        }
        // No answer at all (curl could not run): one answer from no slot, never a pass.
        const failing = new CurlProbes(() => Promise.reject(new Error("no such container")), 1);
        expect(await failing.served(5)).to.deep.equal([{ slot: undefined }]);
    });

    it("names the slot of a server: one host's blue and green, a Swarm template's blue1..N; nothing else", () => {
        expect(["blue", "green", "blue3", "green12", "blueberry", "agents", "", undefined].map(slotOfServer)).to.deep.equal([
            "blue",
            "green",
            "blue",
            "green",
            undefined,
            undefined,
            undefined,
            undefined,
        ]);
    });
});
