// Any agent, not only ours: two third-party agents released unchanged, side by side on one
// engine, while their channels' simulators send many customers' messages through each
// proxy over HTTPS, as the channels deliver, checking each proxy's certificate against the
// test's CA (load/telegram.ts, load/whatsapp.ts):
// - a Telegram bot on grammY (test/fixtures/telegram-bot): webhook replies, in-memory
//   sessions by chat, a plain-text /health, port 8080, curl in its image, no SIGTERM handler;
// - a WhatsApp Cloud API app on Express (test/fixtures/whatsapp-bot): verification, signed
//   notifications, replies through the Graph API (which the simulator serves), in-memory
//   sessions by sender, port 3000, GET / for health, no curl but its own HEALTHCHECK,
//   SIGTERM handled, a FAQ it reloads on its own request; its token and secrets are stack
//   secrets.
// Both are released blue/green and then by canary, at the same time (two stacks, one
// engine: what a user with two agents on one machine does). A chat whose session restarted
// means its message reached a release that never saw it: the proxy pins each chat by the
// key its channel carries (agent.conversation presets). No synthetic request may reach
// either (synthetic requests are off for an agent whose key is not our header). The Telegram
// bot has an evaluation set of its own: Telegram updates, the reply read from its webhook answer.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { ChannelReport } from "../../load/channel";
import { AgentLogFollower } from "../support/agentLogFollower";
import { agentContainers, agentLogs } from "../support/containers";
import { type ChannelAgent, telegramBot, whatsappApp } from "../support/channelAgents";
import { mustRun, run, type TestStack } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { expectNoChatLost, twoStepCanary } from "../support/thirdParty";
import { around } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const unknown = (p: string) => new RegExp(`404 (GET|POST) ${p}`);

type Up = Awaited<ReturnType<TestStack["up"]>>;

describe("third-party agents released unchanged, side by side: a grammY Telegram bot and an Express WhatsApp app (real engine)", function () {
    this.timeout(1_200_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const telegram = telegramBot();
    const whatsapp = whatsappApp();
    const agents: ChannelAgent[] = [telegram, whatsapp];
    // Each agent's logs, its retired releases' too (a failure's account, and no request of ours in any).
    const logs = new Map(agents.map((a) => [a, new AgentLogFollower(a.app)]));
    /** What the WhatsApp side knows of replies: those that came after their message had failed. */
    const graphDetail = (a: ChannelAgent) =>
        a === whatsapp ? `replies the Graph API got late or unasked: ${whatsapp.graph.unexpected}` : "";

    /** `pulumi up` of every agent at once, each with its chats under way before, during and after it. */
    function upUnderChats(of: ChannelAgent[] = agents): Promise<{ up: Up; report: ChannelReport }[]> {
        return Promise.all(
            of.map(async (a) => {
                const { result: up, report } = await around(a.simulator(), () => a.stack.up(), { before: 60, after: 60 });
                return { up, report };
            }),
        );
    }

    /** None of the WhatsApp app's secrets in what pulumi printed, in its stack's config file or in its state. */
    async function expectSecretsKept(printed: string): Promise<void> {
        const state = await run("pulumi", ["stack", "export", "--stack", whatsapp.app, "--non-interactive"], { cwd: ROOT });
        const config = fs.readFileSync(path.join(ROOT, `Pulumi.${whatsapp.app}.yaml`), "utf8");
        for (const [name, value] of Object.entries(whatsapp.secrets))
            for (const [where, text] of [
                ["pulumi's output", printed],
                ["the stack's config file", config],
                ["the state", state.stdout],
            ])
                expect(text.includes(value), `${name} in ${where}`).to.equal(false);
        expect(config).to.match(/APP_SECRET:\s+secure: /);
    }

    before(async function () {
        this.timeout(300_000);
        await Promise.all(agents.map((a) => a.init()));
        await Promise.all([...logs.values()].map((l) => l.start()));
    });

    after(async () => {
        for (const l of logs.values()) l.stop();
        await Promise.all(agents.map((a) => a.close()));
    });

    step(
        "first deploy of both: gated by the proxy's check of each one's own health endpoint and port, confirmed by the proxy's word",
        async () => {
            const ups = await Promise.all(agents.map((a) => a.stack.up()));
            for (const [i, a] of agents.entries()) {
                expect(ups[i].code, `${a.name}: ${ups[i].stdout}${ups[i].stderr}`).to.equal(0);
                expect((await a.stack.outputs()).liveVersion, a.name).to.equal("1.0.0");
            }
            // The Telegram bot, gated on / where it answers 404 (agent.health.expectStatus any).
            expect(await agentLogs(telegram.app)).to.include("404 GET /\n");
            // The WhatsApp app: its image's own HEALTHCHECK (no curl in it), Meta's verification request answered.
            const [container] = await agentContainers(whatsapp.app);
            const status = await mustRun("docker", ["inspect", "--format", "{{.State.Health.Status}} {{.HostConfig.NanoCpus}}", container]);
            expect(status.stdout.trim(), "healthy, limited to one CPU (agent.cpus)").to.equal("healthy 1000000000");
            expect((await run("docker", ["exec", container, "sh", "-c", "command -v curl"])).code, "the image has no curl").to.not.equal(0);
            expect(await whatsapp.whatsapp().verify(whatsapp.secrets.VERIFY_TOKEN)).to.equal(true);
            expect(await whatsapp.whatsapp().verify("not-the-token")).to.equal(false);
            await expectSecretsKept(ups[1].stdout + ups[1].stderr);
        },
    );

    step(
        "blue/green 1.0.0 -> 2.0.0 of both at once while 30 chats each talk: 0 failed deliveries, 0 sessions restarted, no synthetic request",
        async () => {
            for (const a of agents) await a.stack.setConfig("agent.version", "2.0.0");
            const runs = await upUnderChats();
            for (const [i, a] of agents.entries()) {
                await expectNoChatLost(logs.get(a)!, `${a.name}, blue/green`, runs[i].up, runs[i].report, unknown, graphDetail(a));
                expect(runs[i].report.chatsCompleted, a.name).to.be.greaterThan(30);
                const out = await a.stack.outputs();
                expect(out.liveVersion, a.name).to.equal("2.0.0");
                // The gates were judged on the agent's real traffic; what it does not offer is said, never passed silently.
                const gates = out.releaseReport.verification.gates as { metric: string; status: string; message: string }[];
                console.log(
                    `      ${a.name}, the report's gates: ${gates.map((g) => `${g.metric} ${g.status} (${g.message})`).join("; ")}`,
                );
                expect(gates.find((g) => g.metric === "latency")!.message).to.match(
                    /the agent exposes no LLM latency histogram; HAProxy's average response time judged instead/,
                );
                expect(out.releaseReport.verification.requests, a.name).to.be.greaterThan(0);
            }
            // The Telegram bot's evaluation set (channel payloads, two turns of one chat) passed on
            // the new release and the live one before any weight moved.
            const evaluation = (await telegram.stack.outputs()).releaseReport.evaluation;
            expect(evaluation, JSON.stringify(evaluation)).to.deep.include({ passed: true, newPassPercent: 100, livePassPercent: 100 });
            expect(evaluation.cases[0].turns[1].next.text).to.include('(before: "What are your prices?")');
            console.log(`      the Telegram bot's evaluation set: ${evaluation.cases.length} case, 2 turns, ${evaluation.tookMs} ms`);
            expect(whatsapp.graph.unauthorized, "every reply carried the token the stack's secret gave the app").to.equal(0);
            expect(whatsapp.graph.unexpected, "no reply without a message, none twice").to.equal(0);
            await expectSecretsKept(runs[1].up.stdout + runs[1].up.stderr);
        },
    );

    step("a canary 2.0.0 -> 3.0.0 (50 %, then 100 %) of both at once: each chat stays on the release it began on", async () => {
        for (const a of agents) {
            await twoStepCanary(a.stack, 50, 8);
            await a.stack.setConfig("agent.version", "3.0.0");
        }
        const runs = await upUnderChats();
        for (const [i, a] of agents.entries()) {
            await expectNoChatLost(logs.get(a)!, `${a.name}, canary`, runs[i].up, runs[i].report, unknown, graphDetail(a));
            const out = await a.stack.outputs();
            expect(out.liveVersion, a.name).to.equal("3.0.0");
            expect(
                (out.releaseReport.canarySteps as { weight: number }[]).map((s) => s.weight),
                a.name,
            ).to.deep.equal([50, 100]);
        }
        expect(whatsapp.graph.unexpected).to.equal(0);
    });

    step(
        "the WhatsApp app's FAQ changes: reloaded in place by its own request (agent.reindex.hook) while customers write, no new release",
        async () => {
            const before = await whatsapp.stack.outputs();
            whatsapp.writeFaq("v2: refunds take 5 days");
            const [{ up, report }] = await upUnderChats([whatsapp]);
            await expectNoChatLost(logs.get(whatsapp)!, "the WhatsApp app, FAQ reload", up, report, unknown, graphDetail(whatsapp));
            const after = await whatsapp.stack.outputs(true); // lastReindex and the token are secret outputs
            expect(after.liveRelease, "the same release serves").to.equal(before.liveRelease);
            expect(after.knowledgeDigest).to.not.equal(before.knowledgeDigest);
            expect(JSON.parse(after.lastReindex as string)).to.include({ status: 200 });
            expect(whatsapp.graph.recent.at(-1)).to.include("[faq: v2: refunds take 5 days]");
            expect(await agentLogs(whatsapp.app)).to.include("faq reloaded: v2: refunds take 5 days");
            // The reload token: generated by the stack, secret in state, on no command line and not printed.
            const token = after.adminTokenValue as string;
            expect(token).to.match(/^[A-Za-z0-9]{40}$/);
            const state = await run("pulumi", ["stack", "export", "--stack", whatsapp.app, "--non-interactive"], { cwd: ROOT });
            expect(state.stdout.includes(token), "the token in the state").to.equal(false);
            expect((up.stdout + up.stderr).includes(token), "the token in pulumi's output").to.equal(false);
        },
    );
});
