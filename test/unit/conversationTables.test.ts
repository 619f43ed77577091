import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { activeOf, countTables, fillOf, fillWarning, parseTableSummaries, pinnedOf, unpinCommands } from "../../core/conversationTables";
import { proxyEnvironment, proxyMemoryMb, serviceEnvironment, withSettings } from "../../config/proxySettings";
import { conversationKeyOf } from "../../core/conversationKey";

// `show table` with no table named, as HAProxy 2.6.12 prints it (read off a proxy of ours).
const SHOW_TABLE = [
    "# table: agents, type: string, size:1000, used:3",
    "# table: zdt_underway_green, type: string, size:1000, used:2",
    "# table: zdt_underway_blue, type: string, size:1000, used:1",
    "# table: zdt_active_green, type: string, size:1000, used:2",
    "# table: zdt_active_blue, type: string, size:1000, used:1",
    "# table: zdt_pinned_green, type: string, size:1000, used:2",
    "# table: zdt_pinned_blue, type: string, size:1000, used:1",
    "# table: zdt_talking_green, type: string, size:1000, used:1",
    "# table: zdt_talking_blue, type: string, size:1000, used:0",
    "",
].join("\n");

describe("conversation counts from the tables' headers (no table streamed)", () => {
    it("reads each table's size and entry count", () => {
        const t = parseTableSummaries(SHOW_TABLE);
        expect(t.size).to.equal(9);
        expect(t.get("agents")).to.deep.equal({ size: 1000, used: 3 });
        expect(t.get("zdt_underway_green")).to.deep.equal({ size: 1000, used: 2 });
    });

    it("counts a slot's pinned, under-way, talking and active conversations, and both slots' active ones", () => {
        const t = parseTableSummaries(SHOW_TABLE);
        expect(pinnedOf(t, "blue")).to.deep.equal({ count: 1, underWay: 1, talking: 0 });
        expect(pinnedOf(t, "green")).to.deep.equal({ count: 2, underWay: 2, talking: 1 });
        // A template of an earlier version has no talking table: not counted (the drain then waits for every pin).
        const earlier = parseTableSummaries(
            SHOW_TABLE.split("\n")
                .filter((l) => !l.includes("talking"))
                .join("\n"),
        );
        expect(pinnedOf(earlier, "green")).to.deep.equal({ count: 2, underWay: 2 });
        expect(activeOf(t, "green")).to.equal(2);
        expect(activeOf(t)).to.equal(3);
    });

    it("says a template without count tables pins nothing and does not count active conversations", () => {
        const t = parseTableSummaries("# table: agents, type: string, size:204800, used:9\n");
        expect(pinnedOf(t, "blue")).to.deep.equal({ count: 0, underWay: 0 });
        expect(activeOf(t)).to.equal(undefined);
        expect(unpinCommands(parseTableSummaries(""), "agents", [1], "blue")).to.deep.equal([]);
    });

    it("reads counts of several hundred thousand entries from one line each", () => {
        const t = parseTableSummaries("# table: zdt_pinned_blue, type: string, size:5000000, used:412345\n");
        expect(pinnedOf(t, "blue").count).to.equal(412345);
    });

    it("warns from 90 % of the pinning table and says when it evicts", () => {
        const at = (used: number) => fillOf(parseTableSummaries(`# table: agents, type: string, size:1000, used:${used}\n`), "agents");
        expect(at(899)).to.deep.equal({ size: 1000, used: 899, percent: 89.9 });
        expect(fillWarning(at(899))).to.equal(undefined);
        expect(fillWarning(at(900))).to.match(/900 of 1000 entries \(90 %\), nearly full/);
        expect(fillWarning(at(1000))).to.match(/full: HAProxy is evicting the oldest pins/);
        // HAProxy evicts a batch of size/256 + 1 when full: a full table of 1000 reads 996 or more.
        expect(fillWarning(at(996))).to.match(/full: HAProxy is evicting/);
        expect(fillWarning(at(995))).to.match(/nearly full/);
        expect(fillWarning(undefined)).to.equal(undefined);
        expect(fillOf(parseTableSummaries(""), "agents")).to.equal(undefined);
    });

    it("unpins a slot by its servers' entries and clears only that slot's count tables", () => {
        expect(unpinCommands(parseTableSummaries(SHOW_TABLE), "agents", [5, 6], "green")).to.deep.equal([
            "clear table agents data.server_id eq 5",
            "clear table agents data.server_id eq 6",
            "clear table zdt_pinned_green",
            "clear table zdt_active_green",
            "clear table zdt_underway_green",
            "clear table zdt_talking_green",
        ]);
    });

    for (const template of ["haproxy.cfg.tmpl", "haproxy-swarm.cfg.tmpl"])
        it(`finds every count table, and the rule that fills it, in proxy/${template}`, () => {
            const text = fs.readFileSync(path.join(__dirname, "..", "..", "proxy", template), "utf8");
            for (const slot of ["blue", "green"] as const)
                for (const table of Object.values(countTables(slot))) {
                    expect(text).to.match(new RegExp(`^backend ${table}\\n  stick-table `, "m"));
                    // Talking is a store rule (HAProxy 2.6 tracks three counters per request, all taken).
                    expect(text).to.match(
                        new RegExp(
                            `^  (http-response track-sc\\d|stick store-response) var\\(txn.conversation\\) table ${table} .*srv_name -m beg ${slot}`,
                            "m",
                        ),
                    );
                }
            // Nothing tracks or pins a message that carries no key.
            expect(text).not.to.match(/track-sc\d req\.hdr/);
            expect(text).to.match(/^ {2}stick on var\(txn\.conversation\) if \{ var\(txn\.conversation\) -m found \}/m);
        });
});

describe("the proxy's conversation settings (config/proxySettings.ts)", () => {
    it("writes the settings into the one-host template, leaving the container's own variables to start-proxy", () => {
        const template = fs.readFileSync(path.join(__dirname, "..", "..", "proxy", "haproxy.cfg.tmpl"), "utf8");
        const out = withSettings(template, {
            conversations: { tableSize: 2000, idleTimeoutSeconds: 20, quietSeconds: 30, pinKeyless: true },
            agentHealth: { path: "/healthz", expectStatus: 204 },
        });
        expect(out).to.match(/^ {2}stick-table type string len 64 size 2000 expire 20s peers zdt_conversations$/m);
        // The default key, the X-Conversation-Id header, with a new id for a keyless message (pinKeyless).
        expect(out).to.include(
            "  http-request set-header X-Conversation-Id %[uuid] if conversation_path !{ req.hdr(x-conversation-id) -m reg ^[A-Za-z0-9._:-]{1,64}\\$ }",
        );
        expect(out).not.to.match(
            /\$\{(CONVERSATION_TABLE_SIZE|CONVERSATION_IDLE_TIMEOUT|CONVERSATION_QUIET_TIMEOUT|CONVERSATION_RULES|HEALTH_PATH|HEALTH_EXPECT)\}/,
        );
        // Talking lasts quietSeconds, at most the idle timeout (a pin lasts no longer): 30 s asked, 20 s idle.
        expect(out).to.match(/^backend zdt_talking_blue\n {2}stick-table type string len 64 size 2000 expire 20s /m);
        // The agent's health endpoint, as the proxy checks it.
        expect(out).to.match(/^ {2}option httpchk GET \/healthz$/m);
        expect(out).to.match(/^ {2}http-check expect status 204$/m);
        expect(out).to.include("bind :${LISTEN_PORT}");
        const env = proxyEnvironment({ conversations: { tableSize: 1000, idleTimeoutSeconds: 600, quietSeconds: 30, pinKeyless: false } });
        expect(env).to.deep.include({
            CONVERSATION_TABLE_SIZE: "1000",
            CONVERSATION_IDLE_TIMEOUT: "600s",
            CONVERSATION_QUIET_TIMEOUT: "30s",
            PIN_KEYLESS: "no",
            HEALTH_PATH: "/health",
            HEALTH_EXPECT: "status 200",
        });
        // No health endpoint of its own: any answer below 500 is a good one.
        const any = withSettings(template, {
            conversations: { tableSize: 2000, idleTimeoutSeconds: 20, quietSeconds: 30, pinKeyless: false },
            agentHealth: { path: "/", expectStatus: "any" },
        });
        expect(any).to.match(/^ {2}http-check expect rstatus \^\[1-4\]$/m);
        expect(env.CONVERSATION_RULES.split("\n")).to.deep.equal([
            "  acl conversation_path path_beg /v1/chat",
            "  http-request set-var(txn.conversation) req.hdr(x-conversation-id) if conversation_path !{ var(txn.conversation) -m found }",
            "  http-request unset-var(txn.conversation) if { var(txn.conversation) -m found } !{ var(txn.conversation) -m reg ^[A-Za-z0-9._:-]{1,64}$ }",
            "  http-request unset-var(txn.conversation) if { var(txn.conversation) -m found } { req.hdr(x-zdt-slot) -m found } { src 127.0.0.1 }",
            "  http-response set-header X-Conversation-Id %[var(txn.conversation)] if { var(txn.conversation) -m found }",
        ]);
    });

    it("gives a Swarm proxy service one line a variable: the key's rules base64-encoded, decoded by start-proxy", () => {
        const settings = {
            conversations: { tableSize: 1000, idleTimeoutSeconds: 600, quietSeconds: 30, pinKeyless: false },
            conversationKey: conversationKeyOf({ preset: "telegram" }),
        };
        const env = serviceEnvironment(settings);
        for (const [k, v] of Object.entries(env)) expect(v, k).to.not.include("\n");
        expect(env).to.not.have.property("CONVERSATION_RULES");
        expect(Buffer.from(env.CONVERSATION_RULES_B64, "base64").toString("utf8")).to.equal(proxyEnvironment(settings).CONVERSATION_RULES);
        const script = fs.readFileSync(path.join(__dirname, "..", "..", "proxy", "start-proxy.sh"), "utf8");
        expect(script).to.include(`CONVERSATION_RULES=$(printf '%s' "$CONVERSATION_RULES_B64" | base64 -d)`);
    });

    it("gives the proxy memory for its tables full in two workers (a reload), in steps of 64 MB", () => {
        expect(proxyMemoryMb(1_000)).to.equal(192);
        expect(proxyMemoryMb(100_000)).to.equal(384);
        expect(proxyMemoryMb(500_000)).to.equal(1408);
        expect(proxyMemoryMb(2_000_000) % 64).to.equal(0);
    });
});
