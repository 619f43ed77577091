// What every channel simulator shares: many chats at once, each sending several messages
// seconds apart, and a verdict per chat from the bot's replies. A bot keeps a session per
// chat and says which turn a message is ("turn N: ..."); a turn that does not follow on
// means the chat's session restarted: its message reached a release that never saw the
// chat. Every delivery that fails (the channel would retry it) is counted by reason.
// load/telegram.ts and load/whatsapp.ts say how a message travels.
import * as http from "http";
import { requestFor, type TlsTrust } from "./transport";

export interface ChatLoadOptions {
    /** Chats sending at once; each starts over with a new chat when it has sent its messages. */
    chats: number;
    messages: number;
    pauseMs: number;
    requestTimeoutMs?: number;
    /** For an https webhook (as Telegram and WhatsApp require): the CA to trust and the test's host names (load/transport.ts). */
    tls?: TlsTrust;
}

export interface ChannelReport {
    /** Deliveries answered 200, and those that were not (by reason). */
    ok: number;
    failed: number;
    failures: Record<string, number>;
    /** Chats that sent every message with each reply's turn following on. */
    chatsCompleted: number;
    /** Chats whose session restarted (a reply's turn did not follow on): another release answered. */
    chatsRestarted: number;
    chatsFailed: number;
}

/** A bot's reply to one message: to whom, and its text. */
export interface ChatReply {
    to: string;
    text: string;
}

export abstract class ChannelSimulator {
    protected readonly report: ChannelReport = { ok: 0, failed: 0, failures: {}, chatsCompleted: 0, chatsRestarted: 0, chatsFailed: 0 };
    private running = false;
    private loops: Promise<void>[] = [];

    constructor(protected readonly load: ChatLoadOptions) {}

    /** A new chat's id, as the channel writes it. */
    protected abstract newChat(): string;
    /** Delivers message n of a chat; resolves to the bot's reply, or undefined when the delivery failed (counted). */
    protected abstract deliver(chat: string, n: number): Promise<ChatReply | undefined>;
    /** Frees what the simulator holds once every chat has ended. */
    protected abstract close(): Promise<void>;

    start(): void {
        this.running = true;
        // Chats begin spread over one chat's length, as customers write at their own times (all
        // in step, the count of active conversations would swing by a third from one reading to the next).
        const cycleMs = this.load.messages * this.load.pauseMs;
        for (let i = 0; i < this.load.chats; i++) this.loops.push(this.chatLoop((i * cycleMs) / this.load.chats));
    }

    async stop(): Promise<ChannelReport> {
        this.running = false;
        await Promise.all(this.loops);
        await this.close();
        return this.snapshot();
    }

    snapshot(): ChannelReport {
        return JSON.parse(JSON.stringify(this.report)) as ChannelReport;
    }

    protected fail(reason: string): undefined {
        this.report.failed++;
        this.report.failures[reason] = (this.report.failures[reason] ?? 0) + 1;
        return undefined;
    }

    private async chatLoop(offsetMs: number): Promise<void> {
        await new Promise((r) => setTimeout(r, offsetMs));
        while (this.running) {
            const chat = this.newChat();
            let verdict: "completed" | "restarted" | "failed" = "completed";
            for (let m = 1; m <= this.load.messages; m++) {
                const reply = await this.deliver(chat, m);
                if (reply === undefined) {
                    verdict = "failed";
                    break;
                }
                const turn = /^turn (\d+):/.exec(reply.text);
                if (reply.to !== chat || !turn || Number(turn[1]) !== m) verdict = "restarted";
                // A customer's pause, 80 to 120 % of pauseMs.
                if (m < this.load.messages) await new Promise((r) => setTimeout(r, this.load.pauseMs * (0.8 + 0.4 * Math.random())));
            }
            if (verdict === "completed") this.report.chatsCompleted++;
            else if (verdict === "restarted") this.report.chatsRestarted++;
            else this.report.chatsFailed++;
        }
    }
}

/** POSTs a JSON body; resolves to the status and the answer's text, or rejects on a network error or timeout. */
export function postJson(
    url: string,
    body: string,
    opts: { agent: http.Agent; timeoutMs: number; headers?: Record<string, string> },
): Promise<{ status: number; text: string }> {
    const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...opts.headers };
    return requestText(url, { ...opts, method: "POST", headers }, body);
}

/** One request (HTTP or HTTPS, as the URL says); resolves to the status and the answer's text, or rejects on a network error or timeout. */
export function requestText(
    url: string,
    opts: { method: string; agent: http.Agent; timeoutMs: number; headers?: Record<string, string> },
    body?: string,
): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const req = requestFor(url)(
            url,
            { method: opts.method, agent: opts.agent, headers: opts.headers, timeout: opts.timeoutMs },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (text += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end(body);
    });
}
