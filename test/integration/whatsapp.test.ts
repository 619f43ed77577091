// Any agent, not only ours: a WhatsApp Cloud API app on Express, written as Meta's guide
// shows it (test/fixtures/whatsapp-bot: verification, signed notifications, replies through
// the Graph API, in-memory sessions by sender; port 3000; no curl in its image, its own
// HEALTHCHECK; a plain / for health; SIGTERM handled), released unchanged, blue/green and by
// canary, while a channel simulator sends WhatsApp's notifications from many customers
// through the proxy and serves the Graph API the app replies to (load/whatsapp.ts). Its
// token and app secret are the stack's secrets (agent.secrets): never on a command line,
// in plain config or state, or in pulumi's output.
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GRAPH_API_VERSION, GraphApi, WhatsAppSimulator } from "../../load/whatsapp";
import type { ChannelReport } from "../../load/channel";
import { TestStack, freePort, mustRun, run, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { around } from "../support/underLoad";
import { channelAgentSettings, expectNoChatLost, twoStepCanary } from "../support/thirdParty";
import { agentContainers, agentLogs } from "../support/containers";

const ROOT = path.join(__dirname, "..", "..");
const APP_DIR = path.join(ROOT, "test", "fixtures", "whatsapp-bot");

describe("a third-party agent released unchanged: a WhatsApp Cloud API app on Express (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const app = uniqueName("zwa");
    const stack = new TestStack(ROOT, app);
    // What Meta gives the app's owner; generated here, as a user's would be unguessable.
    const secrets = {
        WHATSAPP_TOKEN: `EAAG${crypto.randomBytes(24).toString("hex")}`,
        APP_SECRET: crypto.randomBytes(16).toString("hex"),
        VERIFY_TOKEN: crypto.randomBytes(12).toString("hex"),
    };
    const graph = new GraphApi(secrets.WHATSAPP_TOKEN);
    let webhook = "";
    // The shop's FAQ, which the app reads from its FAQ_DIR and reloads on its own request.
    const faqDir = fs.mkdtempSync(path.join(os.tmpdir(), "zwa-faq-"));
    const writeFaq = (headline: string) => fs.writeFileSync(path.join(faqDir, "faq.md"), `${headline}\nOpening hours: 9 to 18.\n`);

    const simulator = () =>
        new WhatsAppSimulator(
            { webhook, chats: 30, messages: 4, pauseMs: 1000, appSecret: secrets.APP_SECRET, accessToken: secrets.WHATSAPP_TOKEN },
            graph,
        );

    async function upUnderChats(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; report: ChannelReport }> {
        const { result: up, report } = await around(simulator(), () => stack.up(), { before: 60, after: 60 });
        return { up, report };
    }

    /** None of the secrets' values in what pulumi printed, in the stack's config file or in its state. */
    async function expectSecretsKept(printed: string): Promise<void> {
        const state = await run("pulumi", ["stack", "export", "--stack", app, "--non-interactive"], { cwd: ROOT });
        const config = fs.readFileSync(path.join(ROOT, `Pulumi.${app}.yaml`), "utf8");
        for (const [name, value] of Object.entries(secrets)) {
            for (const [where, text] of [
                ["pulumi's output", printed],
                ["the stack's config file", config],
                ["the state", state.stdout],
            ])
                expect(text.includes(value), `${name} in ${where}`).to.equal(false);
        }
        expect(config).to.match(/APP_SECRET:\s+secure: /);
    }

    before(async function () {
        this.timeout(300_000);
        await mustRun("npm", ["ci", "--no-audit", "--no-fund"], { cwd: APP_DIR, timeoutMs: 240_000 });
        // The Graph API where the app's containers reach this machine: the default bridge's gateway.
        const host = (
            await mustRun("docker", ["network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"])
        ).stdout.trim();
        const graphPort = await graph.listen(host);
        const port = await freePort();
        webhook = `http://127.0.0.1:${port}/webhook`;
        writeFaq("v1: refunds take 10 days");
        await stack.init(
            {
                app,
                "agent.version": "1.0.0",
                "agent.buildContext": path.relative(ROOT, APP_DIR),
                // Its port, its health endpoint, its image's own health check (no curl in it).
                "agent.port": "3000",
                "agent.health.path": "/",
                "agent.health.docker": "image",
                "agent.env.GRAPH_API_URL": `http://${host}:${graphPort}/${GRAPH_API_VERSION}`,
                // Where WhatsApp puts the customer, on the app's webhook path.
                "agent.conversation.preset": "whatsapp",
                "agent.conversation.paths[0]": "/webhook",
                ...channelAgentSettings(port),
                // Its FAQ: mounted where it reads it, reloaded in place by its own request with the stack's token.
                "agent.knowledgeDir": faqDir,
                "agent.knowledgePath": "/app/faq",
                "agent.reindex.mode": "hook",
                "agent.reindex.hook.path": "/admin/reload-faq",
            },
            Object.fromEntries(Object.entries(secrets).map(([k, v]) => [`agent.secrets.${k}`, v])),
        );
    });

    after(async () => {
        await stack.remove();
        await graph.close();
        fs.rmSync(faqDir, { recursive: true, force: true });
    });

    step(
        "first deploy: gated by the proxy's check of / on port 3000, the image's own HEALTHCHECK healthy, Meta's verification answered",
        async () => {
            const up = await stack.up();
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect((await stack.outputs()).liveVersion).to.equal("1.0.0");
            const health = await mustRun("docker", [
                "ps",
                "--format",
                "{{.Status}}",
                "--filter",
                `label=zdt.app=${app}`,
                "--filter",
                "label=zdt.role=agent",
            ]);
            expect(health.stdout).to.match(/\(healthy\)/);
            const noCurl = await run("docker", ["exec", (await agentContainers(app))[0], "sh", "-c", "command -v curl"]);
            expect(noCurl.code, "the image has no curl").to.not.equal(0);
            expect(await simulator().verify(secrets.VERIFY_TOKEN)).to.equal(true);
            expect(await simulator().verify("not-the-token")).to.equal(false);
            await expectSecretsKept(up.stdout + up.stderr);
        },
    );

    step(
        "blue/green 1.0.0 -> 2.0.0 while 30 customers write: 0 failed deliveries, 0 sessions restarted, every reply through the Graph API",
        async () => {
            await stack.setConfig("agent.version", "2.0.0");
            const { up, report } = await upUnderChats();
            await expectNoChatLost(app, "blue/green", up, report, (p) => new RegExp(`404 (GET|POST) ${p}`));
            expect(report.chatsCompleted).to.be.greaterThan(30);
            expect(graph.unauthorized, "every reply carried the token the stack's secret gave the app").to.equal(0);
            expect(graph.unexpected, "no reply without a message, none twice").to.equal(0);
            const out = await stack.outputs();
            expect(out.liveVersion).to.equal("2.0.0");
            const gates = out.releaseReport.verification.gates as { metric: string; status: string; message: string }[];
            console.log(`      the report's gates: ${gates.map((g) => `${g.metric} ${g.status} (${g.message})`).join("; ")}`);
            expect(out.releaseReport.verification.requests).to.be.greaterThan(0);
            await expectSecretsKept(up.stdout + up.stderr);
        },
    );

    step("a canary 2.0.0 -> 3.0.0 (50 %, then 100 %) while customers write: each stays on the release it began on", async () => {
        await twoStepCanary(stack, 50, 8);
        await stack.setConfig("agent.version", "3.0.0");
        const { up, report } = await upUnderChats();
        await expectNoChatLost(app, "canary", up, report, (p) => new RegExp(`404 (GET|POST) ${p}`));
        expect(graph.unexpected).to.equal(0);
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("3.0.0");
        expect((out.releaseReport.canarySteps as { weight: number }[]).map((s) => s.weight)).to.deep.equal([50, 100]);
    });

    step(
        "a FAQ change reloads in place through the app's own request (agent.reindex.hook) while customers write: no new release, replies quote the new FAQ",
        async () => {
            const before = await stack.outputs();
            writeFaq("v2: refunds take 5 days");
            const { result: up, report } = await around(simulator(), () => stack.up(), { before: 60, after: 60 });
            await expectNoChatLost(app, "FAQ reload", up, report, (p) => new RegExp(`404 (GET|POST) ${p}`));
            const after = await stack.outputs(true); // lastReindex and the token are secret outputs
            expect(after.liveRelease, "the same release serves").to.equal(before.liveRelease);
            expect(after.knowledgeDigest).to.not.equal(before.knowledgeDigest);
            expect(JSON.parse(after.lastReindex as string)).to.include({ status: 200 });
            expect(graph.recent.at(-1)).to.include("[faq: v2: refunds take 5 days]");
            expect(await agentLogs(app)).to.include("faq reloaded: v2: refunds take 5 days");
            // The reload token: generated by the stack, secret in state, on no command line and not printed.
            const token = after.adminTokenValue as string;
            expect(token).to.match(/^[A-Za-z0-9]{40}$/);
            const state = await run("pulumi", ["stack", "export", "--stack", app, "--non-interactive"], { cwd: ROOT });
            expect(state.stdout.includes(token), "the token in the state").to.equal(false);
            expect((up.stdout + up.stderr).includes(token), "the token in pulumi's output").to.equal(false);
        },
    );
});
