// The status view: each row judged with the verification's rules, and its flags.
import { expect } from "chai";
import { parseStatusArgs } from "../../ops/status";
import { activeConversationTotal, nodeLines, renderStatus, statusRows, tableStatus, type ReleaseStatus } from "../../ops/statusTable";
import { switchInput } from "../support/switchInput";

const T = switchInput().thresholds;
const live = (s: Partial<ReleaseStatus["sample"]> = {}): ReleaseStatus => ({
    slot: "green",
    release: "2-0-0-abcdef12",
    weight: 100,
    role: "live",
    conversations: 37,
    activeConversations: 21,
    sample: {
        requests: 400,
        errors5xx: 0,
        avgResponseMs: 4,
        health: { code: 200, ms: 6, failedChecks: "", badStreak: 0 },
        llm: { p95Ms: 800, answers: 380 },
        memory: { percent: 14.2, usedMb: 36, limitMb: 256 },
        conversations: { active: 120, baseline: 118, dropStreak: 0 },
        ...s,
    },
});

describe("status view", () => {
    it("shows the blueprint's five metrics with their ranges, OK when all is well", () => {
        const rows = statusRows(live(), T);
        expect(rows.map((r) => [r.metric, r.status])).to.deep.equal([
            ["health check response time", "OK"],
            ["error rate (5xx)", "OK"],
            ["LLM inference latency (p95)", "OK"],
            ["memory usage", "OK"],
            ["active conversations", "OK"],
        ]);
        expect(rows[2]).to.deep.include({ value: "LLM latency p95 800 ms (380 answers)", acceptable: "< 2 s", alert: "> 5 s" });
        expect(rows[4]).to.deep.include({
            value: "21 active, 37 pinned here; 120 in all, 118 at start (+1.7%)",
            acceptable: "start +- 10 %",
            alert: "drop > 20 %",
        });
    });

    it("judges active conversations as the release gate does: all releases against the count when the view started", () => {
        const at = (active: number, baseline: number | null, dropStreak = 0) =>
            statusRows(live({ conversations: { active, baseline, dropStreak } }), T)[4];
        expect(at(100, 118).status).to.equal("WARN"); // -15 %
        // A drop over the alert level: a warning in one refresh, an alert in two in a row.
        expect(at(90, 118, 1).status).to.equal("WARN");
        expect(at(90, 118, 2)).to.deep.include({ status: "ALERT", value: "21 active, 37 pinned here; 90 in all, 118 at start (-23.7%)" });
        expect(at(140, 118).status).to.equal("WARN"); // +19 %: outside the acceptable range, no alert
        expect(at(10, 30)).to.deep.include({
            status: "WAIT",
            value: "21 active, 37 pinned here; 10 in all, 30 at start (a drop is judged from 50)",
        });
        expect(statusRows(live({ conversations: null }), T)[4].status).to.equal("NO DATA");
        // The count the row judges: every release's, or none when one is not counted.
        expect(activeConversationTotal([{ activeConversations: 21 }, { activeConversations: 4 }])).to.equal(25);
        expect(activeConversationTotal([{ activeConversations: 21 }, { activeConversations: undefined }])).to.equal(null);
    });

    it("WARN outside the acceptable range, ALERT past the alert level (a slow /health at once), NO DATA when missing", () => {
        const rows = statusRows(
            live({ requests: 1000, errors5xx: 5, health: { code: 200, ms: 650, failedChecks: "", badStreak: 0 }, llm: null, memory: null }),
            T,
        );
        expect(rows.map((r) => r.status)).to.deep.equal(["ALERT", "WARN", "OK", "NO DATA", "OK"]);
        expect(rows[2].value).to.match(/HAProxy's average response time judged instead/);
        expect(statusRows(live({ requests: 3 }), T)[1].status).to.equal("WAIT");
    });

    it("renders a heading per release and an aligned table", () => {
        const text = renderStatus("app-proxy", [live(), { ...live(), slot: "blue", role: "canary", weight: 5 }], T);
        const lines = text.split("\n");
        expect(lines).to.include("live: 2-0-0-abcdef12 on green, weight 100");
        expect(lines).to.include("canary: 2-0-0-abcdef12 on blue, weight 5");
        const header = lines.find((l) => l.trimStart().startsWith("metric"))!;
        const ok = lines.find((l) => l.includes("memory usage"))!;
        expect(ok.indexOf("< 80 %")).to.equal(header.indexOf("acceptable"));
        expect(renderStatus("app-proxy", [], T)).to.include("no release takes traffic");
    });

    it("shows how full the proxy's conversation table is: OK, WARN from 90 %, ALERT when full and evicting", () => {
        expect(renderStatus("app-proxy", [], T, { size: 1000, used: 12, percent: 1.2 })).to.include(
            "conversation table: 12 of 1000 entries (1.2 %)  OK",
        );
        expect(tableStatus({ size: 1000, used: 950, percent: 95 })).to.deep.include({ status: "WARN" });
        const full = tableStatus({ size: 1000, used: 1000, percent: 100 });
        expect(full.status).to.equal("ALERT");
        expect(full.line).to.match(/full: HAProxy is evicting the oldest pins/);
        expect(tableStatus(undefined).status).to.equal("NO DATA");
    });

    it("on Swarm, a line per node's proxy: its requests and 5xx over the interval, ALERT for one that does not answer", () => {
        const lines = nodeLines(
            [
                { node: "node-1", requests: 120, errors5xx: 0 },
                { node: "node-2", why: "lost: the manager reports its node down" },
            ],
            5,
        );
        expect(lines).to.deep.equal([
            { line: "proxy on node-1: 120 requests, 0 5xx in the last 5s  OK", status: "OK" },
            { line: "proxy on node-2: no answer (lost: the manager reports its node down)  ALERT", status: "ALERT" },
        ]);
        const text = renderStatus("the proxies of shop", [live()], T, undefined, undefined, undefined, lines).split("\n");
        expect(text.indexOf(lines[0].line)).to.be.above(0).and.below(text.indexOf("live: 2-0-0-abcdef12 on green, weight 100"));
        expect(text).to.include(lines[1].line);
    });

    it("parses its flags and names a bad one", () => {
        expect(parseStatusArgs(["--stack", "prod", "--interval", "2", "--once"])).to.deep.equal({
            stack: "prod",
            intervalSeconds: 2,
            once: true,
        });
        expect(() => parseStatusArgs(["--interval", "0"])).to.throw('--interval must be whole seconds from 1 to 3600, not "0"');
        expect(() => parseStatusArgs(["--watch"])).to.throw(/unknown argument "--watch"/);
    });
});
