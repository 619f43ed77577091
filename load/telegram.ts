// A channel simulator: Telegram's side of a bot's webhook. Each message is a Bot API update
// (the Update object as Telegram documents it: update_id, message with message_id, date,
// chat, from, text) posted to the bot's webhook path through the proxy; the bot's reply is
// its webhook answer (a sendMessage call).
// https://core.telegram.org/bots/api#update, https://core.telegram.org/bots/api#making-requests-when-getting-updates
import { connectionAgent } from "./transport";
import { ChannelSimulator, type ChatLoadOptions, type ChatReply, postJson } from "./channel";

export type { ChannelReport } from "./channel";

export interface TelegramLoadOptions extends ChatLoadOptions {
    /** The webhook's URL through the proxy, e.g. https://agents.test:8443/telegram. */
    webhook: string;
}

export class TelegramSimulator extends ChannelSimulator {
    private readonly agent;
    private updateId = 1;
    /** Chat ids: a supergroup's form (-100 and ten digits), too long for a double's 6 significant digits to keep apart. */
    private nextChat = -1_001_000_000_000 - Math.floor(Math.random() * 1_000_000) * 1000;

    constructor(private readonly opts: TelegramLoadOptions) {
        super(opts);
        this.agent = connectionAgent(opts.webhook, 64, opts.tls);
    }

    protected newChat(): string {
        return String(this.nextChat--);
    }

    protected async close(): Promise<void> {
        this.agent.destroy();
    }

    protected async deliver(chat: string, n: number): Promise<ChatReply | undefined> {
        const update = {
            update_id: this.updateId++,
            message: {
                message_id: n,
                date: Math.floor(Date.now() / 1000),
                chat: { id: Number(chat), type: "supergroup", title: "Support" },
                from: { id: 7000 + n, is_bot: false, first_name: "Customer" },
                text: `message ${n}`,
            },
        };
        try {
            const res = await postJson(this.opts.webhook, JSON.stringify(update), {
                agent: this.agent,
                timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
            });
            if (res.status !== 200) return this.fail(`HTTP ${res.status}`);
            this.report.ok++;
            return replyOf(res.text);
        } catch (err) {
            return this.fail((err as Error).message);
        }
    }
}

/** The webhook reply's sendMessage call (an answer that is no such call is no reply from this chat's session). */
function replyOf(text: string): ChatReply {
    try {
        const call = JSON.parse(text) as { chat_id?: number; text?: string };
        return { to: String(call.chat_id), text: call.text ?? "" };
    } catch {
        return { to: "", text: "" };
    }
}
