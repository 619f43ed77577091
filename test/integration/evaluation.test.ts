// Evaluation sets with the real engine (issue 29): the reference agent's knowledge is first
// part of its release (agent.reindex.mode release), then hot-reloaded (endpoint), and the
// stack's set asks what customers ask. A release whose knowledge lost a product is refused before any weight moves (no
// customer request reaches it), a correct one passes, and a rubric is scored by a judge
// of the suite's own (an OpenAI-compatible server: PASS when every number the rubric
// names is in the answer). A hot reload that breaks a case is rolled back to the previous
// files. Under load throughout; the time the evaluation adds is printed.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import type { LoadReport } from "../../load/client";
import { standardLoad } from "../../load/profile";
import { agentStack, TestStack, freePort, mustRun, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { askAgent } from "../support/http";
import { underLoad } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const JUDGE_KEY = "judge-key-of-the-test-suite";

/** The suite's judge: PASS when every number in the rubric is in the answer; 401 without the key. */
function startJudge(): Promise<{ url: string; calls: number; close(): void }> {
    const state = { url: "", calls: 0, close: () => server.close() };
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            if (req.url !== "/v1/chat/completions" || req.headers.authorization !== `Bearer ${JUDGE_KEY}`) {
                res.writeHead(401).end();
                return;
            }
            state.calls++;
            const user = (JSON.parse(body) as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === "user");
            const text = user?.content ?? "";
            const rubric = /^Rubric: (.*)$/m.exec(text)?.[1] ?? "";
            const answer = text.slice(text.indexOf("\nAnswer: ") + 1);
            const missing = (rubric.match(/\d+/g) ?? []).filter((n) => !new RegExp(`\\b${n}\\b`).test(answer));
            const content = missing.length ? `FAIL the answer does not say ${missing.join(", ")}` : "PASS every figure is there";
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({ choices: [{ message: { role: "assistant", content } }] }),
            );
        });
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => {
            state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
            resolve(state);
        }),
    );
}

describe("evaluation sets (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep(); // each step builds on the release the previous one left live
    const app = uniqueName("zteval");
    const stack = new TestStack(ROOT, app);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-eval-"));
    const kb = path.join(dir, "knowledge");
    const setFile = path.join(dir, "set.json");
    const catalog = path.join(kb, "products", "catalog.md");
    const refunds = path.join(kb, "support", "refunds.md");
    let judge: Awaited<ReturnType<typeof startJudge>>;
    let url = "";

    const set = {
        cases: [
            {
                name: "business plan",
                turns: [{ message: "How much is the Business plan?", expect: { contains: ["79 EUR"], maxMs: 20000 } }],
            },
            {
                name: "starter then business",
                turns: [
                    { message: "How much is the Starter plan?", expect: { contains: ["19 EUR"] } },
                    { message: "And the Business plan?", expect: { matches: ["business plan costs 79"] } },
                ],
            },
            {
                name: "annual refunds",
                turns: [
                    {
                        message: "Can I get a refund on an annual plan?",
                        expect: { judge: "says annual plans are refundable within 30 days" },
                    },
                ],
            },
        ],
    };
    async function upUnderLoad(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; load: LoadReport }> {
        const { result: up, report } = await underLoad(standardLoad(url), () => stack.up(), { beforeSeconds: 1, afterSeconds: 1 });
        return { up, load: report };
    }
    const agentContainer = async () =>
        (
            await mustRun("docker", ["ps", "-q", "--no-trunc", "--filter", `label=zdt.app=${app}`, "--filter", "label=zdt.role=agent"])
        ).stdout.trim();
    /** A file of the stack's knowledge volume, read through a container of the proxy's image (as the reload does). */
    const volumeFile = async (rel: string) => {
        const proxy = (await stack.outputs()).proxyContainer as string;
        const image = (await mustRun("docker", ["inspect", "--format", "{{.Config.Image}}", proxy])).stdout.trim();
        const args = ["run", "--rm", "--network", "none", "-v", `${app}-knowledge:/k:ro`, "--entrypoint", "cat", image, `/k/${rel}`];
        return (await mustRun("docker", args)).stdout;
    };
    const ask = (message: string) => askAgent(url, message);
    const edit = (file: string, from: string | RegExp, to: string) => {
        const text = fs.readFileSync(file, "utf8");
        expect(text).to.match(typeof from === "string" ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : from);
        fs.writeFileSync(file, text.replace(from, to));
    };

    before(async () => {
        judge = await startJudge();
        fs.cpSync(path.join(ROOT, "knowledge"), kb, { recursive: true });
        fs.chmodSync(kb, 0o755);
        fs.writeFileSync(setFile, JSON.stringify(set, null, 2));
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        await stack.init(
            agentStack(app, port, {
                "agent.knowledgeDir": kb,
                "agent.reindex.mode": "release",
                "release.evaluation.set": setFile,
                "release.evaluation.judge.url": judge.url,
                "release.evaluation.judge.model": "test-judge",
                "release.verifyWindowSeconds": "3",
                "release.drainTimeoutSeconds": "5",
            }),
            { "release.evaluation.judge.apiKey": JUDGE_KEY },
        );
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
    });

    after(async () => {
        await stack.remove();
        judge.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    step("the first release passes its own set (no live release to compare with), the judge's key kept secret", async () => {
        const report = (await stack.outputs()).releaseReport;
        expect(report.evaluation).to.deep.include({ passed: true, newPassPercent: 100, livePassPercent: null });
        expect(report.evaluation.cases.map((c: { name: string }) => c.name)).to.deep.equal(set.cases.map((c) => c.name));
        expect(judge.calls).to.be.greaterThan(0);
        const state = (await mustRun("pulumi", ["stack", "export", "--stack", app], { cwd: ROOT })).stdout;
        expect(state).to.not.include(JUDGE_KEY);
    });

    step("a release whose knowledge lost the Business plan is refused before any weight moves, naming the cases, 0 failed", async () => {
        const live = (await stack.outputs()).liveRelease as string;
        edit(catalog, /^The Business plan.*$/m, "");
        const { up, load } = await upUnderLoad();
        const out = up.stdout + up.stderr;
        expect(up.code, out).to.not.equal(0);
        expect(out).to.match(/evaluation/i);
        expect(out).to.include("business plan").and.include("starter then business");
        expect(out).to.include("79 EUR"); // the live release's answer, beside the new one's
        expect(out).to.match(/traffic stays on (blue|green)/);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
        expect(load.conversationsBroken).to.equal(0);
        expect(load.streamsTruncated).to.equal(0);
        // No customer request reached the refused release: every answer came from the live one.
        expect(Object.keys(load.releases)).to.deep.equal([live]);
        expect((await stack.outputs()).liveRelease).to.equal(live);
    });

    step(
        "a release with the correct knowledge passes and takes the traffic, 0 failed; the time the evaluation adds is printed",
        async () => {
            fs.cpSync(path.join(ROOT, "knowledge", "products", "catalog.md"), catalog);
            fs.appendFileSync(catalog, "\nEvery plan can be paid monthly or annually.\n");
            const live = (await stack.outputs()).liveRelease as string;
            const { up, load } = await upUnderLoad();
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
            expect(load.conversationsBroken).to.equal(0);
            const out = await stack.outputs();
            expect(out.liveRelease).to.not.equal(live);
            expect(out.releaseReport.evaluation).to.deep.include({ passed: true, newPassPercent: 100, livePassPercent: 100 });
            const total = Object.values(out.releaseReport.phases as Record<string, number>).reduce((a, b) => a + b, 0);
            console.log(
                `    evaluation: ${set.cases.length} cases, ${out.releaseReport.phases.evaluationMs} ms of a ${total} ms release (both releases, judge included)`,
            );
        },
    );

    step("the judge fails a release whose refunds say 45 days where the rubric says 30, and the live release keeps serving", async () => {
        edit(refunds, "within 30 days", "within 45 days");
        const live = (await stack.outputs()).liveRelease as string;
        const calls = judge.calls;
        const { up, load } = await upUnderLoad();
        const out = up.stdout + up.stderr;
        expect(up.code, out).to.not.equal(0);
        expect(out).to.include("annual refunds").and.include("the answer does not say 30");
        expect(judge.calls).to.be.greaterThan(calls);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
        expect(Object.keys(load.releases)).to.deep.equal([live]);
    });

    step(
        "with no set case about it, the canary's answer signal (agent_fallback_answers_total) aborts a release that lost its refund policy: 0 failed",
        async () => {
            const live = (await stack.outputs()).liveRelease as string;
            fs.rmSync(refunds);
            // A set that asks nothing about refunds: only the Business plan.
            const narrow = path.join(dir, "narrow.json");
            fs.writeFileSync(narrow, JSON.stringify({ cases: [set.cases[0]] }));
            await stack.setConfig("release.evaluation.set", narrow);
            const settings: Record<string, string> = {
                "release.strategy": "canary",
                "release.canary.steps[0].weight": "50",
                "release.canary.steps[0].pauseSeconds": "10",
                "release.canary.steps[1].weight": "100",
                "release.canary.steps[1].pauseSeconds": "0",
                "release.canary.maxLatencyRatio": "20", // a cold canary on a loaded machine; the signal is what is judged here
                "release.canary.answerSignal.metric": "agent_fallback_answers_total",
                "release.canary.answerSignal.maxDeltaPercent": "10",
                "release.thresholds.minRequests": "5",
            };
            for (const [k, v] of Object.entries(settings)) await stack.setConfig(k, v);
            const { up, load } = await upUnderLoad();
            const out = up.stdout + up.stderr;
            expect(up.code, out).to.not.equal(0);
            const m = /canary aborted at step 1 \(50%\): canary agent_fallback_answers_total [\d.]+ per 100 requests[^\n]*/.exec(out);
            expect(m, out).to.not.equal(null);
            console.log(`    ${m![0].slice(0, 260)}`);
            expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
            expect(load.streamsTruncated).to.equal(0);
            // Only the abort moved conversations, from the canary to the live release.
            const hops = Object.keys(load.conversationHops);
            expect(
                hops.every((h) => h.endsWith(` -> ${live}`)),
                JSON.stringify(load.conversationHops),
            ).to.equal(true);
            expect(load.conversationsBroken).to.equal(Object.values(load.conversationHops).reduce((a, b) => a + b, 0));
            expect((await stack.outputs()).liveRelease).to.equal(live);
            // Back to the set and blue/green for the steps that follow.
            fs.cpSync(path.join(ROOT, "knowledge", "support", "refunds.md"), refunds);
            for (const k of ["release.strategy", "release.canary", "release.thresholds"]) await stack.rmConfig(k);
            await stack.setConfig("release.evaluation.set", setFile);
        },
    );

    step(
        "hot reload (agent.reindex.mode endpoint): one release moves the agent onto the stack's knowledge volume, its set passed",
        async () => {
            await stack.setConfig("agent.reindex.mode", "endpoint");
            const live = (await stack.outputs()).liveRelease as string;
            const { up, load } = await upUnderLoad();
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
            const out = await stack.outputs();
            expect(out.liveRelease).to.not.equal(live);
            expect(out.releaseReport.evaluation).to.deep.include({ passed: true, newPassPercent: 100 });
            expect(await volumeFile("products/catalog.md")).to.match(/^The Business plan/m);
        },
    );

    step(
        "a knowledge change that loses the Business plan is reloaded in place, fails the set, and is rolled back: 0 failed, the previous files serve again",
        async () => {
            const live = (await stack.outputs()).liveRelease as string;
            const container = await agentContainer();
            edit(catalog, /^The Business plan.*$/m, "");
            const { up, load } = await upUnderLoad();
            const out = up.stdout + up.stderr;
            expect(up.code, out).to.not.equal(0);
            expect(out).to.include("knowledge reload rolled back");
            console.log(`    ${/knowledge reload rolled back.*?reindexed in \d+ ms/.exec(out)?.[0] ?? "(no rollback line)"}`);
            expect(out).to.include("business plan").and.include("starter then business");
            expect(out).to.match(/previous: +passed: "[^"]*79 EUR/); // the answer before the reindex, beside the new one's
            expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
            expect(load.conversationsBroken).to.equal(0);
            expect(load.streamsTruncated).to.equal(0);
            // The same release and container; the volume and the agent's index hold the previous knowledge.
            expect((await stack.outputs()).liveRelease).to.equal(live);
            expect(await agentContainer()).to.equal(container);
            expect(await volumeFile("products/catalog.md")).to.match(/^The Business plan/m);
            expect(await ask("How much is the Business plan?")).to.include("79 EUR");
            // The failed update recorded nothing: the next `pulumi up` tries the same change again.
            const preview = await stack.preview();
            expect(preview.stdout).to.match(/~\s+command:local:Command knowledge-reindex update/);
        },
    );

    step("a knowledge change that keeps every case passing is reloaded in place; the time the evaluation adds is printed", async () => {
        fs.cpSync(path.join(ROOT, "knowledge", "products", "catalog.md"), catalog);
        fs.appendFileSync(catalog, "\nEvery plan includes email support.\n");
        const container = await agentContainer();
        const { up, load } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
        expect(await agentContainer()).to.equal(container);
        const reload = JSON.parse((await stack.outputs()).lastReindex as string);
        expect(reload.evaluation).to.deep.include({ passed: true, newPassPercent: 100, livePassPercent: 100 });
        expect(await volumeFile("products/catalog.md")).to.include("Every plan includes email support.");
        console.log(
            `    knowledge reload: the set before and after the reindex took ${reload.evaluation.tookMs} ms of a ${reload.totalMs} ms reload`,
        );
    });
});
