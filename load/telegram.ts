// A channel simulator: Telegram's side of a bot's webhook. Many chats at once, each sending
// several text messages seconds apart as Bot API updates (the Update object as Telegram
// documents it: update_id, message with message_id, date, chat, from, text) to the bot's
// webhook path through the proxy, reading the bot's webhook reply (a sendMessage call).
// A bot keeps a session per chat, and says which turn a message is; a turn that does not
// follow on means the chat's session restarted: its message reached a release that never
// saw the chat. Every delivery that fails (Telegram would retry it) is counted.
// https://core.telegram.org/bots/api#update, https://core.telegram.org/bots/api#making-requests-when-getting-updates
import * as http from "http";

export interface TelegramLoadOptions {
    /** The webhook's URL through the proxy, e.g. http://127.0.0.1:8080/telegram. */
    webhook: string;
    /** Chats sending at once; each starts over with a new chat when it has sent its messages. */
    chats: number;
    messages: number;
    pauseMs: number;
    requestTimeoutMs?: number;
}

export interface ChannelReport {
    /** Updates delivered and answered 200, and those that were not (by reason). */
    ok: number;
    failed: number;
    failures: Record<string, number>;
    /** Chats that sent every message with each reply's turn following on. */
    chatsCompleted: number;
    /** Chats whose session restarted (a reply's turn did not follow on): another release answered. */
    chatsRestarted: number;
    chatsFailed: number;
}

export class TelegramSimulator {
    private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    private readonly report: ChannelReport = { ok: 0, failed: 0, failures: {}, chatsCompleted: 0, chatsRestarted: 0, chatsFailed: 0 };
    private running = false;
    private loops: Promise<void>[] = [];
    private updateId = 1;
    /** Chat ids: a supergroup's form (-100 and ten digits), too long for a double's 6 significant digits to keep apart. */
    private nextChat = -1_001_000_000_000 - Math.floor(Math.random() * 1_000_000) * 1000;

    constructor(private readonly opts: TelegramLoadOptions) {}

    start(): void {
        this.running = true;
        // Chats begin spread over one chat's length, as customers write at their own times (all
        // in step, the count of active conversations would swing by a third from one reading to the next).
        const cycleMs = this.opts.messages * this.opts.pauseMs;
        for (let i = 0; i < this.opts.chats; i++) this.loops.push(this.chatLoop((i * cycleMs) / this.opts.chats));
    }

    async stop(): Promise<ChannelReport> {
        this.running = false;
        await Promise.all(this.loops);
        this.agent.destroy();
        return this.snapshot();
    }

    snapshot(): ChannelReport {
        return JSON.parse(JSON.stringify(this.report)) as ChannelReport;
    }

    private async chatLoop(offsetMs: number): Promise<void> {
        await new Promise((r) => setTimeout(r, offsetMs));
        while (this.running) {
            const chat = this.nextChat--;
            let verdict: "completed" | "restarted" | "failed" = "completed";
            for (let m = 1; m <= this.opts.messages; m++) {
                const reply = await this.deliver(chat, m);
                if (reply === undefined) {
                    verdict = "failed";
                    break;
                }
                const turn = /^turn (\d+):/.exec(reply.text ?? "");
                if (reply.chat_id !== chat || !turn || Number(turn[1]) !== m) verdict = "restarted";
                // A customer's pause, 80 to 120 % of pauseMs.
                if (m < this.opts.messages) await new Promise((r) => setTimeout(r, this.opts.pauseMs * (0.8 + 0.4 * Math.random())));
            }
            if (verdict === "completed") this.report.chatsCompleted++;
            else if (verdict === "restarted") this.report.chatsRestarted++;
            else this.report.chatsFailed++;
        }
    }

    /** One update; resolves to the bot's webhook reply, or undefined when the delivery failed. */
    private deliver(chat: number, n: number): Promise<{ chat_id?: number; text?: string } | undefined> {
        const update = {
            update_id: this.updateId++,
            message: {
                message_id: n,
                date: Math.floor(Date.now() / 1000),
                chat: { id: chat, type: "supergroup", title: "Support" },
                from: { id: 7000 + n, is_bot: false, first_name: "Customer" },
                text: `message ${n}`,
            },
        };
        const body = JSON.stringify(update);
        const fail = (reason: string) => {
            this.report.failed++;
            this.report.failures[reason] = (this.report.failures[reason] ?? 0) + 1;
            return undefined;
        };
        return new Promise((resolve) => {
            const req = http.request(
                this.opts.webhook,
                {
                    method: "POST",
                    agent: this.agent,
                    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
                    timeout: this.opts.requestTimeoutMs ?? 30_000,
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (d: string) => (text += d));
                    res.on("end", () => {
                        if (res.statusCode !== 200) return resolve(fail(`HTTP ${res.statusCode}`));
                        this.report.ok++;
                        try {
                            resolve(JSON.parse(text) as { chat_id?: number; text?: string });
                        } catch {
                            resolve({});
                        }
                    });
                    res.on("error", (err) => resolve(fail(err.message)));
                },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", (err) => resolve(fail(err.message)));
            req.end(body);
        });
    }
}
