// Config values that name a folder or an image are checked before anything is declared.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../config/schema";
import { capacityProblem, hostProbe, PreflightProbe, preflightProblems } from "../../components/preflight";

const ROOT = path.join(__dirname, "..", "..");
const fake = (dirs: string[], files: string[], images: string[]): PreflightProbe => ({
    isDirectory: (p) => dirs.includes(p),
    isFile: (p) => files.includes(p),
    readFile: () => fs.readFileSync(path.join(ROOT, "proxy", "haproxy.cfg.tmpl"), "utf8"),
    imageProblem: (i) => (images.includes(i) ? undefined : `the Docker engine has no image "${i}" and cannot pull it (not found)`),
    memory: () => ({ totalMb: 8192, limits: [] }),
});
const at = (...p: string[]) => path.join("/srv/app", ...p);
const FILES = [at("agent", "Dockerfile"), at("proxy", "haproxy.cfg.tmpl")];
const good = fake([at("agent"), at("knowledge"), at("agent-config")], FILES, ["debian:bookworm-slim"]);
const cfg = (agent: Record<string, unknown> = {}, proxy: Record<string, unknown> = {}) =>
    parseConfig({ agent: { version: "1.0.0", buildContext: "agent", ...agent }, proxy });

describe("capacity: a new release beside the live one", () => {
    const engine = {
        totalMb: 8192,
        limits: [
            { name: "shop-agent-2-0-0-aaaa", mb: 4096 },
            { name: "shop-proxy-1", mb: 384 },
        ],
    };
    const named = (n: string) => () => n;

    it("fits in what the engine has beyond its containers' limits", () => {
        expect(capacityProblem(3712, named("shop-agent-3-0-0-bbbb"), engine)).to.equal(undefined);
    });

    it("does not fit: names agent.memoryMb, what is short and what takes the memory", () => {
        expect(capacityProblem(4096, named("shop-agent-3-0-0-bbbb"), engine)).to.equal(
            "agent.memoryMb: the new release needs 4096 MB beside what runs, and the Docker engine has 3712 MB of its 8192 MB left beyond its containers' memory limits (4480 MB: shop-agent-2-0-0-aaaa 4096 MB, shop-proxy-1 384 MB). A release runs beside the live one until it is verified: lower agent.memoryMb, free memory, or serve a large model from a container of its own (docs/own-agent.md)",
        );
    });

    it("the same release again (its container already runs) needs nothing more", () => {
        expect(capacityProblem(4096, named("shop-agent-2-0-0-aaaa"), engine)).to.equal(undefined);
    });
});

describe("preflight of paths and images", () => {
    it("passes a config whose folders and images exist", () => {
        expect(preflightProblems(cfg(), "/srv/app", good, true)).to.deep.equal([]);
    });

    it("names each setting whose folder is missing, resolved from the project folder", () => {
        const problems = preflightProblems(
            cfg({ buildContext: "agnet", knowledgeDir: "/data/kb", configDir: "conf" }),
            "/srv/app",
            good,
            false,
        );
        expect(problems).to.deep.equal([
            "agent.buildContext: the build context folder /srv/app/agnet does not exist (relative paths start at the project folder)",
            "agent.knowledgeDir: the knowledge base folder /data/kb does not exist (relative paths start at the project folder)",
            "agent.configDir: the agent config folder /srv/app/conf does not exist (relative paths start at the project folder)",
        ]);
    });

    it("names a mount whose source is missing", () => {
        const problems = preflightProblems(cfg({ mounts: [{ source: "models", target: "/models" }] }), "/srv/app", good, false);
        expect(problems).to.deep.equal([
            "agent.mounts[0].source: /srv/app/models does not exist (relative paths start at the project folder)",
        ]);
    });

    it("names a missing proxy config template", () => {
        expect(
            preflightProblems(
                parseConfig({ agent: { version: "1.0.0" }, proxy: { configTemplate: "proxy/mine.tmpl" } }),
                "/srv/app",
                good,
                false,
            ),
        ).to.deep.equal([
            "proxy.configTemplate: the file /srv/app/proxy/mine.tmpl does not exist (relative paths start at the project folder)",
        ]);
    });

    it("a build context without a Dockerfile is refused", () => {
        const noDockerfile = fake(
            [at("agent"), at("knowledge"), at("agent-config")],
            [at("proxy", "haproxy.cfg.tmpl")],
            ["debian:bookworm-slim"],
        );
        expect(preflightProblems(cfg(), "/srv/app", noDockerfile, false)).to.deep.equal([
            "agent.buildContext: /srv/app/agent has no Dockerfile",
        ]);
    });

    it("names a base image the engine neither has nor can pull, only when images are checked", () => {
        const c = cfg({ baseImage: "debian:trixie-nope" }, { baseImage: "haproxy:none" });
        expect(preflightProblems(c, "/srv/app", good, true)).to.deep.equal([
            'proxy.baseImage: the Docker engine has no image "haproxy:none" and cannot pull it (not found)',
            'agent.baseImage: the Docker engine has no image "debian:trixie-nope" and cannot pull it (not found)',
        ]);
        expect(preflightProblems(c, "/srv/app", good, false)).to.deep.equal([]);
        // A pulled agent image (no build context) has no base image to check.
        const pulled = parseConfig({ agent: { version: "1.0.0", baseImage: "debian:trixie-nope" } });
        expect(
            preflightProblems(
                pulled,
                "/srv/app",
                fake([at("knowledge"), at("agent-config")], FILES, ["debian:bookworm-slim", "agents-agent:1.0.0"]),
                true,
            ),
        ).to.deep.equal([]);
    });

    it("pulls a registry image before anything is declared: a version the registry lacks names the setting", () => {
        const registry = fake([at("knowledge"), at("agent-config")], FILES, ["debian:bookworm-slim", "127.0.0.1:5000/shop-agent:1.0.0"]);
        const pulled = (agent: Record<string, unknown>) =>
            parseConfig({ app: "shop", agent: { version: "1.0.0", image: "127.0.0.1:5000/shop-agent", ...agent } });
        expect(preflightProblems(pulled({}), "/srv/app", registry, true)).to.deep.equal([]);
        expect(preflightProblems(pulled({ version: "9.9.9" }), "/srv/app", registry, true)).to.deep.equal([
            'agent.version: the Docker engine has no image "127.0.0.1:5000/shop-agent:9.9.9" and cannot pull it (not found)',
        ]);
        const digest = `sha256:${"ab".repeat(32)}`;
        expect(preflightProblems(pulled({ digest }), "/srv/app", registry, true)).to.deep.equal([
            `agent.version / agent.digest: the Docker engine has no image "127.0.0.1:5000/shop-agent:1.0.0@${digest}" and cannot pull it (not found)`,
        ]);
        expect(preflightProblems(pulled({ version: "9.9.9" }), "/srv/app", registry, false)).to.deep.equal([]);
    });

    it("the shipped dev stack passes on this checkout's real folders", () => {
        expect(preflightProblems(cfg(), ROOT, hostProbe, false)).to.deep.equal([]);
    });
});
