// The load client says, for every entry point, what failed and why, and keeps the first
// failures with when each request was sent and failed: a drill can tell what was in flight
// at an event (a node killed) from what was sent after it.
import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { FAILURE_LOG_LIMIT, LoadGenerator } from "../../load/client";

function server(handler: http.RequestListener): Promise<{ url: string; close: () => void; connections: () => number }> {
    const s = http.createServer(handler);
    let connections = 0;
    s.on("connection", () => connections++);
    return new Promise((resolve) =>
        s.listen(0, "127.0.0.1", () =>
            resolve({
                url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
                connections: () => connections,
                close: () => {
                    s.closeAllConnections();
                    s.close();
                },
            }),
        ),
    );
}

const answering = () =>
    server((req, res) => {
        req.resume();
        req.on("end", () => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ conversationId: "c", turn: 1, releaseId: "r1", answer: "ok" }));
        });
    });

describe("load client: failures by entry point", () => {
    it("counts each entry point's failures by reason and logs each with its times, kind and entry point", async () => {
        const good = await answering();
        const bad = await server((req, res) => {
            req.resume();
            req.on("end", () => {
                res.writeHead(503);
                res.end();
            });
        });
        const load = new LoadGenerator({ url: good.url, urls: [good.url, bad.url], shortRps: 40, shortLoops: 2, streams: 0 });
        const before = Date.now();
        load.start();
        await new Promise((r) => setTimeout(r, 400));
        const report = await load.stop();
        good.close();
        bad.close();
        expect(report.byUrl[good.url].failed).to.equal(0);
        expect(report.byUrl[good.url].failures).to.deep.equal({});
        expect(report.byUrl[bad.url].failed).to.be.greaterThan(0);
        expect(report.byUrl[bad.url].failures).to.deep.equal({ "HTTP 503": report.byUrl[bad.url].failed });
        expect(report.failureLog).to.have.length(report.failed);
        for (const f of report.failureLog) {
            expect(f).to.include({ url: bad.url, reason: "HTTP 503", kind: "short" });
            expect(f.sentAt).to.be.at.least(before);
            expect(f.failedAt).to.be.at.least(f.sentAt);
        }
    });

    it("keeps the first FAILURE_LOG_LIMIT failures and counts them all", async () => {
        const bad = await server((req, res) => {
            req.resume();
            req.on("end", () => {
                res.writeHead(500);
                res.end();
            });
        });
        const load = new LoadGenerator({ url: bad.url, shortRps: 2000, shortLoops: 8, streams: 0 });
        load.start();
        const deadline = Date.now() + 20_000;
        while (load.snapshot().failed <= FAILURE_LOG_LIMIT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const report = await load.stop();
        bad.close();
        expect(report.failed).to.be.greaterThan(FAILURE_LOG_LIMIT);
        expect(report.failureLog).to.have.length(FAILURE_LOG_LIMIT);
    });
});

describe("load client: a stream cut mid-answer", () => {
    it("counts one failure and one truncated stream, not one per event of the reset", async () => {
        const cut = await server((req, res) => {
            req.resume();
            req.on("end", () => {
                res.writeHead(200, { "content-type": "text/event-stream", "x-release-id": "r1" });
                res.write('event: meta\ndata: {"releaseId":"r1"}\n\n', () => setTimeout(() => res.socket?.destroy(), 20));
            });
        });
        // One stream; after a failure the client waits 1 s before opening it again.
        const load = new LoadGenerator({ url: cut.url, shortRps: 1, shortLoops: 0, streams: 1 });
        load.start();
        const deadline = Date.now() + 5000;
        while (load.snapshot().failed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 100));
        const report = await load.stop();
        cut.close();
        expect(report.requests).to.equal(1);
        expect(report.failed).to.equal(1);
        expect(report.streamsTruncated).to.equal(1);
        expect(report.failureLog).to.have.length(1);
        expect(report.failureLog[0]).to.include({ kind: "stream", release: "r1" });
    });
});

describe("load client: fresh connections", () => {
    it("a fresh-connection loop opens a connection for every request; a keep-alive loop reuses one", async () => {
        const run = async (freshConnectionLoops: number) => {
            const s = await answering();
            const load = new LoadGenerator({ url: s.url, shortRps: 40, shortLoops: 1, streams: 0, freshConnectionLoops });
            load.start();
            const deadline = Date.now() + 10_000;
            while (load.snapshot().ok < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            const report = await load.stop();
            s.close();
            return { report, connections: s.connections() };
        };
        const fresh = await run(1);
        expect(fresh.report.failed).to.equal(0);
        expect(fresh.report.requests).to.be.at.least(10);
        expect(fresh.connections).to.equal(fresh.report.requests);
        const kept = await run(0);
        expect(kept.report.failed).to.equal(0);
        expect(kept.report.requests).to.be.at.least(10);
        expect(kept.connections).to.equal(1);
    });
});
