// `npm run import-compose` as a user runs it, against a real stack: the blueprint's
// docker-compose.yml becomes the stack's config; a service with what a release cannot
// carry over writes nothing.
import { expect } from "chai";
import * as path from "path";
import { run, TestStack, uniqueName } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");
const FIXTURES = path.join("test", "fixtures", "compose");

describe("npm run import-compose (a real stack's config)", function () {
    this.timeout(300_000);
    const app = uniqueName("ztimp");
    const stack = new TestStack(ROOT, app);

    before(async () => {
        await stack.init({ app });
    });
    after(async () => {
        await stack.remove();
    });

    const importCompose = (...args: string[]) =>
        run("npm", ["run", "--silent", "import-compose", "--", ...args, "--stack", app], { cwd: ROOT });
    const config = async () =>
        JSON.parse((await run("pulumi", ["config", "--json", "--stack", app, "--non-interactive"], { cwd: ROOT })).stdout) as Record<
            string,
            { value?: string; objectValue?: unknown }
        >;

    it("a service with what a release cannot carry over is refused, naming each thing, and nothing is written", async () => {
        const r = await importCompose(path.join(FIXTURES, "gpu-and-more.yml"), "--service", "agent");
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include('service "agent" has what a release cannot carry over (nothing was written)');
        expect(r.stderr).to.include("environment.OPENAI_API_KEY: a secret: set it with pulumi config set --secret");
        expect(Object.keys(await config())).to.deep.equal(["zdt:app"]);
    });

    it("the blueprint's service becomes the stack's config, which the program reads as valid", async () => {
        const r = await importCompose(path.join(FIXTURES, "blueprint.yml"));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.include('14 settings from service "autoclaw-agent"');
        const agent = (await config())["zdt:agent"].objectValue as Record<string, any>;
        expect(agent).to.deep.include({
            image: "autoclaw/agent",
            version: "v2.4.1",
            port: 8080,
            knowledgeDir: "./knowledge-base",
            restart: "always",
        });
        expect(agent.health).to.deep.include({ path: "/health", intervalSeconds: 10, retries: 3 });
        expect(agent.env).to.deep.equal({ MODEL_PATH: "/models/llama-3.3-70b" });
        // The program's own reading of the stack's config: a preview gets past the config (it fails only on the folders this checkout lacks).
        const preview = await run("pulumi", ["preview", "--stack", app, "--non-interactive"], { cwd: ROOT });
        expect(preview.stdout + preview.stderr).to.match(/agent\.knowledgeDir: the knowledge base folder .*knowledge-base does not exist/);
        expect(preview.stdout + preview.stderr).to.not.match(/invalid stack configuration[\s\S]*agent\.(version|image|port|health)/);
    });
});
