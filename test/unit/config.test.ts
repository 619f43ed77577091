import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSchema, parseConfig, probesPerTick, rawConfig } from "../../config/schema";
import { leafPaths } from "../../core/schemaPaths";
import { folderDigest, releaseId, stableJson } from "../../components/releaseId";
import { configTable, edgeConfigTable, readmeSection } from "../../ops/config-docs";
import { plainSecretsProblem } from "../../components/preflight";
import { expectedCode, healthOk } from "../../core/health";

describe("config schema", () => {
    it("applies the documented defaults", () => {
        const c = parseConfig({ agent: { version: "2.5.0" } });
        expect(c.app).to.equal("agents");
        expect(c.proxy).to.deep.include({ listenAddress: "127.0.0.1", port: 8080 });
        expect(c.release.verifyWindowSeconds).to.equal(900);
        expect(c.release.thresholds.maxErrorRatePercent).to.equal(1);
        expect(c.agent.health.startPeriodSeconds).to.equal(0);
    });

    it("the canary's answer signal: a counter name and its allowance, read where the agent serves metrics, one host only", () => {
        const c = parseConfig({
            agent: { version: "1.0.0" },
            release: { canary: { answerSignal: { metric: "agent_fallback_answers_total" } } },
        });
        expect(c.release.canary.answerSignal).to.deep.equal({ metric: "agent_fallback_answers_total", maxDeltaPercent: 5 });
        expect(parseConfig({ agent: { version: "1.0.0" } }).release.canary.answerSignal).to.equal(undefined);
        expect(() =>
            parseConfig({ agent: { version: "1.0.0" }, release: { canary: { answerSignal: { metric: "fall backs" } } } }),
        ).to.throw(/release\.canary\.answerSignal\.metric: a Prometheus counter name/);
        expect(() =>
            parseConfig({
                agent: { version: "1.0.0", metrics: { path: "" } },
                release: { canary: { answerSignal: { metric: "x_total" } } },
            }),
        ).to.throw(/release\.canary\.answerSignal: needs the agent's metrics: agent\.metrics\.path is empty/);
    });

    it("accepts numbers and booleans stored as strings by `pulumi config set --path`", () => {
        const c = parseConfig({
            agent: { version: "1.0.0", faults: { errorRate: "0.25", failHealth: "true" }, env: { N: 5 } },
            proxy: { port: "9000" },
        });
        expect(c.agent.faults).to.deep.equal({ errorRate: 0.25, failHealth: true });
        expect(c.agent.env).to.deep.equal({ N: "5" });
        expect(c.proxy.port).to.equal(9000);
    });

    it("lists every bad field with its path and what is allowed", () => {
        expect(() =>
            parseConfig({
                agent: { version: "latest", image: "repo:tag", restart: "sometimes" },
                release: { thresholds: { maxErrorRatePercent: 150 } },
            }),
        ).to.throw(
            /agent\.version: a version like 2\.5\.0[\s\S]*agent\.image: give the repository without a tag[\s\S]*agent\.restart: Invalid option: expected one of "no"\|"on-failure"\|"always"\|"unless-stopped"[\s\S]*release\.thresholds\.maxErrorRatePercent/,
        );
        expect(() => parseConfig({})).to.throw(/agent: Invalid input: expected object/);
    });

    it("says how to set a nested setting that was set without --path (a flat key), and still refuses an unknown one", () => {
        const raw = rawConfig(
            { "zdt:agent": '{"version":"1.0.0"}', "zdt:release.strategy": "canary", "zdt:release.colour": "blue" },
            "zdt",
        );
        let message = "";
        try {
            parseConfig(raw);
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).to.include(
            "  - release.strategy: a nested setting stored as one flat key, because it was set without --path; remove it (pulumi config rm 'release.strategy') and set it with: pulumi config set --path 'release.strategy' <value>",
        );
        expect(message).to.include("  - release.colour: not a known setting");
    });

    it("the proxy's conversation table: size, idle timeout, quiet time and keyless pinning, with their limits", () => {
        const c = parseConfig({ agent: { version: "1.0.0" } });
        expect(c.proxy.conversations).to.deep.equal({ tableSize: 100_000, idleTimeoutSeconds: 600, quietSeconds: 30, pinKeyless: false });
        expect(() => parseConfig({ agent: { version: "1.0.0" }, proxy: { conversations: { quietSeconds: 0 } } })).to.throw(
            /proxy\.conversations\.quietSeconds: Too small: expected number to be >=1/,
        );
        const set = parseConfig({ agent: { version: "1.0.0" }, proxy: { conversations: { tableSize: "2000", pinKeyless: "true" } } });
        expect(set.proxy.conversations).to.deep.include({ tableSize: 2000, pinKeyless: true });
        expect(() => parseConfig({ agent: { version: "1.0.0" }, proxy: { conversations: { tableSize: 10 } } })).to.throw(
            /proxy\.conversations\.tableSize: Too small: expected number to be >=1000/,
        );
    });

    it("reads only the project's namespace and parses JSON values", () => {
        expect(rawConfig({ "zdt:app": "shop", "zdt:agent": '{"version":"1.0.0"}', "aws:region": "x" }, "zdt")).to.deep.equal({
            app: "shop",
            agent: { version: "1.0.0" },
        });
    });
});

describe("release id", () => {
    it("does not depend on key order, and changes with any value", () => {
        expect(stableJson({ b: 1, a: [{ y: 2, x: 1 }] })).to.equal(stableJson({ a: [{ x: 1, y: 2 }], b: 1 }));
        expect(releaseId("2.5.0", { a: 1 })).to.match(/^2-5-0-[0-9a-f]{8}$/);
        expect(releaseId("2.5.0", { a: 1 })).to.not.equal(releaseId("2.5.0", { a: 2 }));
    });

    it("digests a folder by content, independent of creation order and line endings", () => {
        const mk = (files: [string, string][]) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-digest-"));
            for (const [rel, content] of files) {
                fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
                fs.writeFileSync(path.join(dir, rel), content);
            }
            return dir;
        };
        const a = mk([
            ["x/a.md", "one\n"],
            ["b.md", "two\n"],
        ]);
        const b = mk([
            ["b.md", "two\r\n"],
            ["x/a.md", "one\n"],
        ]);
        const c = mk([
            ["x/a.md", "one!\n"],
            ["b.md", "two\n"],
        ]);
        try {
            expect(folderDigest(a)).to.equal(folderDigest(b));
            expect(folderDigest(a)).to.not.equal(folderDigest(c));
        } finally {
            for (const dir of [a, b, c]) fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("configuration reference in docs/configuration.md", () => {
    it("is the one generated from the schema (run `npm run docs:config` after changing it)", () => {
        const reference = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "configuration.md"), "utf8");
        expect(readmeSection(reference)).to.equal(configTable());
        expect(readmeSection(reference, true)).to.equal(edgeConfigTable());
    });
});

describe("config error messages", () => {
    it("every setting's error says what is allowed, never a bare 'Invalid input'", () => {
        for (const setting of leafPaths(ConfigSchema)) {
            for (const bad of [{ not: "valid" }, -5, "!! bad value !!"]) {
                const raw: Record<string, any> = { agent: { version: "1.0.0" } };
                let o = raw;
                for (const k of setting.slice(0, -1)) o = o[k] ??= {};
                o[setting[setting.length - 1]] = bad;
                let message = "";
                try {
                    parseConfig(raw);
                } catch (err) {
                    message = (err as Error).message;
                }
                if (!message) continue; // a free-form string (a path, a model name): checked elsewhere
                const lines = message.split("\n").filter((l) => l.startsWith("  - "));
                const line = lines.find((l) => l.startsWith(`  - ${setting.join(".")}`)) ?? "";
                // A good value in a section that requires others (release.evaluation.judge.model
                // alone): the errors name the missing ones, each saying it is required.
                if (!line && lines.length > 0 && lines.every((l) => /: required\b/.test(l))) continue;
                expect(line, `${setting.join(".")} = ${JSON.stringify(bad)}:\n${message}`).to.match(/^ {2}- [\w.]+: .{12,}/);
                expect(line).to.not.match(/: (Invalid input|Invalid key in record|Invalid URL)$/);
            }
        }
    });

    it("names a bad environment variable name and says what names look like", () => {
        expect(() => parseConfig({ agent: { version: "1.0.0", env: { lower_case: "x" } } })).to.throw(
            "agent.env.lower_case: environment variable names are upper-case letters, digits and _, such as LOG_LEVEL",
        );
        expect(() => parseConfig({ agent: { version: "1.0.0" }, proxy: { listenAddress: "localhost" } })).to.throw(
            "proxy.listenAddress: an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1",
        );
    });

    it("secrets: a name the release sets itself, or one also in agent.env, is refused without echoing any value; files not on Swarm", () => {
        const agent = (more: object) => ({ agent: { version: "1.0.0", ...more } });
        const err = (cfg: Record<string, unknown>) => {
            try {
                parseConfig(cfg);
            } catch (e) {
                return (e as Error).message;
            }
            return "";
        };
        expect(err(agent({ secrets: { PORT: "hunter2-value" } })))
            .to.include("agent.secrets.PORT: a name the release sets itself")
            .and.not.include("hunter2-value");
        expect(err(agent({ secrets: { TOKEN: "hunter2-value" }, env: { TOKEN: "x" } }))).to.include(
            "agent.secrets.TOKEN: TOKEN is also set in agent.env, agent.secrets or as agent.reindex.hook.tokenEnv: one name, one value",
        );
        expect(err(agent({ secrets: { TOKEN: "" } }))).to.include("agent.secrets.TOKEN: a secret's value is not empty");
        const digest = `sha256:${"0f".repeat(32)}`;
        const swarm = {
            platform: "swarm",
            swarm: { proxyImage: `r/p:1@${digest}`, nodes: [{ name: "a", address: "10.0.0.1", engine: "ssh://root@10.0.0.1" }] },
        };
        expect(err({ ...swarm, ...agent({ image: "r/a", digest, secrets: { TOKEN: "t" }, secretsAs: "file" }) })).to.include(
            "agent.secretsAs: env only with platform: swarm",
        );
        expect(parseConfig(agent({ secrets: { TOKEN: "t" } })).agent).to.deep.include({ secretsAs: "env", secretsRevision: 0 });
        expect(parseConfig(agent({ secrets: { PIN: 123456 } })).agent.secrets).to.deep.equal({ PIN: "123456" });
    });

    it("mounts: a target once (not the knowledge base's or the config's), read-only unless said", () => {
        const agent = (mounts: unknown[]) => ({ agent: { version: "1.0.0", mounts } });
        expect(parseConfig(agent([{ source: "/srv/models", target: "/models" }])).agent.mounts).to.deep.equal([
            { source: "/srv/models", target: "/models", readOnly: true },
        ]);
        expect(() => parseConfig(agent([{ source: "/srv/kb", target: "/app/knowledge" }]))).to.throw(
            "agent.mounts.0.target: /app/knowledge is already a target",
        );
        expect(() => parseConfig(agent([{ source: "m", target: "models" }]))).to.throw(
            "agent.mounts.0.target: an absolute path inside the container, such as /models",
        );
    });

    it("a health endpoint's status: 200 to 399, or any (an agent without a health endpoint: any answer below 500)", () => {
        const health = (expectStatus: unknown) =>
            parseConfig({ agent: { version: "1.0.0", health: { expectStatus } } }).agent.health.expectStatus;
        expect([health("204"), health("any"), health(undefined)]).to.deep.equal([204, "any", 200]);
        expect(() => health("500")).to.throw("agent.health.expectStatus: a status from 200 to 399 such as 200 or 204, or any");
        expect([healthOk(404, expectedCode("any")), healthOk(503, expectedCode("any")), healthOk(0, expectedCode("any"))]).to.deep.equal([
            true,
            false,
            false,
        ]);
        expect([healthOk(204, 204), healthOk(200, 204), healthOk(200)]).to.deep.equal([true, false, true]);
    });

    it("CPUs and GPUs: the forms Docker takes; GPUs not on Swarm", () => {
        const agent = (more: object) => ({ agent: { version: "1.0.0", ...more } });
        expect(parseConfig(agent({ cpus: "2.5", gpus: "all" })).agent).to.deep.include({ cpus: "2.5", gpus: "all" });
        // As `pulumi config set --path agent.cpus 1` stores it: a number.
        expect(parseConfig(agent({ cpus: 1, gpus: 2 })).agent).to.deep.include({ cpus: "1", gpus: "2" });
        expect(() => parseConfig(agent({ cpus: "0" }))).to.throw("agent.cpus: a number of CPUs such as 0.5, 1 or 2.5");
        expect(() => parseConfig(agent({ gpus: "nvidia" }))).to.throw("agent.gpus: all, a count such as 1, or device= and GPU ids");
    });

    it("secrets set without --secret (the agent key not among the engine's secret keys) fail the update, naming how to set them", () => {
        const cfg = parseConfig({ agent: { version: "1.0.0", secrets: { APP_SECRET: "s" } } });
        expect(plainSecretsProblem(cfg, "shop", ["shop:agent"])).to.equal(undefined);
        expect(plainSecretsProblem(parseConfig({ agent: { version: "1.0.0" } }), "shop", [])).to.equal(undefined);
        expect(plainSecretsProblem(cfg, "shop", ["other:agent"])).to.match(
            /^agent\.secrets: APP_SECRET stored in plain text .*\(pulumi config set --secret --path 'agent\.secrets\.APP_SECRET', which asks for the value/,
        );
    });

    it("synthetic requests: on for the reference agent or a described probe, off for any other agent unless set", () => {
        const perTick = (more: Record<string, unknown>) => probesPerTick(parseConfig({ agent: { version: "1.0.0" }, ...more }));
        const telegram = { agent: { version: "1.0.0", conversation: { preset: "telegram" } } };
        expect(perTick({})).to.equal(5);
        expect(perTick(telegram)).to.equal(0);
        expect(perTick({ ...telegram, release: { probe: { method: "GET", path: "/ping" } } })).to.equal(5);
        expect(perTick({ ...telegram, release: { probeRequestsPerTick: 2 } })).to.equal(2);
        expect(perTick({ release: { probeRequestsPerTick: 0 } })).to.equal(0);
        const ownKey = { agent: { version: "1.0.0", conversation: { from: "header", names: ["X-Chat"] } } };
        expect(perTick(ownKey)).to.equal(0);
        expect(() => parseConfig({ agent: { version: "1.0.0" }, release: { probe: { method: "DELETE" } } })).to.throw(
            "release.probe.method",
        );
    });

    it("a digest pins a pulled image: its form is checked, and it cannot go with a local build", () => {
        const digest = `sha256:${"0f".repeat(32)}`;
        expect(parseConfig({ agent: { version: "1.0.0", image: "127.0.0.1:5000/shop-agent", digest } }).agent.digest).to.equal(digest);
        expect(() => parseConfig({ agent: { version: "1.0.0", digest: "sha256:abc" } })).to.throw(
            "agent.digest: a content digest: sha256: and 64 lower-case hex digits",
        );
        expect(() => parseConfig({ agent: { version: "1.0.0", buildContext: "agent", digest } })).to.throw(
            "agent.digest: pins a pulled image, and a local build (agent.buildContext) has no registry digest: remove one of them",
        );
    });
});
