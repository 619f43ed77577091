// The evaluation gate inside the switch, against the fake proxy: the set replayed on the
// new release and the live one before any weight moves; a release that answers wrong is
// refused (no weight, its slot in maintenance, its container stopped) naming each failed
// case with both answers; one that answers right goes on, its record side by side.
import { expect } from "chai";
import { parseTurnOutput, turnShell } from "../../haproxy/probes";
import { runSwitch, type SwitchDeps } from "../../engine/switch";
import { overallTimeoutMs } from "../../engine/switchRunner";
import { failedCases, replaySet, sideBySide } from "../../engine/evaluationGate";
import type { Judge } from "../../engine/ports";
import { parseEvaluationSet } from "../../config/evaluation";
import { EVALUATION_HEADER, judgeReply, turnRequest } from "../../core/evaluation";
import { rejection } from "../support/rejection";
import type { FakeContainers } from "../support/fakeContainers";
import { fakeSwitchDeps } from "../support/fakeSwitchDeps";
import { type FakeAgent, FakeProxy } from "../support/fakeProxy";
import { switchInput } from "../support/switchInput";

const C1 = "app-agent-1-0-0-aaaaaaaa";
const C2 = "app-agent-2-0-0-bbbbbbbb";
const CATALOG = "The Business plan costs 79 EUR per month. The Starter plan costs 19 EUR per month.";

/** A chat agent answering from its catalog (the reference agent's shape: {answer}). */
function chatAgent(release: string, catalog: string): FakeAgent {
    return {
        release,
        version: release.split("-").slice(0, 3).join("."),
        answer: ({ path, body }) => {
            if (path !== "/v1/chat") return { status: 404, body: "no route" };
            const q = (JSON.parse(body) as { message: string }).message.toLowerCase();
            const hit = catalog.split(". ").find((s) => q.split(" ").some((w) => w.length > 4 && s.toLowerCase().includes(w)));
            return {
                body: JSON.stringify({ answer: hit ? `From our knowledge base: ${hit}` : `I could not find anything about "${q}".` }),
            };
        },
    };
}

const SET = parseEvaluationSet(
    {
        cases: [
            { name: "business plan", turns: [{ message: "what does business cost", expect: { contains: ["79 EUR"] } }] },
            {
                name: "starter then business",
                turns: [
                    { message: "what does starter cost", expect: { matches: ["19\\s*EUR"] } },
                    { message: "and business", expect: { contains: ["79 EUR"], maxMs: 1000 } },
                ],
            },
        ],
    },
    "evaluation/test.json",
);

const input = (evaluation: Partial<ReturnType<typeof switchInput>["evaluation"]> = {}) =>
    switchInput({
        targetContainer: C2,
        targetRelease: "2-0-0-bbbbbbbb",
        targetVersion: "2.0.0",
        verifyWindowSeconds: 10,
        probeRequestsPerTick: 0,
        evaluation: { ...switchInput().evaluation, cases: SET.cases, ...evaluation },
    });

function deps(proxy: FakeProxy, judge?: Judge): SwitchDeps & { containers: FakeContainers; lines: string[] } {
    return { ...fakeSwitchDeps(proxy), ...(judge ? { judge } : {}) };
}

const liveOnV1 = (next: FakeAgent) => {
    const proxy = new FakeProxy({ slot: "blue", agent: C1 });
    proxy.agents.set(C1, chatAgent("1-0-0-aaaaaaaa", CATALOG)).set(C2, next);
    return proxy;
};

describe("evaluation gate (fake proxy)", () => {
    it("a release whose knowledge lost a product is refused before any weight moves, naming the case with both answers", async () => {
        const proxy = liveOnV1(chatAgent("2-0-0-bbbbbbbb", "The Starter plan costs 19 EUR per month."));
        const d = deps(proxy);
        const err = await rejection(runSwitch(input(), d), "the evaluation to refuse the release");
        expect(err.message).to.match(/^evaluation: 2-0-0-bbbbbbbb the evaluation set: passed 0 % of the cases \(at least 100 % wanted\)/);
        expect(err.message).to.include("failed: business plan, starter then business");
        expect(err.message).to.include("no customer request reached it, traffic stays on blue");
        // Each failed case, turn by turn: the new release's answer and the live one's.
        expect(err.message).to.match(
            /case "business plan":\n {4}turn 1: what does business cost\n {6}new: {2}does not contain "79 EUR": "I could not find[^\n]*\n {6}live: passed: "From our knowledge base: The Business plan costs 79 EUR/,
        );
        expect(err.message).to.match(
            /case "starter then business":\n {4}turn 1: what does starter cost\n {6}new: {2}passed[^\n]*\n {6}live: passed[^\n]*\n {4}turn 2: and business\n {6}new: {2}does not contain "79 EUR"/,
        );
        // No weight ever reached green; it ends in maintenance, its container stopped.
        expect(proxy.setCommands().filter((c) => /agents\/green weight [1-9]/.test(c))).to.deep.equal([]);
        expect(proxy.setCommands()).to.include("set server agents/green state maint");
        expect(d.containers.stopped).to.deep.equal([C2]);
        // Both releases were asked every turn of each case, through their pinned slots.
        expect(proxy.turns.filter((t) => t.slot === "green")).to.have.length(3);
        expect(proxy.turns.filter((t) => t.slot === "blue")).to.have.length(3);
    });

    it("a release that answers right goes on to the flip; the record holds each case side by side and the time it took", async () => {
        const proxy = liveOnV1(chatAgent("2-0-0-bbbbbbbb", CATALOG));
        const d = deps(proxy);
        const result = await runSwitch(input(), d);
        expect(result.liveColor).to.equal("green");
        const ev = result.evaluation!;
        expect(ev.passed).to.equal(true);
        expect([ev.newPassPercent, ev.livePassPercent]).to.deep.equal([100, 100]);
        expect(ev.cases.map((c) => [c.name, c.passed, c.livePassed, c.turns.length])).to.deep.equal([
            ["business plan", true, true, 1],
            ["starter then business", true, true, 2],
        ]);
        expect(ev.cases[1].turns[1].question).to.equal("and business");
        expect(ev.cases[1].turns[1].next!.text).to.match(/79 EUR/);
        expect(ev.cases[1].turns[1].live!.text).to.match(/79 EUR/);
        expect(result.phases.evaluationMs).to.be.greaterThan(0);
        expect(d.lines.some((l) => /^evaluation passed in \d+ ms: 100 % \(live 100 %\) of the cases$/.test(l))).to.equal(true);
        // Every turn carries the evaluation header naming its case; a case's turns share a
        // conversation, each release its own.
        for (const t of proxy.turns) expect(t.headers[EVALUATION_HEADER]).to.be.oneOf(["business plan", "starter then business"]);
        const convo = (slot: string) =>
            proxy.turns
                .filter((t) => t.slot === slot && t.headers[EVALUATION_HEADER] === "starter then business")
                .map((t) => t.headers["x-conversation-id"]);
        expect(new Set(convo("green")).size).to.equal(1);
        expect(convo("green")[0]).to.not.equal(convo("blue")[0]);
        // The replay came before any weight moved to green.
        const firstWeight = proxy.sessions.findIndex((s) => /agents\/green weight [1-9]/.test(s));
        expect(firstWeight).to.be.greaterThan(-1);
    });

    it("the regression rule: a case the live release fails too is no regression; minPassPercent then decides", async () => {
        // Both catalogs lack the Starter plan.
        const noStarter = "The Business plan costs 79 EUR per month.";
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, chatAgent("1-0-0-aaaaaaaa", noStarter)).set(C2, chatAgent("2-0-0-bbbbbbbb", noStarter));
        const passed = await runSwitch(input({ minPassPercent: 50 }), deps(proxy));
        expect(passed.evaluation!.newPassPercent).to.equal(50);
        expect(passed.evaluation!.livePassPercent).to.equal(50);

        const proxy2 = new FakeProxy({ slot: "blue", agent: C1 });
        proxy2.agents.set(C1, chatAgent("1-0-0-aaaaaaaa", noStarter)).set(C2, chatAgent("2-0-0-bbbbbbbb", noStarter));
        const err = await rejection(runSwitch(input({ minPassPercent: 60 }), deps(proxy2)), "the minimum to refuse it");
        expect(err.message).to.match(/passed 50 % of the cases \(at least 60 % wanted\)/);
        expect(err.message).to.not.match(/points fewer/);
    });

    it("a first deploy is judged on its own pass rate (no live release to compare with)", async () => {
        const proxy = new FakeProxy();
        proxy.agents.set(C2, chatAgent("2-0-0-bbbbbbbb", CATALOG));
        const result = await runSwitch(input(), deps(proxy));
        expect(result.evaluation!.livePassPercent).to.equal(null);
        expect(result.evaluation!.cases.every((c) => c.livePassed === null && c.turns.every((t) => t.live === null))).to.equal(true);
        expect(proxy.turns.every((t) => t.slot === "blue")).to.equal(true);
    });

    it("a judge scores rubrics: its FAIL fails the turn with its reason; a judge that does not answer fails it too", async () => {
        const set = parseEvaluationSet(
            {
                cases: [
                    { name: "business price", turns: [{ message: "what does business cost", expect: { judge: "says 79 EUR per month" } }] },
                ],
            },
            "evaluation/test.json",
        );
        const rubricJudge: Judge = {
            score: async (rubric, _q, answer) =>
                answer.includes("79 EUR") ? { pass: true, reason: "it does" } : { pass: false, reason: `no price (${rubric})` },
        };
        const wrong = liveOnV1(chatAgent("2-0-0-bbbbbbbb", "The Starter plan costs 19 EUR per month."));
        const err = await rejection(runSwitch(input({ cases: set.cases }), deps(wrong, rubricJudge)), "the judge to fail it");
        expect(err.message).to.match(/new: {2}the judge: no price \(says 79 EUR per month\)/);
        expect(err.message).to.match(/live: passed: "From our knowledge base: The Business plan costs 79 EUR/);

        const right = liveOnV1(chatAgent("2-0-0-bbbbbbbb", CATALOG));
        expect((await runSwitch(input({ cases: set.cases }), deps(right, rubricJudge))).evaluation!.passed).to.equal(true);

        const down: Judge = { score: async () => Promise.reject(new Error("connect ECONNREFUSED")) };
        const again = liveOnV1(chatAgent("2-0-0-bbbbbbbb", CATALOG));
        const err2 = await rejection(runSwitch(input({ cases: set.cases }), deps(again, down)), "a silent judge to fail it");
        expect(err2.message).to.include("the judge did not answer: connect ECONNREFUSED");
    });

    it("a channel's webhook turn: the payload sent as the set gives it, the reply read at its JSON path", async () => {
        const set = parseEvaluationSet(
            {
                cases: [
                    {
                        name: "telegram refunds",
                        turns: [
                            {
                                request: {
                                    path: "/telegram/webhook",
                                    body: { update_id: 9, message: { message_id: 1, chat: { id: 42 }, text: "refunds?" } },
                                    replyPath: "text",
                                },
                                expect: { contains: ["30 days"], json: [{ path: "method", equals: "sendMessage" }] },
                            },
                        ],
                    },
                ],
            },
            "evaluation/test.json",
        );
        const bot = (days: number, release: string): FakeAgent => ({
            release,
            version: release.split("-").slice(0, 3).join("."),
            answer: ({ path, body }) => {
                const chat = (JSON.parse(body) as { message: { chat: { id: number } } }).message.chat.id;
                return path === "/telegram/webhook"
                    ? { body: JSON.stringify({ method: "sendMessage", chat_id: chat, text: `Refunds within ${days} days.` }) }
                    : { status: 404, body: "" };
            },
        });
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, bot(30, "1-0-0-aaaaaaaa")).set(C2, bot(14, "2-0-0-bbbbbbbb"));
        const err = await rejection(runSwitch(input({ cases: set.cases }), deps(proxy)), "the channel turn to fail");
        expect(err.message).to.match(/new: {2}does not contain "30 days": "Refunds within 14 days\."/);
        expect(proxy.turns[0].body).to.equal(JSON.stringify(set.cases[0].turns[0].request!.body));
        expect(proxy.turns[0].headers["content-type"]).to.equal("application/json");
    });

    it("the switch's overall timeout makes room for every turn (and its judgement) of the set", () => {
        const base = input({ cases: [] });
        const withSet = input({ turnTimeoutSeconds: 30 });
        expect(overallTimeoutMs(withSet) - overallTimeoutMs(base)).to.equal(3 * (30 + 10) * 1000);
    });
});

describe("a knowledge reload's evaluation (fake proxy)", () => {
    it("the live slot before and after the reindex, side by side: a lost product is a regression, named with both answers", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, chatAgent("1-0-0-aaaaaaaa", CATALOG));
        const d = deps(proxy);
        const ev = input().evaluation;
        const before = await replaySet(d, ev, "blue", "t-before");
        // The same container, reindexed: its catalog lost the Business plan.
        proxy.agents.set(C1, chatAgent("1-0-0-aaaaaaaa", "The Starter plan costs 19 EUR per month."));
        const after = await replaySet(d, ev, "blue", "t-after");
        const { record, verdict } = sideBySide(ev, after, before, 5);
        expect(verdict).to.deep.include({ passed: false, newPassPercent: 0, livePassPercent: 100 });
        expect(verdict.regressed).to.deep.equal(["business plan", "starter then business"]);
        expect(record.cases[0]).to.deep.include({ name: "business plan", passed: false, livePassed: true });
        const text = failedCases(record, { next: "new knowledge", live: "previous" });
        expect(text).to.match(/new knowledge: does not contain "79 EUR": "I could not find/);
        expect(text).to.match(/previous: +passed: "From our knowledge base: The Business plan costs 79 EUR/);
        // Each replay is its own conversation per case, never a customer's.
        const conversations = new Set(proxy.turns.map((t) => t.headers["x-conversation-id"]));
        expect([...conversations].sort()).to.deep.equal([
            "zdt-eval-t-after-1",
            "zdt-eval-t-after-2",
            "zdt-eval-t-before-1",
            "zdt-eval-t-before-2",
        ]);
    });
});

describe("evaluation turns through the proxy (pure)", () => {
    it("curl's arguments are the shell's own, never spliced into its script; the body goes on stdin", () => {
        const req = turnRequest({ message: `it's "quoted"; $(rm -rf /)` }, "case one", "zdt-eval-1");
        const cmd = turnShell("green", "http://127.0.0.1:8080/v1/chat", req, 30_000);
        expect(cmd.slice(0, 2)).to.deep.equal(["sh", "-c"]);
        expect(cmd[2]).to.not.include("rm -rf");
        expect(cmd[2]).to.match(/head -c 65536/);
        expect(cmd).to.include("x-zdt-slot: green");
        expect(cmd).to.include(`${EVALUATION_HEADER}: case one`);
        expect(cmd.slice(cmd.indexOf("--data-binary"), cmd.indexOf("--data-binary") + 2)).to.deep.equal(["--data-binary", "@-"]);
        expect(req.body).to.equal(JSON.stringify({ message: `it's "quoted"; $(rm -rf /)` }));
    });

    it("the output: status and time from the write-out, the body after its end mark; nothing recognisable is no answer", () => {
        const out = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n\n200 0.042\n@@zdt-answer-end@@\n{"answer":"hi"}';
        expect(parseTurnOutput(out)).to.deep.equal({ status: 200, ms: 42, body: '{"answer":"hi"}' });
        expect(parseTurnOutput("no answer: exec failed").status).to.equal(0);
    });

    it("a judge's reply: PASS or FAIL first, anything else fails saying what came", () => {
        expect(judgeReply("PASS: it names 30 days")).to.deep.equal({ pass: true, reason: "it names 30 days" });
        expect(judgeReply("**FAIL** - says 14 days")).to.deep.equal({ pass: false, reason: "says 14 days" });
        expect(judgeReply("I think so").pass).to.equal(false);
        expect(judgeReply("I think so").reason).to.match(/neither PASS nor FAIL: I think so/);
    });
});
