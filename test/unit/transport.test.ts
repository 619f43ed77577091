// The load clients' connections: a kept connection is closed by the client before the
// proxy would close it, so no request is written onto a connection the proxy is closing.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { connectionAgent, IDLE_CLOSE_MS } from "../../load/transport";

const PROXY = path.join(__dirname, "..", "..", "proxy");

describe("load client connections (load/transport.ts)", () => {
    it("closes an idle kept connection before every proxy template's keep-alive timeout does", () => {
        const templates = fs.readdirSync(PROXY).filter((f) => f.endsWith(".cfg.tmpl"));
        expect(templates.length).to.be.at.least(3);
        for (const t of templates) {
            const m = /timeout http-keep-alive (\d+)s/.exec(fs.readFileSync(path.join(PROXY, t), "utf8"));
            expect(m, `${t}: timeout http-keep-alive`).to.not.equal(null);
            expect(IDLE_CLOSE_MS, t).to.be.below(Number(m![1]) * 1000);
        }
    });

    it("a kept connection left idle past the agent's timeout is closed by the client", async () => {
        // The agent's own timer, shortened: the same mechanism IDLE_CLOSE_MS sets.
        const server = http.createServer((_req, res) => res.end("ok"));
        server.keepAliveTimeout = 60_000;
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const closed: number[] = [];
        server.on("connection", (socket) => socket.on("close", () => closed.push(Date.now())));
        try {
            // Node keeps an agent's options on it (untyped in @types/node).
            const agent = connectionAgent(`http://127.0.0.1`, 4) as http.Agent & { options: http.AgentOptions };
            expect(agent.options.timeout).to.equal(IDLE_CLOSE_MS);
            agent.options.timeout = 300;
            const port = (server.address() as AddressInfo).port;
            await new Promise<void>((resolve, reject) =>
                http.get({ host: "127.0.0.1", port, agent }, (res) => res.resume().on("end", resolve)).on("error", reject),
            );
            const deadline = Date.now() + 10_000;
            while (closed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
            expect(closed, "the client closed its idle connection").to.have.length(1);
            agent.destroy();
        } finally {
            server.close();
        }
    });
});
