// A compose service into stack settings: the blueprint's own docker-compose.yml carries
// over whole; what cannot is refused, each thing named with what to do instead.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseConfig } from "../../config/schema";
import { durationSeconds, importService, rawSettings, sizeMb } from "../../ops/composeImport";

const FIXTURES = path.join(__dirname, "..", "fixtures", "compose");
const compose = (file: string) => parse(fs.readFileSync(path.join(FIXTURES, file), "utf8"));

describe("importing a docker-compose service", () => {
    it("the blueprint's service carries over whole: image, port, knowledge and config folders, environment, restart, health check", () => {
        const imported = importService(compose("blueprint.yml"));
        expect(imported.refused).to.deep.equal([]);
        expect(imported.settings).to.deep.equal([
            ["agent.image", "autoclaw/agent"],
            ["agent.version", "v2.4.1"],
            ["proxy.port", "8080"],
            ["agent.port", "8080"],
            ["agent.knowledgeDir", "./knowledge-base"],
            ["agent.knowledgePath", "/app/knowledge"],
            ["agent.configDir", "./config"],
            ["agent.llm.provider", "local"],
            ["agent.env.MODEL_PATH", "/models/llama-3.3-70b"],
            ["agent.restart", "always"],
            ["agent.health.path", "/health"],
            ["agent.health.intervalSeconds", "10"],
            ["agent.health.timeoutSeconds", "5"],
            ["agent.health.retries", "3"],
        ]);
        const cfg = parseConfig(rawSettings(imported.settings));
        expect(cfg.agent).to.deep.include({ image: "autoclaw/agent", version: "v2.4.1", port: 8080, restart: "always" });
        expect(cfg.agent.health).to.deep.include({ path: "/health", intervalSeconds: 10, timeoutSeconds: 5, retries: 3, docker: "curl" });
    });

    it("refuses, naming each, what a release cannot carry over: a command, two ports, a named volume, an env file, a secret in plain text", () => {
        const imported = importService(compose("gpu-and-more.yml"), "agent");
        expect(imported.refused.map((r) => r.split(":")[0])).to.deep.equal([
            "command",
            "ports",
            "volumes",
            "env_file",
            "environment.OPENAI_API_KEY",
        ]);
        expect(imported.refused.join("\n"))
            .to.include("pulumi config set --secret --path 'agent.secrets.OPENAI_API_KEY'")
            .and.not.include("sk-not-a-real-key");
        // What does carry over is still read: the read-only mount, the plain variable, the memory limit, the GPU.
        expect(imported.settings).to.deep.include.members([
            ["agent.mounts[0].source", "./prompts"],
            ["agent.mounts[0].target", "/app/prompts"],
            ["agent.env.LOG_LEVEL", "info"],
            ["agent.memoryMb", "2048"],
            ["agent.gpus", "1"],
        ]);
    });

    it("several services: says which to name; a service that is not there, or an image without a version, is refused", () => {
        expect(importService(compose("gpu-and-more.yml")).refused).to.deep.equal([
            "the file has several services (agent, worker): say which is the agent with --service",
        ]);
        expect(importService(compose("gpu-and-more.yml"), "web").refused[0]).to.equal(
            'no service "web" in the file (it has agent, worker)',
        );
        expect(importService({ services: { a: { image: "acme/agent:latest" } } }).refused[0]).to.match(
            /^image: "acme\/agent:latest" is not tagged with a version/,
        );
    });

    it("reads compose durations and sizes", () => {
        expect([durationSeconds("10s"), durationSeconds("1m30s"), durationSeconds("500ms"), durationSeconds("ten")]).to.deep.equal([
            10,
            90,
            1,
            undefined,
        ]);
        expect([sizeMb("512m"), sizeMb("2g"), sizeMb("1024M"), sizeMb(268435456), sizeMb("lots")]).to.deep.equal([
            512,
            2048,
            1024,
            256,
            undefined,
        ]);
    });
});
