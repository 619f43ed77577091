// The reference agent's retirement: on SIGTERM it drains for the drain the release
// program wrote (not the one it started with), then ends the streams still open with a
// final `retired` event that says why and carries the conversation id to resume.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");

describe("reference agent retirement", function () {
    this.timeout(30_000);

    it("ends a stream that outlives the drain with a final 'retired' event, and reports it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-retire-"));
        fs.writeFileSync(
            path.join(dir, "faq.md"),
            "# Refunds\n\n" + "Refunds are paid within ten business days of the request. ".repeat(10) + "\n",
        );
        const drainFile = path.join(dir, "drain-ms");
        fs.writeFileSync(drainFile, "600"); // what the release program writes: the current config's drain
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        let logs = "";
        const agent = spawn(process.execPath, [path.join(ROOT, "agent", "dist", "server.js")], {
            env: {
                ...process.env,
                PORT: String(port),
                KNOWLEDGE_DIR: dir,
                ADMIN_TOKEN: "t",
                STREAM_TOKEN_DELAY_MS: "200",
                SHUTDOWN_GRACE_MS: "30000",
                DRAIN_FILE: drainFile,
            },
        });
        agent.stdout!.on("data", (d) => (logs += d));
        agent.stderr!.on("data", (d) => (logs += d));
        const exited = new Promise<number | null>((r) => agent.on("exit", r));
        try {
            for (
                let i = 0;
                i < 100 &&
                !(await fetch(`${url}/health`).then(
                    (r) => r.ok,
                    () => false,
                ));
                i++
            )
                await new Promise((r) => setTimeout(r, 100));
            const res = await fetch(`${url}/v1/chat`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ message: "refunds", stream: true, conversationId: "conv-42" }),
            });
            const reader = res.body!.getReader();
            let text = "";
            text += new TextDecoder().decode((await reader.read()).value); // the stream has begun
            const t0 = Date.now();
            agent.kill("SIGTERM");
            for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                text += new TextDecoder().decode(value);
            }
            const ms = Date.now() - t0;
            const last = text.trimEnd().split("\n\n").pop()!;
            expect(last).to.match(/^event: retired\ndata: /);
            expect(JSON.parse(last.split("data: ")[1])).to.deep.equal({
                reason: "this release was retired before the answer ended",
                conversationId: "conv-42",
                resume: true,
            });
            expect(text).to.not.include("event: done");
            expect(ms).to.be.within(500, 10_000); // the written 0.6 s drain, not the 30 s it started with
            expect(await exited).to.equal(0);
            expect(logs).to.include("retired: 1 streams ended at the drain deadline");
        } finally {
            agent.kill("SIGKILL");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
