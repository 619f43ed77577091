// Knowledge-base hot reload with the real engine: a content change reindexes the
// live agent in place, under load, with no container replaced.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LoadReport } from "../../load/client";
import { standardLoad } from "../../load/profile";
import { agentStack, TestStack, freePort, mustRun, run, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { askAgent } from "../support/http";
import { underLoad } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");

describe("knowledge-base hot reload (real engine)", function () {
    this.timeout(600_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const app = uniqueName("ztkb");
    const stack = new TestStack(ROOT, app);
    const kb = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-kb-"));
    let url = "";

    const agentId = async () =>
        (
            await mustRun("docker", ["ps", "-q", "--no-trunc", "--filter", `label=zdt.app=${app}`, "--filter", "label=zdt.role=agent"])
        ).stdout.trim();
    const ask = (message: string) => askAgent(url, message);
    async function upUnderLoad(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; load: LoadReport }> {
        const { result: up, report } = await underLoad(standardLoad(url), () => stack.up(), { beforeSeconds: 1, afterSeconds: 1 });
        return { up, load: report };
    }

    before(async () => {
        fs.cpSync(path.join(ROOT, "knowledge"), kb, { recursive: true });
        fs.chmodSync(kb, 0o755); // the agent runs as nobody: the folder must be readable by it
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        await stack.init(
            agentStack(app, port, {
                "agent.knowledgeDir": kb,
                "release.verifyWindowSeconds": "3",
                "release.drainTimeoutSeconds": "5",
            }),
        );
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
    });

    after(async () => {
        await stack.remove();
        fs.rmSync(kb, { recursive: true, force: true });
    });

    step("a changed file plans only the reindex, and pulumi up applies it in place with zero failed requests", async () => {
        expect(await ask("refund policy for annual plans")).to.include("within 30 days");
        const refunds = path.join(kb, "support", "refunds.md");
        fs.writeFileSync(refunds, fs.readFileSync(refunds, "utf8").replace("within 30 days", "within 45 days"));

        const preview = await stack.preview();
        expect(preview.code, preview.stdout).to.equal(0);
        expect(preview.stdout).to.match(/~\s+command:local:Command knowledge-reindex update/);
        expect(preview.stdout).to.match(/~ 1 to update/);
        expect(preview.stdout).to.not.match(/to create|to delete|to replace/);

        const before = await agentId();
        const { up, load } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
        expect(load.streamsTruncated).to.equal(0);
        expect(await agentId()).to.equal(before); // the same container, not a new one
        expect(await ask("refund policy for annual plans")).to.include("within 45 days");
    });

    step("a malformed file fails pulumi up naming the file, and the agent keeps answering from its index", async () => {
        fs.writeFileSync(path.join(kb, "support", "faq.json"), '[{"q": "broken", ');
        const { up, load } = await upUnderLoad();
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr).to.match(/reindex of \S+ failed: support\/faq\.json: invalid JSON/);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
        expect(await ask("refund policy for annual plans")).to.include("within 45 days");
        const health = (await (await fetch(`${url}/health`)).json()) as { status: string; checks: Record<string, { detail?: string }> };
        expect(health.status).to.equal("ok");
        expect(health.checks.reindex.detail).to.include("support/faq.json");
    });

    step("the admin endpoint answers 401 to a wrong or missing token and never logs the token", async () => {
        const out = await stack.outputs();
        const agent = `${app}-agent-${out.liveRelease}`;
        const call = (header: string[]) =>
            run("docker", [
                "exec",
                out.proxyContainer,
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                ...header,
                "-X",
                "POST",
                `http://${agent}:8080/admin/reindex`,
            ]);
        expect((await call(["-H", "Authorization: Bearer wrong-token"])).stdout).to.equal("401");
        expect((await call([])).stdout).to.equal("401");
        const token = (await stack.outputs(true)).adminTokenValue as string;
        expect(token).to.have.length(40);
        const logs = await mustRun("docker", ["logs", agent]);
        expect(logs.stdout + logs.stderr).to.not.include(token);
        const state = await mustRun("pulumi", ["stack", "export", "--stack", app], { cwd: ROOT });
        expect(state.stdout).to.not.include(token); // secrets are encrypted in the state
        // The token reaches the agent as a file, not in its environment: `docker inspect`
        // (open to anyone with Docker access) does not show it.
        const inspect = await mustRun("docker", ["inspect", agent]);
        expect(inspect.stdout).to.not.include(token);
        expect(inspect.stdout).to.include("ADMIN_TOKEN_FILE=/run/zdt-admin-token");
    });

    step("the token is on no command line while a release creates an agent and a reindex runs", async () => {
        const token = (await stack.outputs(true)).adminTokenValue as string;
        // Repair the knowledge base and change it, and release a new version, in one `pulumi up`.
        fs.copyFileSync(path.join(ROOT, "knowledge", "support", "faq.json"), path.join(kb, "support", "faq.json"));
        const refunds = path.join(kb, "support", "refunds.md");
        fs.writeFileSync(refunds, fs.readFileSync(refunds, "utf8").replace("within 45 days", "within 60 days"));
        await stack.setConfig("agent.version", "1.1.0");
        let samples = 0;
        const seen: string[] = [];
        let running = true;
        const sampler = (async () => {
            while (running) {
                const ps = await run("ps", ["-eo", "args"]);
                samples++;
                seen.push(...ps.stdout.split("\n").filter((l) => l.includes(token)));
                await new Promise((r) => setTimeout(r, 50));
            }
        })();
        const { up, load } = await upUnderLoad();
        running = false;
        await sampler;
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout).to.match(/knowledge-reindex/); // the reindex ran
        expect((await stack.outputs()).liveVersion).to.equal("1.1.0"); // and the release
        expect(await ask("refund policy for annual plans")).to.include("within 60 days");
        expect(samples).to.be.greaterThan(20);
        expect(seen).to.deep.equal([]);
        expect(load.failed, JSON.stringify(load.failures)).to.equal(0);
    });
});
