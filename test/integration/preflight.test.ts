// Config values that name a folder or an image, refused by a real `pulumi up` before
// anything is declared, naming the setting.
import { expect } from "chai";
import * as path from "path";
import { freePort, mustRun, TestStack, uniqueName } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");

describe("preflight in a real pulumi up", function () {
    this.timeout(300_000);
    const app = uniqueName("ztpre");
    const stack = new TestStack(ROOT, app);

    before(async () => {
        await stack.init({ app, "agent.version": "1.0.0", "agent.buildContext": "agent", "proxy.port": String(await freePort()) });
    });
    after(async () => {
        await stack.remove();
    });

    async function expectRefused(setting: string, value: string, message: RegExp): Promise<void> {
        await stack.setConfig(setting, value);
        const up = await stack.up();
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr).to.match(message);
        expect(up.stdout + up.stderr).to.not.match(/\n\s+at .*\.(ts|js):\d+/); // a message, not a stack trace
        // Nothing was created: no container, network or volume of this app.
        for (const kind of ["container", "network", "volume"]) {
            const r = await mustRun("docker", [
                kind,
                "ls",
                ...(kind === "container" ? ["-a"] : []),
                "-q",
                "--filter",
                `label=zdt.app=${app}`,
            ]);
            expect(r.stdout.trim(), `${kind}s of ${app}`).to.equal("");
        }
    }

    it("a missing knowledge folder is refused naming agent.knowledgeDir", async () => {
        await expectRefused(
            "agent.knowledgeDir",
            "/nonexistent/kb",
            /agent\.knowledgeDir: the knowledge base folder \/nonexistent\/kb does not exist/,
        );
        await stack.rmConfig("agent.knowledgeDir");
    });

    it("a base image the engine neither has nor can pull is refused naming agent.baseImage", async () => {
        await expectRefused(
            "agent.baseImage",
            "localhost:1/zdt-missing-base:1",
            /agent\.baseImage: the Docker engine has no image "localhost:1\/zdt-missing-base:1" and cannot pull it/,
        );
        await stack.rmConfig("agent.baseImage");
    });

    it("a release that cannot fit beside what runs is refused naming agent.memoryMb, with the engine's own figures", async () => {
        const totalMb = Math.floor(Number((await mustRun("docker", ["info", "--format", "{{.MemTotal}}"])).stdout.trim()) / 2 ** 20);
        await expectRefused(
            "agent.memoryMb",
            String(Math.min(totalMb + 1024, 65536)),
            new RegExp(
                `agent\\.memoryMb: the new release needs \\d+ MB beside what runs, and the Docker engine has \\d+ MB of its ${totalMb} MB left`,
            ),
        );
        await stack.rmConfig("agent.memoryMb");
    });
});
