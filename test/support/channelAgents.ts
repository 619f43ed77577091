// The two third-party agents the channel suite releases, each with its stack, its channel
// simulator and what it needs around it: a Telegram bot on grammY
// (test/fixtures/telegram-bot) and a WhatsApp Cloud API app on Express
// (test/fixtures/whatsapp-bot), each written as its framework's documentation shows, with
// nothing of ours in it.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ChannelSimulator } from "../../load/channel";
import { TelegramSimulator } from "../../load/telegram";
import { GRAPH_API_VERSION, GraphApi, WhatsAppSimulator } from "../../load/whatsapp";
import { freePort, mustRun, TestStack, uniqueName } from "./pulumi";
import { bridgeGateway } from "./containers";
import { channelAgentSettings } from "./thirdParty";
import { TestCa } from "./certificates";
import type { TlsTrust } from "../../load/transport";

const ROOT = path.join(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures");

export interface ChannelAgent {
    /** For messages: "the Telegram bot". */
    name: string;
    app: string;
    stack: TestStack;
    /** 30 chats, four messages each about a second apart, through the proxy. */
    simulator(): ChannelSimulator;
    /** Installs the agent's dependencies as its project does (npm ci, lock file committed) and creates its stack. */
    init(): Promise<void>;
    close(): Promise<void>;
}

const CHATS = { chats: 30, messages: 4, pauseMs: 1000 };

/**
 * The channels deliver over HTTPS only: each agent's proxy serves a certificate of a test CA
 * for the agent's host name (proxy.tls, mode certificate), and its simulator checks it
 * against that CA, reaching the host name at 127.0.0.1.
 */
async function httpsEdge(
    host: string,
): Promise<{ config: Record<string, string>; secrets: Record<string, string>; url: string; trust: TlsTrust; ca: TestCa }> {
    const ca = TestCa.create(`zdt channel test CA ${host}`);
    const issued = ca.issue([host], 30);
    const port = await freePort();
    return {
        config: { "proxy.tls.mode": "certificate", "proxy.tls.hosts[0]": host, "proxy.tls.port": String(port) },
        secrets: { "proxy.tls.certificate": issued.certificate, "proxy.tls.key": issued.key },
        url: `https://${host}:${port}`,
        trust: { ca: ca.certificate, hosts: { [host]: "127.0.0.1" } },
        ca,
    };
}

export function telegramBot(): ChannelAgent {
    const dir = path.join(FIXTURES, "telegram-bot");
    const app = uniqueName("ztg");
    const stack = new TestStack(ROOT, app);
    let webhook = "";
    let edge: Awaited<ReturnType<typeof httpsEdge>> | undefined;
    return {
        name: "the Telegram bot",
        app,
        stack,
        simulator: () => new TelegramSimulator({ webhook, ...CHATS, tls: edge?.trust }),
        async init() {
            await mustRun("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, timeoutMs: 240_000 });
            const port = await freePort();
            edge = await httpsEdge(`${app}.agents.test`);
            webhook = `${edge.url}/telegram`;
            await stack.init(
                {
                    app,
                    "agent.version": "1.0.0",
                    "agent.buildContext": path.relative(ROOT, dir),
                    // Where Telegram puts the chat, on the bot's webhook path.
                    "agent.conversation.preset": "telegram",
                    "agent.conversation.paths[0]": "/telegram",
                    // Checked as an agent without a health endpoint would be: any answer below 500 on /
                    // (the bot answers 404 there) is a good one.
                    "agent.health.path": "/",
                    "agent.health.expectStatus": "any",
                    // Its own evaluation set: Telegram updates as the Bot API delivers them, the
                    // reply read from the webhook's answer (docs/evaluation.md).
                    "release.evaluation.set": path.relative(ROOT, path.join(dir, "evaluation.json")),
                    ...channelAgentSettings(port),
                    ...edge.config,
                },
                edge.secrets,
            );
        },
        async close() {
            await stack.remove();
            edge?.ca.remove();
        },
    };
}

export interface WhatsAppApp extends ChannelAgent {
    /** What Meta gives the app's owner; generated here, as a user's would be unguessable. */
    secrets: { WHATSAPP_TOKEN: string; APP_SECRET: string; VERIFY_TOKEN: string };
    /** Where the app's replies arrive. */
    graph: GraphApi;
    whatsapp(): WhatsAppSimulator;
    /** Writes the shop's FAQ, which the app reads at start and on its own reload request. */
    writeFaq(headline: string): void;
}

export function whatsappApp(): WhatsAppApp {
    const dir = path.join(FIXTURES, "whatsapp-bot");
    const app = uniqueName("zwa");
    const stack = new TestStack(ROOT, app);
    const secrets = {
        WHATSAPP_TOKEN: `EAAG${crypto.randomBytes(24).toString("hex")}`,
        APP_SECRET: crypto.randomBytes(16).toString("hex"),
        VERIFY_TOKEN: crypto.randomBytes(12).toString("hex"),
    };
    const graph = new GraphApi(secrets.WHATSAPP_TOKEN);
    const faqDir = fs.mkdtempSync(path.join(os.tmpdir(), "zwa-faq-"));
    fs.chmodSync(faqDir, 0o755); // the app runs as nobody
    let webhook = "";
    let edge: Awaited<ReturnType<typeof httpsEdge>> | undefined;
    const whatsapp = () =>
        new WhatsAppSimulator(
            { webhook, ...CHATS, tls: edge?.trust, appSecret: secrets.APP_SECRET, accessToken: secrets.WHATSAPP_TOKEN },
            graph,
        );
    const writeFaq = (headline: string) => fs.writeFileSync(path.join(faqDir, "faq.md"), `${headline}\nOpening hours: 9 to 18.\n`);
    return {
        name: "the WhatsApp app",
        app,
        stack,
        secrets,
        graph,
        whatsapp,
        simulator: whatsapp,
        writeFaq,
        async init() {
            await mustRun("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, timeoutMs: 240_000 });
            // The Graph API where the app's containers reach this machine: the default bridge's gateway.
            const host = await bridgeGateway();
            const graphPort = await graph.listen(host);
            const port = await freePort();
            edge = await httpsEdge(`${app}.agents.test`);
            webhook = `${edge.url}/webhook`;
            writeFaq("v1: refunds take 10 days");
            await stack.init(
                {
                    app,
                    "agent.version": "1.0.0",
                    "agent.buildContext": path.relative(ROOT, dir),
                    // Its port, its health endpoint, its image's own health check (no curl in it).
                    "agent.port": "3000",
                    "agent.cpus": "1", // as its compose service limited it
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
                    ...edge.config,
                },
                // Its token and secrets travel as stack secrets (on pulumi's stdin, never a command line).
                { ...Object.fromEntries(Object.entries(secrets).map(([k, v]) => [`agent.secrets.${k}`, v])), ...edge.secrets },
            );
        },
        async close() {
            await stack.remove();
            await graph.close();
            fs.rmSync(faqDir, { recursive: true, force: true });
            edge?.ca.remove();
        },
    };
}
