// The load client judges each multi-turn conversation whole: kept (same release, turns in
// order) or broken (another release answered, or the turn count started over).
import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { LoadGenerator } from "../../load/client";

/** An agent stand-in: answers with the turn it counted for the conversation, as the reference agent does. */
function agent(releaseFor: (turnSeen: number) => string, forget = false): Promise<{ url: string; close: () => void }> {
    const turns = new Map<string, number>();
    let next = 0;
    const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            const id = (req.headers["x-conversation-id"] as string | undefined) ?? `c${++next}`;
            const turn = forget ? 1 : (turns.get(id) ?? 0) + 1;
            turns.set(id, turn);
            res.writeHead(200, { "content-type": "application/json", "x-conversation-id": id });
            res.end(JSON.stringify({ conversationId: id, turn, releaseId: releaseFor(turn), answer: "ok" }));
        });
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }),
        ),
    );
}

async function run(url: string) {
    const load = new LoadGenerator({
        url,
        shortRps: 1,
        shortLoops: 0,
        streams: 0,
        conversations: { concurrent: 2, turns: 3, pauseMs: 20 },
    });
    load.start();
    await new Promise((r) => setTimeout(r, 300));
    return load.stop();
}

describe("load client: conversations", () => {
    it("counts conversations that keep their release and their turns as completed", async () => {
        const a = await agent(() => "r1");
        const report = await run(a.url);
        a.close();
        expect(report.conversationsCompleted).to.be.greaterThan(1);
        expect(report.conversationsBroken).to.equal(0);
        expect(report.failed).to.equal(0);
    });

    it("counts a conversation whose later turn another release answered as broken", async () => {
        const a = await agent((turn) => (turn >= 3 ? "r2" : "r1"));
        const report = await run(a.url);
        a.close();
        expect(report.conversationsBroken).to.be.greaterThan(1);
        expect(report.conversationsCompleted).to.equal(0);
    });

    it("counts a conversation that a release answers as turn 1 again (it never saw it) as broken", async () => {
        const a = await agent(() => "r1", true);
        const report = await run(a.url);
        a.close();
        expect(report.conversationsBroken).to.be.greaterThan(1);
        expect(report.conversationsCompleted).to.equal(0);
    });
});
