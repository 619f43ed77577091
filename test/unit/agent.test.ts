// The reference agent's contract, against the compiled agent in a child process
// (no Docker): health, streaming, metrics, admin auth, coalesced and incremental reindex.
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");
const TOKEN = "test-token-0123456789";

describe("reference agent", function () {
    this.timeout(30_000);
    let agent: ChildProcess;
    let url = "";
    let kb = "";
    let logs = "";

    const admin = (method: string, body?: unknown, token = TOKEN) =>
        fetch(`${url}/admin/reindex`, {
            method,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
    async function settled(): Promise<{ state: string; generation: number; reparsed?: string[]; error?: string }> {
        for (;;) {
            const s = (await (await admin("GET")).json()) as { state: string; generation: number };
            if (s.state !== "running") return s;
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    before(async () => {
        kb = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-agent-kb-"));
        fs.writeFileSync(path.join(kb, "refunds.md"), "# Refunds\n\nRefunds are paid within 10 business days.\n");
        fs.writeFileSync(path.join(kb, "faq.json"), JSON.stringify([{ q: "Which channels?", a: "WhatsApp, Telegram and email." }]));
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        agent = spawn(process.execPath, [path.join(ROOT, "agent", "dist", "server.js")], {
            env: {
                ...process.env,
                PORT: String(port),
                KNOWLEDGE_DIR: kb,
                ADMIN_TOKEN: TOKEN,
                AGENT_VERSION: "9.9.9",
                RELEASE_ID: "9-9-9-test",
                STREAM_TOKEN_DELAY_MS: "1",
                FAULT_REINDEX_DELAY_MS: "300",
            },
        });
        agent.stdout!.on("data", (d) => (logs += d));
        agent.stderr!.on("data", (d) => (logs += d));
        for (let i = 0; i < 100; i++) {
            if (
                await fetch(`${url}/health`).then(
                    () => true,
                    () => false,
                )
            )
                return;
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`agent did not start: ${logs}`);
    });

    after(() => {
        agent.kill("SIGTERM");
        fs.rmSync(kb, { recursive: true, force: true });
    });

    it("reports health, version and metrics", async () => {
        const health = (await (await fetch(`${url}/health`)).json()) as { status: string; checks: Record<string, { ok: boolean }> };
        expect(health.status).to.equal("ok");
        expect(Object.keys(health.checks)).to.include.members(["knowledge", "llm"]);
        expect(await (await fetch(`${url}/version`)).json()).to.include({ version: "9.9.9", releaseId: "9-9-9-test" });
        const metrics = await (await fetch(`${url}/metrics`)).text();
        expect(metrics)
            .to.match(/agent_http_requests_total\{status="200"\} \d+/)
            .and.to.match(/agent_http_request_duration_seconds_bucket/)
            .and.to.include("agent_active_conversations 0");
    });

    it("answers from the knowledge base, as JSON and as a complete event stream", async () => {
        const json = (await (
            await fetch(`${url}/v1/chat`, { method: "POST", body: JSON.stringify({ message: "when are refunds paid" }) })
        ).json()) as { answer: string; source: string };
        expect(json.answer).to.include("10 business days");
        expect(json.source).to.equal("refunds.md");
        const res = await fetch(`${url}/v1/chat`, { method: "POST", body: JSON.stringify({ message: "which channels", stream: true }) });
        expect(res.headers.get("content-type")).to.equal("text/event-stream");
        const text = await res.text();
        expect(text.startsWith("event: meta\n")).to.equal(true);
        expect(text).to.include('data: {"token":"WhatsApp,"}');
        expect(text.trimEnd().split("\n\n").pop()).to.match(/^event: done\n/);
        expect((await fetch(`${url}/v1/chat`, { method: "POST", body: "not json" })).status).to.equal(400);
    });

    it("keeps a conversation's turns by X-Conversation-Id, returns the id, and starts an unknown one at turn 1", async () => {
        const say = async (message: string, id?: string) => {
            const res = await fetch(`${url}/v1/chat`, {
                method: "POST",
                headers: id ? { "x-conversation-id": id } : {},
                body: JSON.stringify({ message }),
            });
            const body = (await res.json()) as { conversationId: string; turn: number };
            return { header: res.headers.get("x-conversation-id"), ...body };
        };
        const first = await say("hello", "conv-1");
        expect(first).to.deep.include({ header: "conv-1", conversationId: "conv-1", turn: 1 });
        expect(await say("refunds?", "conv-1")).to.deep.include({ turn: 2 });
        expect(await say("hello", "conv-2")).to.deep.include({ turn: 1 });
        expect(await say("thanks", "conv-1")).to.deep.include({ turn: 3 });
        // Without an id the agent makes one up (the proxy normally assigns it) and says which.
        const anonymous = await say("hi");
        expect(anonymous.header)
            .to.equal(anonymous.conversationId)
            .and.to.match(/^[0-9a-f-]{36}$/);
        expect(anonymous.turn).to.equal(1);
        // An id that is not a plain token is not trusted.
        expect((await say("hi", "bad id with spaces")).conversationId).to.not.equal("bad id with spaces");
        // The conversations it remembers are a metric.
        const remembered = /^agent_conversations_remembered (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text());
        expect(Number(remembered?.[1])).to.be.at.least(4);
    });

    it("refuses the admin endpoint without the right bearer token, and never logs a token", async () => {
        expect((await admin("POST", {}, "wrong")).status).to.equal(401);
        expect((await fetch(`${url}/admin/reindex`, { method: "POST" })).status).to.equal(401);
        expect((await admin("POST", { scope: "partial" })).status).to.equal(400);
        expect(logs).to.not.include(TOKEN).and.to.not.include("wrong");
    });

    it("coalesces concurrent reindex requests into one follow-up run", async () => {
        const start = (await settled()).generation;
        const answers = await Promise.all(Array.from({ length: 8 }, () => admin("POST", { scope: "full" })));
        expect(answers.every((a) => a.status === 202)).to.equal(true);
        const end = await settled();
        expect(end.state).to.equal("done");
        // 8 requests: at most the run they found going plus one queued run.
        expect(end.generation - start).to.be.within(1, 2);
    });

    it("incremental scope re-parses only changed files; a malformed file keeps the old index", async () => {
        fs.writeFileSync(path.join(kb, "refunds.md"), "# Refunds\n\nRefunds are paid within 5 business days.\n");
        await admin("POST", { scope: "incremental" });
        const done = await settled();
        expect(done.reparsed).to.deep.equal(["refunds.md"]);
        const answer = async () =>
            (
                (await (
                    await fetch(`${url}/v1/chat`, { method: "POST", body: JSON.stringify({ message: "when are refunds paid" }) })
                ).json()) as { answer: string }
            ).answer;
        expect(await answer()).to.include("5 business days");

        fs.writeFileSync(path.join(kb, "faq.json"), "[{");
        await admin("POST", { scope: "incremental" });
        const failed = await settled();
        expect(failed.state).to.equal("failed");
        expect(failed.error).to.match(/^faq\.json: invalid JSON/);
        expect(await answer()).to.include("5 business days");
        const health = (await (await fetch(`${url}/health`)).json()) as { status: string; checks: Record<string, { detail?: string }> };
        expect(health.status).to.equal("ok");
        expect(health.checks.reindex.detail).to.include("faq.json");
    });
});
