// Any agent, not only ours: a Telegram bot written as grammY's documentation shows
// (test/fixtures/telegram-bot: webhook mode, in-memory sessions by chat, a plain-text
// /health, no /version, no metrics, no reindex endpoint), released unchanged, blue/green
// and by canary, while a channel simulator replays Bot API updates from many chats through
// the proxy (load/telegram.ts). A chat's session restarting means its message reached a
// release that never saw the chat: the proxy pins each chat by the update's chat id
// (agent.conversation.preset telegram). No synthetic request may reach the bot.
import { expect } from "chai";
import * as path from "path";
import { TelegramSimulator, type ChannelReport } from "../../load/telegram";
import { TestStack, freePort, mustRun, uniqueName } from "../support/pulumi";
import { channelAgentSettings, expectNoChatLost, twoStepCanary } from "../support/thirdParty";
import { stepByStep } from "../support/steps";
import { around } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const BOT = path.join(ROOT, "test", "fixtures", "telegram-bot");

describe("a third-party agent released unchanged: a grammY Telegram bot (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const app = uniqueName("ztg");
    const stack = new TestStack(ROOT, app);
    let webhook = "";

    /** `pulumi up` with chats under way before, during and after it. */
    async function upUnderChats(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; report: ChannelReport }> {
        const sim = new TelegramSimulator({ webhook, chats: 30, messages: 4, pauseMs: 1000 });
        const { result: up, report } = await around(sim, () => stack.up(), { before: 60, after: 60 });
        return { up, report };
    }

    before(async function () {
        this.timeout(300_000);
        // The bot's own dependencies, as its project installs them (the lock file is committed).
        await mustRun("npm", ["ci", "--no-audit", "--no-fund"], { cwd: BOT, timeoutMs: 240_000 });
        const port = await freePort();
        webhook = `http://127.0.0.1:${port}/telegram`;
        await stack.init({
            app,
            "agent.version": "1.0.0",
            "agent.buildContext": path.relative(ROOT, BOT),
            // Where Telegram puts the chat, on the bot's webhook path.
            "agent.conversation.preset": "telegram",
            "agent.conversation.paths[0]": "/telegram",
            ...channelAgentSettings(port),
        });
    });

    after(async () => {
        await stack.remove();
    });

    step("first deploy of the bot: gated on its plain-text /health, confirmed by the proxy's word", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect((await stack.outputs()).liveVersion).to.equal("1.0.0");
    });

    step("blue/green 1.0.0 -> 2.0.0 while 30 chats talk: 0 failed deliveries, 0 sessions restarted, no synthetic request", async () => {
        await stack.setConfig("agent.version", "2.0.0");
        const { up, report } = await upUnderChats();
        await expectNoChatLost(app, "blue/green", up, report, (p) => new RegExp(`404 (GET|POST) ${p}`));
        expect(report.chatsCompleted).to.be.greaterThan(30);
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("2.0.0");
        // The gates were judged on the bot's real traffic; what it does not offer is said, never passed silently.
        const gates = out.releaseReport.verification.gates as { metric: string; status: string; message: string }[];
        console.log(`      the report's gates: ${gates.map((g) => `${g.metric} ${g.status} (${g.message})`).join("; ")}`);
        const latency = gates.find((g) => g.metric === "latency")!;
        expect(latency.message).to.match(/the agent exposes no LLM latency histogram; HAProxy's average response time judged instead/);
        expect(out.releaseReport.verification.requests).to.be.greaterThan(0);
    });

    step("a canary 2.0.0 -> 3.0.0 (50 %, then 100 %) while chats talk: each chat stays on the release it began on", async () => {
        await twoStepCanary(stack, 50, 8);
        await stack.setConfig("agent.version", "3.0.0");
        const { up, report } = await upUnderChats();
        await expectNoChatLost(app, "canary", up, report, (p) => new RegExp(`404 (GET|POST) ${p}`));
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("3.0.0");
        expect((out.releaseReport.canarySteps as { weight: number }[]).map((s) => s.weight)).to.deep.equal([50, 100]);
    });
});
