// A channel simulator: WhatsApp's side of a Cloud API app. Each message is a webhook
// notification as Meta documents it (object whatsapp_business_account, entry[].changes[]
// with field "messages", its value's metadata, contacts and messages[] with from, id,
// timestamp, type text), signed with the app secret (X-Hub-Signature-256), posted to the
// app's webhook through the proxy. The app answers 200 at once and replies later through
// the Graph API: the simulator serves that API too (POST /<version>/<phone-number-id>/messages
// with the app's bearer token), and each reply it receives is the reply to that sender's
// message. After each reply, WhatsApp's "delivered" status notification for it follows, as
// on the real channel (a status carries the customer as its recipient_id).
// https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
// https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { ChannelSimulator, type ChatLoadOptions, type ChatReply, postJson, requestText } from "./channel";
import { connectionAgent } from "./transport";

export interface WhatsAppLoadOptions extends ChatLoadOptions {
    /** The webhook's URL through the proxy, e.g. http://127.0.0.1:8080/webhook. */
    webhook: string;
    /** The app secret the notifications are signed with, and the access token the app's Graph API calls must carry. */
    appSecret: string;
    accessToken: string;
    /** How long a reply through the Graph API may take, from the webhook's 200, before the message counts as failed. */
    replyTimeoutMs?: number;
}

const PHONE_NUMBER_ID = "106540352242922";
export const GRAPH_API_VERSION = "v21.0";

/** The Graph API's side: where the app's replies arrive. Listen on an address the app's containers reach. */
export class GraphApi {
    private readonly server = http.createServer((req, res) => this.handle(req, res));
    private readonly waiting = new Map<string, (text: string | undefined) => void>();
    /** Replies no message waited for (a second reply, or one to a sender nobody wrote as), and calls refused. */
    unexpected = 0;
    unauthorized = 0;
    /** The latest replies' texts (the last 200), oldest first. */
    readonly recent: string[] = [];

    constructor(private readonly accessToken: string) {
        // Meta's edge keeps an idle connection open far longer than Node's 5 s default. With
        // that default the app's fetch (undici, which reuses a connection for 4 s of a
        // 5 s hint) can write a reply onto a connection this server is closing: EPIPE, and
        // the reply is lost for a reason the real API never gives (CI saw it once).
        this.server.keepAliveTimeout = 65_000;
        this.server.headersTimeout = 66_000;
    }

    async listen(host: string): Promise<number> {
        await new Promise<void>((r) => this.server.listen(0, host, r));
        return (this.server.address() as AddressInfo).port;
    }

    /**
     * The next reply to `to`, awaited from now on (a reply may come before the webhook's 200
     * does): `within(ms)` resolves to its text, or to undefined `ms` after it was called.
     */
    replyTo(to: string): { within: (timeoutMs: number) => Promise<string | undefined>; cancel: () => void } {
        let arrived: (text: string | undefined) => void = () => undefined;
        const reply = new Promise<string | undefined>((resolve) => (arrived = resolve));
        this.waiting.set(to, arrived);
        const cancel = () => {
            if (this.waiting.get(to) === arrived) this.waiting.delete(to);
            arrived(undefined);
        };
        const within = async (timeoutMs: number) => {
            const timer = setTimeout(cancel, timeoutMs);
            try {
                return await reply;
            } finally {
                clearTimeout(timer);
            }
        };
        return { within, cancel };
    }

    async close(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise((r) => this.server.close(r));
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => (body += d));
        req.on("end", () => {
            if (req.method !== "POST" || req.url !== `/${GRAPH_API_VERSION}/${PHONE_NUMBER_ID}/messages`) {
                res.writeHead(404).end();
                return;
            }
            if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
                this.unauthorized++;
                res.writeHead(401, { "content-type": "application/json" }).end(
                    '{"error":{"message":"Invalid OAuth access token.","code":190}}',
                );
                return;
            }
            const msg = JSON.parse(body) as { to: string; text?: { body?: string } };
            this.recent.push(msg.text?.body ?? "");
            if (this.recent.length > 200) this.recent.shift();
            const waiter = this.waiting.get(msg.to);
            if (waiter) {
                this.waiting.delete(msg.to);
                waiter(msg.text?.body ?? "");
            } else this.unexpected++;
            const id = `wamid.${crypto.randomBytes(12).toString("hex")}`;
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({ messaging_product: "whatsapp", contacts: [{ input: msg.to, wa_id: msg.to }], messages: [{ id }] }),
            );
        });
    }
}

export class WhatsAppSimulator extends ChannelSimulator {
    private readonly agent: http.Agent;
    /** Senders' wa_ids: a country code and a mobile number, a new one per chat. */
    private nextSender = 4915100000000 + Math.floor(Math.random() * 1_000_000) * 100;

    constructor(
        private readonly opts: WhatsAppLoadOptions,
        private readonly graph: GraphApi,
    ) {
        super(opts);
        this.agent = connectionAgent(opts.webhook, 64, opts.tls);
    }

    protected newChat(): string {
        return String(this.nextSender++);
    }

    protected async close(): Promise<void> {
        this.agent.destroy();
    }

    /** Meta's verification request (GET with hub.mode, hub.verify_token, hub.challenge): resolves to whether the app echoed the challenge. */
    async verify(verifyToken: string): Promise<boolean> {
        const challenge = String(crypto.randomInt(1e9));
        const url = `${this.opts.webhook}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(verifyToken)}&hub.challenge=${challenge}`;
        const res = await requestText(url, { method: "GET", agent: this.agent, timeoutMs: this.opts.requestTimeoutMs ?? 30_000 });
        return res.status === 200 && res.text === challenge;
    }

    protected async deliver(from: string, n: number): Promise<ChatReply | undefined> {
        const wamid = `wamid.${crypto.randomBytes(12).toString("hex")}`;
        const waiting = this.graph.replyTo(from);
        const ok = await this.post(
            this.notification({
                contacts: [{ profile: { name: "Customer" }, wa_id: from }],
                messages: [{ from, id: wamid, timestamp: this.now(), text: { body: `message ${n}` }, type: "text" }],
            }),
        );
        if (!ok) {
            waiting.cancel();
            return undefined;
        }
        // The app's time to reply counts from its 200 (the webhook's own time is bounded by requestTimeoutMs).
        const replyMs = this.opts.replyTimeoutMs ?? 20_000;
        const text = await waiting.within(replyMs);
        if (text === undefined) return this.fail(`no reply through the Graph API within ${replyMs / 1000} s of the webhook's 200`);
        // The reply's delivery receipt, pinned by its recipient like the chat's messages.
        const delivered = await this.post(
            this.notification({
                statuses: [
                    {
                        id: `wamid.${crypto.randomBytes(12).toString("hex")}`,
                        status: "delivered",
                        timestamp: this.now(),
                        recipient_id: from,
                    },
                ],
            }),
        );
        return delivered ? { to: from, text } : undefined;
    }

    private now(): string {
        return String(Math.floor(Date.now() / 1000));
    }

    private notification(value: Record<string, unknown>): string {
        return JSON.stringify({
            object: "whatsapp_business_account",
            entry: [
                {
                    id: "102290129340398",
                    changes: [
                        {
                            value: {
                                messaging_product: "whatsapp",
                                metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_NUMBER_ID },
                                ...value,
                            },
                            field: "messages",
                        },
                    ],
                },
            ],
        });
    }

    /** One signed notification; counts it, and resolves to whether it was answered 200. */
    private async post(body: string): Promise<boolean> {
        const signature = "sha256=" + crypto.createHmac("sha256", this.opts.appSecret).update(body).digest("hex");
        try {
            const res = await postJson(this.opts.webhook, body, {
                agent: this.agent,
                timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
                headers: { "x-hub-signature-256": signature },
            });
            if (res.status !== 200) return this.fail(`HTTP ${res.status}`) ?? false;
            this.report.ok++;
            return true;
        } catch (err) {
            return this.fail((err as Error).message) ?? false;
        }
    }
}
