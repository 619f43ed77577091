// The Graph API's side of the WhatsApp load: replies carried, refused without the token,
// and an idle connection kept open as Meta's edge keeps it (not Node's 5 s default, which
// races a client's reuse of the connection and loses a reply to EPIPE).
import { expect } from "chai";
import { GRAPH_API_VERSION, GraphApi } from "../../load/whatsapp";

const PATH = `/${GRAPH_API_VERSION}/106540352242922/messages`;

function send(port: number, token: string, to: string, text: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${port}${PATH}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: text } }),
    });
}

describe("Graph API stand-in (WhatsApp replies)", () => {
    let graph: GraphApi;
    let port: number;
    beforeEach(async () => {
        graph = new GraphApi("the-token");
        port = await graph.listen("127.0.0.1");
    });
    afterEach(() => graph.close());

    it("hands a reply to whoever waits for its recipient, and says how long an idle connection stays open", async () => {
        const waiting = graph.replyTo("4915100000001");
        const res = await send(port, "the-token", "4915100000001", "turn 1");
        expect(res.status).to.equal(200);
        expect(await waiting.within(5_000)).to.equal("turn 1");
        const keepAlive = /timeout=(\d+)/.exec(res.headers.get("keep-alive") ?? "");
        expect(keepAlive, "a Keep-Alive hint").to.not.equal(null);
        expect(Number(keepAlive![1])).to.be.at.least(60);
        expect(graph.unexpected).to.equal(0);
    });

    it("refuses a reply without the access token and counts it", async () => {
        const res = await send(port, "wrong", "4915100000002", "hello");
        expect(res.status).to.equal(401);
        expect(graph.unauthorized).to.equal(1);
        expect(graph.recent).to.deep.equal([]);
    });
});
