// The channel simulators over HTTPS, as Telegram and WhatsApp deliver: a webhook served with
// a test CA's certificate for its host name is reached by that name (mapped to 127.0.0.1) and
// its certificate checked; one the simulator does not trust fails every delivery.
import { expect } from "chai";
import * as https from "https";
import type { AddressInfo } from "net";
import { TelegramSimulator } from "../../load/telegram";
import { TestCa } from "../support/certificates";

const HOST = "bot.agents.test";

describe("channel simulators over HTTPS", function () {
    this.timeout(30_000);
    let ca: TestCa;
    let other: TestCa;
    let server: https.Server;
    let port = 0;
    const servedNames: string[] = [];

    before(async () => {
        ca = TestCa.create();
        other = TestCa.create("another CA");
        const issued = ca.issue([HOST]);
        // A Telegram bot's webhook: a session per chat, each reply says its turn (a sendMessage call).
        const turns = new Map<number, number>();
        server = https.createServer({ cert: issued.certificate, key: issued.key }, (req, res) => {
            servedNames.push((req.socket as unknown as { servername?: string }).servername ?? "");
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => {
                const chat = (JSON.parse(body) as { message: { chat: { id: number } } }).message.chat.id;
                const turn = (turns.get(chat) ?? 0) + 1;
                turns.set(chat, turn);
                res.writeHead(200, { "content-type": "application/json" }).end(
                    JSON.stringify({ method: "sendMessage", chat_id: chat, text: `turn ${turn}: ok` }),
                );
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        port = (server.address() as AddressInfo).port;
    });
    after(() => {
        server.close();
        ca.remove();
        other.remove();
    });

    const chats = async (trust: string) => {
        const sim = new TelegramSimulator({
            webhook: `https://${HOST}:${port}/telegram`,
            chats: 2,
            messages: 2,
            pauseMs: 50,
            tls: { ca: trust, hosts: { [HOST]: "127.0.0.1" } },
        });
        sim.start();
        const deadline = Date.now() + 10_000;
        while (sim.snapshot().chatsCompleted + sim.snapshot().chatsFailed < 2 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 20));
        return sim.stop();
    };

    it("delivers to the host name over HTTPS, checking the certificate against the CA it trusts", async () => {
        const report = await chats(ca.certificate);
        expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
        expect(report.chatsCompleted).to.be.greaterThan(1);
        expect(report.chatsRestarted).to.equal(0);
        expect(servedNames).to.include(HOST);
    });

    it("fails every delivery to a certificate of a CA it does not trust", async () => {
        const report = await chats(other.certificate);
        expect(report.ok).to.equal(0);
        expect(report.failed).to.be.greaterThan(0);
        expect(Object.keys(report.failures).join(" ")).to.match(/certificate/i);
    });

    it("refuses an https webhook without a CA to trust", () => {
        expect(() => new TelegramSimulator({ webhook: `https://${HOST}:${port}/telegram`, chats: 1, messages: 1, pauseMs: 1 })).to.throw(
            /an https URL needs the CA to trust/,
        );
    });
});
