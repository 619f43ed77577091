// The status view: each row judged with the verification's rules, and its flags.
import { expect } from "chai";
import { parseStatusArgs } from "../../ops/status";
import { renderStatus, statusRows, type ReleaseStatus } from "../../ops/statusTable";
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
            ["active conversations", "INFO"],
        ]);
        expect(rows[2]).to.deep.include({ value: "LLM latency p95 800 ms (380 answers)", acceptable: "< 2 s", alert: "> 5 s" });
        expect(rows[4].value).to.equal("21 active, 37 pinned to this release");
    });

    it("WARN outside the acceptable range, ALERT past the alert level (a slow /health at once), NO DATA when missing", () => {
        const rows = statusRows(
            live({ requests: 1000, errors5xx: 5, health: { code: 200, ms: 650, failedChecks: "", badStreak: 0 }, llm: null, memory: null }),
            T,
        );
        expect(rows.map((r) => r.status)).to.deep.equal(["ALERT", "WARN", "OK", "NO DATA", "INFO"]);
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
