// Evaluation sets (issue 29): the set's schema with errors naming the case and field, a
// turn's answer against its expectations, the gate's verdict (pure parts), and the stack's
// set as the switch gets it.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { parseEvaluationSet } from "../../config/evaluation";
import { parseConfig } from "../../config/schema";
import { evaluationInput, MAX_SET_BYTES } from "../../components/evaluationSet";
import { plainSecretsProblem } from "../../components/preflight";
import { type CaseOutcome, evaluationVerdict, replyText, turnFailures, valueAt } from "../../core/evaluation";

const none = { contains: [], notContains: [], matches: [], notMatches: [], json: [] };
const errorOf = (raw: unknown) => {
    try {
        parseEvaluationSet(raw, "evaluation/shop.yaml");
        return "";
    } catch (err) {
        return (err as Error).message;
    }
};

describe("evaluation sets: the file", () => {
    it("accepts chat messages and channel requests, with defaults for what a turn does not expect", () => {
        const set = parseEvaluationSet(
            {
                cases: [
                    {
                        name: "refunds",
                        turns: [{ message: "refund policy for annual plans", expect: { contains: ["within 30 days"], maxMs: "3000" } }],
                    },
                    {
                        name: "telegram hello",
                        turns: [
                            {
                                request: {
                                    path: "/telegram/webhook",
                                    body: { update_id: 1, message: { chat: { id: 7 }, text: "hi" } },
                                    replyPath: "text",
                                },
                                expect: { json: [{ path: "method", equals: "sendMessage" }] },
                            },
                        ],
                    },
                ],
            },
            "evaluation/shop.yaml",
        );
        expect(set.cases[0].turns[0].expect).to.deep.equal({ ...none, contains: ["within 30 days"], maxMs: 3000 });
        expect(set.cases[1].turns[0].request).to.deep.include({ method: "POST", replyPath: "text" });
    });

    it("names the case and the field of every mistake: a turn with both or neither, a bad regex, a bad path, a twice-listed case", () => {
        const m = errorOf({
            cases: [
                { name: "refunds", turns: [{ message: "a", request: { path: "/x" } }, {}] },
                { name: "catalog", turns: [{ message: "b", expect: { matches: ["(unclosed"], json: [{ path: "a..b", equals: 1 }] } }] },
                { name: "refunds", turns: [{ message: "c" }] },
                { name: "Bad Name", turns: [] },
            ],
        });
        expect(m).to.match(/^evaluation\/shop\.yaml: the evaluation set is not valid:/);
        expect(m).to.include(`- case "refunds" turns[0]: a turn is either a message or a request, one of them`);
        expect(m).to.include(`- case "refunds" turns[1]: a turn is either a message or a request`);
        expect(m).to.match(/- case "catalog" turns\[0\]\.expect\.matches\[0\]: not a regular expression: /);
        expect(m).to.include(`- case "catalog" turns[0].expect.json[0].path: a JSON path of keys and [index]`);
        expect(m).to.include(`- case "refunds" name: case refunds is listed twice`);
        expect(m).to.include(`- case "Bad Name" name: lower-case letters`);
        expect(m).to.include(`- case "Bad Name" turns: at least one turn`);
        expect(errorOf({ cases: [] })).to.include("- cases: at least one case");
    });
});

describe("evaluation sets: a turn's answer", () => {
    const ok = (body: unknown, ms = 120) => ({ status: 200, ms, body: typeof body === "string" ? body : JSON.stringify(body) });

    it("reads values and the reply text at a JSON path", () => {
        expect(valueAt({ messages: [{ text: "a" }, { text: "b" }] }, "messages[1].text")).to.equal("b");
        expect(valueAt({ a: 1 }, "a.b")).to.equal(undefined);
        expect(replyText('{"method":"sendMessage","text":"Hello"}', "text")).to.equal("Hello");
        expect(replyText("plain", undefined)).to.equal("plain");
        expect(replyText("not json", "text")).to.equal("");
    });

    it("passes when every expectation holds, and says each one that does not", () => {
        const expectation = {
            ...none,
            contains: ["30 days"],
            notContains: ["I don't know"],
            matches: ["refund(s|able)"],
            notMatches: ["error"],
            json: [{ path: "sources[0]", equals: "refunds.md" }],
            maxMs: 500,
        };
        expect(
            turnFailures(ok({ answer: "Annual plans are refundable within 30 days.", sources: ["refunds.md"] }), expectation, "answer"),
        ).to.deep.equal([]);
        expect(turnFailures(ok({ answer: "I don't know. error", sources: [] }, 900), expectation, "answer")).to.deep.equal([
            'does not contain "30 days"',
            `contains "I don't know"`,
            "does not match /refund(s|able)/",
            "matches /error/",
            'sources[0] is absent, not "refunds.md"',
            "took 900 ms (at most 500)",
        ]);
        expect(turnFailures({ status: 503, ms: 5, body: "" }, none)).to.deep.equal(["answered 503"]);
        expect(turnFailures({ status: 0, ms: 5, body: "" }, none)).to.deep.equal(["answered nothing"]);
        expect(turnFailures(ok("plain text"), { ...none, json: [{ path: "a", equals: 1 }] })).to.deep.equal(["is not JSON"]);
    });
});

describe("evaluation sets: the gate", () => {
    const outcomes = (passed: Record<string, boolean>): CaseOutcome[] => Object.entries(passed).map(([name, p]) => ({ name, passed: p }));
    const gate = { minPassPercent: 75, maxRegressionPoints: 0 };

    it("passes a release at the minimum with no regression against the live release", () => {
        const v = evaluationVerdict(
            outcomes({ a: true, b: true, c: true, d: false }),
            outcomes({ a: true, b: true, c: true, d: false }),
            gate,
        );
        expect(v).to.deep.include({ passed: true, newPassPercent: 75, livePassPercent: 75, failed: ["d"], regressed: [] });
        expect(v.reason).to.equal(undefined);
    });

    it("fails a release under the minimum, naming the cases it failed", () => {
        const v = evaluationVerdict(outcomes({ a: true, b: false, c: false, d: true }), undefined, gate);
        expect(v.passed).to.equal(false);
        expect(v.reason).to.equal("the evaluation set: passed 50 % of the cases (at least 75 % wanted); failed: b, c");
    });

    it("fails a release that loses a case the live release passes, even above the minimum, and names the regression", () => {
        const v = evaluationVerdict(
            outcomes({ a: true, b: true, c: true, d: true, e: false }),
            outcomes({ a: true, b: true, c: true, d: true, e: true }),
            gate,
        );
        expect(v).to.deep.include({ passed: false, newPassPercent: 80, livePassPercent: 100, regressed: ["e"] });
        expect(v.reason).to.include("passed 20 points fewer than the live release (80 % against 100 %; at most 0 allowed)");
        // Allowed regression points let it through.
        expect(
            evaluationVerdict(outcomes({ a: true, e: false }), outcomes({ a: true, e: true }), {
                minPassPercent: 50,
                maxRegressionPoints: 50,
            }).passed,
        ).to.equal(true);
    });
});

describe("evaluation sets: the stack's set (release.evaluation)", () => {
    const release = (evaluation?: Record<string, unknown>) =>
        parseConfig({ agent: { version: "1.0.0" }, release: evaluation ? { evaluation } : {} }).release;
    const files = (text: string) => (p: string) => {
        if (p !== "/project/evaluation/dev.json") throw new Error("ENOENT");
        return text;
    };
    const set = JSON.stringify({ cases: [{ name: "plans", turns: [{ message: "Which plans?", expect: { contains: ["Business"] } }] }] });
    const errorOf = (f: () => unknown) => {
        try {
            f();
            return "";
        } catch (err) {
            return (err as Error).message;
        }
    };

    it("the worked set (evaluation/dev.json) is valid and is the one docs/evaluation.md shows", () => {
        const root = path.join(__dirname, "..", "..");
        const text = fs.readFileSync(path.join(root, "evaluation", "dev.json"), "utf8");
        const set = parseEvaluationSet(JSON.parse(text), "evaluation/dev.json");
        expect(set.cases.length).to.be.greaterThan(1);
        const shown = /## A worked set[\s\S]*?```json\n([\s\S]*?)```/.exec(
            fs.readFileSync(path.join(root, "docs", "evaluation.md"), "utf8"),
        );
        expect(JSON.parse(shown?.[1] ?? "null")).to.deep.equal(JSON.parse(text));
    });

    it("gives the switch the cases themselves and the gate; no set, nothing", () => {
        const input = evaluationInput(release({ set: "evaluation/dev.json", minPassPercent: 90 }).evaluation, "/project", files(set));
        expect(input).to.deep.include({ minPassPercent: 90, maxRegressionPoints: 0, turnTimeoutSeconds: 30 });
        expect(input!.cases.map((c) => c.name)).to.deep.equal(["plans"]);
        expect(input).to.not.have.property("judgeUrl");
        expect(evaluationInput(release().evaluation, "/project", files(set))).to.equal(undefined);
    });

    it("refuses a missing file, a file that is not JSON, a rubric with no judge, a set too large to pass to the switch", () => {
        const of = (evaluation: Record<string, unknown>, text: string) =>
            errorOf(() => evaluationInput(release(evaluation).evaluation, "/project", files(text)));
        expect(of({ set: "evaluation/other.json" }, set)).to.match(
            /^release\.evaluation\.set: \/project\/evaluation\/other\.json cannot be read/,
        );
        expect(of({ set: "evaluation/dev.json" }, "cases: []")).to.match(/^release\.evaluation\.set: .* is not JSON/);
        const judged = JSON.stringify({
            cases: [{ name: "refunds", turns: [{ message: "Refunds?", expect: { judge: "says 30 days" } }] }],
        });
        expect(of({ set: "evaluation/dev.json" }, judged)).to.match(
            /^release\.evaluation\.judge: the set's cases refunds have a judge rubric/,
        );
        const long = "x".repeat(1500);
        const big = JSON.stringify({
            cases: Array.from({ length: 10 }, (_, i) => ({
                name: `case ${i}`,
                turns: Array.from({ length: 10 }, () => ({ message: long })),
            })),
        });
        expect(of({ set: "evaluation/dev.json" }, big)).to.match(
            new RegExp(`^release\\.evaluation\\.set: the set is \\d+ bytes as JSON, over ${MAX_SET_BYTES}`),
        );
        expect(errorOf(() => release({ judge: { model: "m" } })))
            .to.include("release.evaluation.set: required")
            .and.include("release.evaluation.judge.url: required");
    });

    it("keeps the judge's key a secret, and refuses it stored in plain text", async () => {
        const judge = { url: "http://judge.test/v1", model: "m", apiKey: "sk-test-not-a-secret" };
        const cfg = parseConfig({ agent: { version: "1.0.0" }, release: { evaluation: { set: "evaluation/dev.json", judge } } });
        const input = evaluationInput(cfg.release.evaluation, "/project", files(set))!;
        expect(input).to.deep.include({ judgeUrl: judge.url, judgeModel: "m", judgeTimeoutSeconds: 30 });
        expect(await (input.judgeApiKey as unknown as { isSecret: Promise<boolean> }).isSecret).to.equal(true);
        expect(pulumi.Output.isInstance(input.judgeApiKey)).to.equal(true);
        expect(plainSecretsProblem(cfg, "shop", [])).to.match(/^release\.evaluation\.judge\.apiKey: stored in plain text/);
        expect(plainSecretsProblem(cfg, "shop", ["shop:release"])).to.equal(undefined);
    });
});
