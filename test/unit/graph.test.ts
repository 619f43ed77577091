// The resource graph with Pulumi's mocks: fast, no engine, no Docker.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { proxyGuardContract } from "../../contracts/proxyGuardContract";
import { proxyHandoverContract } from "../../contracts/proxyHandoverContract";
import { reindexContract } from "../../contracts/reindexContract";
import { knowledgeSeedContract } from "../../contracts/knowledgeSeedContract";
import { swarmSwitchContract } from "../../contracts/swarmSwitchContract";
import { proxyNodesContract } from "../../contracts/proxyNodesContract";
import { encodeSwitchResult, switchContract } from "../../contracts/switchContract";
import { switchResult } from "../support/switchInput";
import { proxyConfigContract } from "../../contracts/proxyConfigContract";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

const ROOT = path.join(__dirname, "..", "..");
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Mocks see secrets wrapped; unwrap them (and note that they were secret) for assertions. */
function unwrap(v: any): any {
    if (Array.isArray(v)) return v.map(unwrap);
    if (v && typeof v === "object") {
        if (Object.values(v).includes(SECRET_SIG)) return { secret: unwrap(v.value) };
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
}

/** Loads index.ts afresh with `config` and returns every resource it registered. */
async function program(
    config: Record<string, unknown>,
    resources: Registered[] = [],
): Promise<{ resources: Registered[]; outputs: Record<string, any> }> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                resources.push({ type: args.type, name: args.name, inputs: unwrap(args.inputs) });
                const state: Record<string, any> = { ...args.inputs };
                if (args.type === "command:local:Command" && args.name.endsWith("-switch")) {
                    // What the switch program prints: its result for the input it was given.
                    const input = switchContract.decode(args.inputs.environment);
                    state.stdout = encodeSwitchResult(switchResult(input.targetRelease, input.targetVersion));
                }
                if (args.type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(args.inputs.length);
                return { id: `${args.name}-id`, state };
            },
            call: (args) => args.inputs,
        },
        "zdt",
        "unit",
        false,
    );
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) all[`zdt:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    pulumi.runtime.setAllConfig(all);
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(ROOT) && !key.includes("node_modules") && !key.includes(`${path.sep}test${path.sep}`)) delete require.cache[key];
    }
    // A fresh load of the program with this config, by the entry Pulumi runs (program.js: index.ts
    // as JavaScript from dist/run/): require, not import (which caches once).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(ROOT, "program.js"));
    const outputs: Record<string, any> = {};
    for (const [k, v] of Object.entries(mod)) {
        outputs[k] = await new Promise((resolve) => (pulumi.output(v as any) as pulumi.Output<unknown>).apply(resolve));
    }
    return { resources, outputs };
}

const byType = (rs: Registered[], type: string) => rs.filter((r) => r.type === type);
const switchOf = (r: Registered) => switchContract.decode(r.inputs.environment);
const reindexOf = (r: Registered) => reindexContract.decode(r.inputs.environment);
const base = { app: "unit", agent: { version: "1.0.0", buildContext: "agent" }, proxy: { port: 18999 } };

describe("resource graph (mocks)", function () {
    this.timeout(60_000);
    /** Knowledge folders the tests make, removed when the file's tests end. */
    const folders: string[] = [];
    const knowledgeFolder = (): string => {
        const folder = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-kb-"));
        folders.push(folder);
        return folder;
    };
    after(() => folders.forEach((f) => fs.rmSync(f, { recursive: true, force: true })));

    it("a first deploy declares network, token, proxy, one release and the switch", async () => {
        const { resources, outputs } = await program(base);
        const containers = byType(resources, "docker:index/container:Container");
        expect(containers.map((c) => c.inputs.name).sort()).to.have.length(3);
        const agent = containers.find((c) => c.inputs.name.startsWith("unit-agent-1-0-0-"))!;
        const proxy = containers.find((c) => /^unit-proxy-[0-9a-f]{12}$/.test(c.inputs.name))!;
        const holder = containers.find((c) => c.inputs.name === "unit-proxy-port")!;
        // Only the port holder publishes a port; HAProxy runs in its network namespace (by the
        // full id Docker records, so the read-back plans no diff); the agent is on the private
        // network only.
        expect(holder.inputs.ports).to.deep.equal([{ internal: 8080, external: 18999, ip: "127.0.0.1" }]);
        expect(holder.inputs.networksAdvanced).to.deep.equal([{ name: "unit-net" }]);
        expect(proxy.inputs.ports ?? []).to.deep.equal([]);
        expect(proxy.inputs.networkMode).to.equal("container:proxy-port-id");
        expect(proxy.inputs.image).to.equal(`unit-proxy:${proxy.inputs.name.slice("unit-proxy-".length)}`);
        // A replaced proxy gets the time to finish its streams (HAProxy's hard-stop-after) before removal.
        expect(proxy.inputs.destroyGraceSeconds).to.be.greaterThan(90);
        expect(agent.inputs.ports ?? []).to.deep.equal([]);
        expect(agent.inputs.networksAdvanced).to.deep.equal([{ name: "unit-net" }]);
        // The switch gates on Docker's health check (creation does not wait for it: the
        // provider's wait cannot name the failed check); knowledge and config are read-only.
        expect(agent.inputs.wait).to.equal(false);
        expect(agent.inputs.healthcheck.tests).to.include("http://127.0.0.1:8080/health");
        // The proxy's Docker check is a process in its container, for `docker ps`: not every
        // second; the hand-over, not the provider's wait, waits for a new proxy to serve.
        expect(proxy.inputs.healthcheck.interval).to.equal("30s");
        expect(proxy.inputs.wait).to.equal(false);
        expect(agent.inputs.volumes.every((v: any) => v.readOnly)).to.equal(true);
        // memorySwap explicit: Docker would store 2 x memory, a perpetual diff with the official provider.
        expect(agent.inputs.memory).to.equal(512);
        expect(agent.inputs.memorySwap).to.equal(512);
        // The admin token reaches the agent as a file (a secret upload), not in its environment.
        expect(agent.inputs.uploads).to.deep.equal({ secret: [{ file: "/run/zdt-admin-token", content: "x".repeat(40) }] });
        expect(agent.inputs.envs).to.include("ADMIN_TOKEN_FILE=/run/zdt-admin-token");
        expect(agent.inputs.envs.some((e: string) => e.startsWith("ADMIN_TOKEN="))).to.equal(false);
        expect(proxy.inputs.memorySwap).to.equal(proxy.inputs.memory);
        expect(byType(resources, "random:index/randomPassword:RandomPassword")).to.have.length(1);
        const commands = byType(resources, "command:local:Command");
        expect(commands.map((c) => c.name).sort()).to.deep.equal([
            "knowledge-reindex",
            "knowledge-seed",
            "proxy-config",
            "proxy-guard",
            "proxy-handover",
            "traffic-switch",
        ]);
        // The hot-reloaded knowledge is the stack's volume, filled from the folder when it is
        // created (a content change is the reload's, never the fill's), mounted read-only.
        expect(agent.inputs.volumes).to.deep.include({ volumeName: "unit-knowledge", containerPath: "/app/knowledge", readOnly: true });
        expect(agent.inputs.volumes.some((v: any) => /knowledge/.test(v.hostPath ?? ""))).to.equal(false);
        const seed = commands.find((c) => c.name === "knowledge-seed")!;
        expect(knowledgeSeedContract.decode(seed.inputs.environment)).to.deep.include({
            volume: "unit-knowledge",
            helperImage: proxy.inputs.image,
        });
        expect(seed.inputs.update).to.not.match(/knowledgeSeed/);
        const reload = reindexOf(commands.find((c) => c.name === "knowledge-reindex")!);
        expect(reload).to.deep.include({ volume: "unit-knowledge", proxyPort: 8080 });
        expect(reload.knowledgeDir).to.equal(path.resolve("knowledge"));
        // The proxy keeps its slots in a volume, and a guard refuses to replace it unless allowed.
        expect(proxy.inputs.volumes).to.deep.equal([{ volumeName: "unit-proxy-state", containerPath: "/var/lib/zdt" }]);
        const guard = proxyGuardContract.decode(commands.find((c) => c.name === "proxy-guard")!.inputs.environment);
        expect(guard).to.deep.equal({ app: "unit", hostPort: 18999, listenAddress: "127.0.0.1", allowRestart: false, tlsHostPort: 0 });
        const handover = proxyHandoverContract.decode(commands.find((c) => c.name === "proxy-handover")!.inputs.environment);
        expect(handover).to.deep.equal({ app: "unit", proxyContainer: proxy.inputs.name, proxyContainerId: "proxy-container-id" });
        const sw = commands.find((c) => c.name === "traffic-switch")!;
        expect(switchOf(sw)).to.deep.include({
            targetContainer: agent.inputs.name,
            proxyContainer: proxy.inputs.name,
            targetVersion: "1.0.0",
        });
        expect(switchOf(sw).verifyWindowSeconds).to.equal(900);
        const reindex = commands.find((c) => c.name === "knowledge-reindex")!;
        // The admin token is a separate secret input (stdin); every setting stays visible in a diff.
        expect(reindex.inputs.stdin).to.deep.equal({ secret: "x".repeat(40) });
        expect(JSON.stringify(reindex.inputs.environment)).to.not.include("secret");
        expect(reindexOf(reindex).app).to.equal("unit");
        expect(reindexOf(reindex).knowledgeDigest).to.match(/^[0-9a-f]{64}$/);
        expect(outputs.liveVersion).to.equal("1.0.0");
        expect(outputs.proxyUrl).to.equal("http://127.0.0.1:18999");
    });

    const digest = `sha256:${"a".repeat(64)}`;
    const nodes = [1, 2, 3].map((n) => ({ name: `node-${n}`, address: `10.0.0.${n}`, engine: `ssh://root@10.0.0.${n}` }));
    const swarm = {
        app: "unit",
        platform: "swarm",
        agent: { version: "1.0.0", image: "10.0.0.9:5000/shop-agent", digest },
        proxy: { port: 18999 },
        swarm: { replicas: 2, proxyImage: `10.0.0.9:5000/shop-proxy:1.0.0@${digest}`, nodes },
    };

    it("platform: swarm declares an overlay network, the proxy on every node, the release as a service, and the switch over every proxy", async () => {
        const { resources, outputs } = await program(swarm);
        expect(byType(resources, "docker:index/container:Container")).to.have.length(0);
        expect(byType(resources, "random:index/randomPassword:RandomPassword")).to.have.length(0);
        const [network] = byType(resources, "docker:index/network:Network");
        expect(network.inputs).to.include({ name: "unit-net", driver: "overlay", attachable: true });
        const services = byType(resources, "docker:index/service:Service");
        const proxy = services.find((s) => s.inputs.name === "unit-proxy")!;
        const agent = services.find((s) => s.inputs.name.startsWith("unit-agent-1-0-0-"))!;
        expect(proxy.inputs.mode).to.deep.equal({ global: true });
        // Host-mode ports (no routing mesh without IPVS): the proxy's and the peers'.
        expect(proxy.inputs.endpointSpec.ports).to.deep.equal([
            { targetPort: 8080, publishedPort: 18999, publishMode: "host" },
            { targetPort: 10000, publishedPort: 10000, publishMode: "host" },
        ]);
        expect(proxy.inputs.taskSpec.containerSpec.env).to.include({
            ZDT_PLATFORM: "swarm",
            ZDT_NODE: "{{.Node.Hostname}}",
            ZDT_PEERS: "node-1=10.0.0.1 node-2=10.0.0.2 node-3=10.0.0.3",
            ZDT_SLOT_SERVERS: "4",
        });
        expect(agent.inputs.mode).to.deep.equal({ replicated: { replicas: 2 } });
        expect(agent.inputs.endpointSpec).to.deep.equal({ mode: "dnsrr" });
        expect(agent.inputs.taskSpec.containerSpec.image).to.equal(`10.0.0.9:5000/shop-agent:1.0.0@${digest}`);
        expect(agent.inputs.taskSpec.containerSpec.env).to.not.have.property("ADMIN_TOKEN_FILE");
        expect(agent.inputs.convergeConfig).to.deep.equal({ delay: "1s", timeout: "120s" });
        // The proxy nodes' label and the proxy's rollout wait come before the switch.
        const commands = byType(resources, "command:local:Command");
        expect(commands.map((c) => c.name)).to.deep.equal(["proxy-nodes", "proxy-rollout", "traffic-switch"]);
        expect(proxyNodesContract.decode(commands[0].inputs.environment)).to.deep.equal({
            label: "zdt.proxy.unit",
            proxyNodes: ["node-1", "node-2", "node-3"],
        });
        expect(proxy.inputs.taskSpec.placement).to.deep.equal({ constraints: ["node.labels.zdt.proxy.unit==true"] });
        expect(commands[1].inputs.triggers).to.include(`10.0.0.9:5000/shop-proxy:1.0.0@${digest}`);
        const switchCommand = commands[2];
        // The switch's program runs as JavaScript, transpiled from its source when the program ran.
        expect(switchCommand.inputs.create).to.equal("node dist/run/platform/swarm/swarmSwitch.js");
        expect(fs.existsSync(path.join(__dirname, "..", "..", "dist", "run", "platform", "swarm", "swarmSwitch.js"))).to.equal(true);
        const input = swarmSwitchContract.decode(switchCommand.inputs.environment);
        expect(input).to.deep.include({
            proxyContainer: "unit-proxy",
            targetContainer: `tasks.${agent.inputs.name}`,
            slotServers: 4,
            replicas: 2,
            // Every node, with whether it runs the proxy (the default: yes).
            nodes: nodes.map((n) => ({ ...n, proxy: true })),
        });
        expect(outputs.proxyUrls).to.deep.equal(["http://10.0.0.1:18999", "http://10.0.0.2:18999", "http://10.0.0.3:18999"]);
        expect(outputs.platform).to.equal("swarm");
    });

    it("a release on swarm declares a new service and re-targets the switch; the proxy stays", async () => {
        const v1 = await program(swarm);
        const v2 = await program({ ...swarm, agent: { ...swarm.agent, version: "1.1.0", digest: `sha256:${"b".repeat(64)}` } });
        const names = (p: typeof v1) => p.resources.map((r) => `${r.type}::${r.name}`);
        const added = names(v2).filter((n) => !names(v1).includes(n));
        expect(added.map((n) => n.split("::")[0]).sort()).to.deep.equal(["docker:index/service:Service", "zdt:agents:SwarmRelease"]);
        expect(added.every((n) => n.includes("agent-1-1-0-"))).to.equal(true);
        const proxyOf = (p: typeof v1) => p.resources.find((r) => r.name === "proxy-service")!.inputs;
        expect(proxyOf(v2)).to.deep.equal(proxyOf(v1));
    });

    it("the switch gets every release setting of the stack, not the schema's defaults", async () => {
        const release = {
            verifyWindowSeconds: 33,
            healthGateTimeoutSeconds: 44,
            drainTimeoutSeconds: 7,
            probeIntervalMs: 1500,
            probeRequestsPerTick: 3,
            thresholds: {
                maxErrorRatePercent: 0.5,
                maxLatencyMs: 3000,
                maxHealthResponseMs: 250,
                maxMemoryPercent: 85,
                maxConversationDropPercent: 30,
                minConversations: 5,
                minRequests: 40,
                acceptable: {
                    errorRatePercent: 0.2,
                    latencyMs: 1500,
                    healthResponseMs: 100,
                    conversationChangePercent: 15,
                    memoryPercent: 70,
                },
            },
            strategy: "canary",
            canary: {
                steps: [
                    { weight: 10, pauseSeconds: 60 },
                    { weight: 100, pauseSeconds: 0 },
                ],
                maxErrorRateDeltaPercent: 2,
                maxLatencyRatio: 3,
            },
        };
        const { resources } = await program({ ...base, release });
        const sw = byType(resources, "command:local:Command").find((c) => c.name === "traffic-switch")!;
        expect(switchOf(sw)).to.deep.include(release);
    });

    it("a release declares a new agent release beside nothing else new, and re-targets the switch", async () => {
        const v1 = await program(base);
        const v2 = await program({ ...base, agent: { ...base.agent, version: "2.0.0" } });
        const names = (p: typeof v1) => p.resources.map((r) => `${r.type}::${r.name}`);
        const added = names(v2).filter((n) => !names(v1).includes(n));
        const dropped = names(v1).filter((n) => !names(v2).includes(n));
        // New resources are exactly the new release's component, image and container; the old
        // release's are dropped (so Pulumi deletes them last), never replaced in place.
        expect(added.map((n) => n.split("::")[0]).sort()).to.deep.equal([
            "docker:index/container:Container",
            "docker:index/image:Image",
            "zdt:agents:AgentRelease",
        ]);
        expect(dropped).to.have.length(3);
        expect(added.every((n) => n.includes("agent-2-0-0-"))).to.equal(true);
        const sw = byType(v2.resources, "command:local:Command").find((c) => c.name === "traffic-switch")!;
        // The reindex does not run on a release: its inputs are the same (a new release indexes at start).
        const reindexEnv = (p: typeof v1) =>
            byType(p.resources, "command:local:Command").find((c) => c.name === "knowledge-reindex")!.inputs.environment;
        expect(reindexEnv(v2)).to.deep.equal(reindexEnv(v1));
        expect(switchOf(sw).targetVersion).to.equal("2.0.0");
    });

    it("every proxy input reaches the proxy image: its folder's content and its base image", async () => {
        const a = await program(base);
        const b = await program({ ...base, proxy: { ...base.proxy, baseImage: "debian:trixie-slim" } });
        const proxyImage = (p: typeof a) =>
            byType(p.resources, "docker:index/container:Container").find((c) => /^unit-proxy-[0-9a-f]{12}$/.test(c.inputs.name))!.inputs
                .image;
        expect(proxyImage(a)).to.match(/^unit-proxy:[0-9a-f]{12}$/);
        expect(proxyImage(b)).to.not.equal(proxyImage(a));
    });

    it("any change to the agent's container is a new release, never an in-place change", async () => {
        const a = await program(base);
        const b = await program({ ...base, agent: { ...base.agent, memoryMb: 1024 } });
        const agentName = (p: typeof a) =>
            byType(p.resources, "docker:index/container:Container").find((c) => c.inputs.name.includes("-agent-"))!.inputs.name;
        expect(agentName(a)).to.not.equal(agentName(b));
        expect(agentName(a)).to.match(/^unit-agent-1-0-0-[0-9a-f]{8}$/);
    });

    it("the agent's own health endpoint reaches Docker's check, the proxy's check and the switch; the default keeps the release id", async () => {
        const a = await program(base);
        const b = await program({ ...base, agent: { ...base.agent, health: { path: "/healthz", expectStatus: 204 } } });
        const c = await program({ ...base, agent: { ...base.agent, health: { path: "/health", expectStatus: 200 } } });
        const agentOf = (p: typeof a) =>
            byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        expect(agentOf(b).inputs.healthcheck.tests).to.include("http://127.0.0.1:8080/healthz");
        expect(agentOf(c).inputs.name, "the defaults set by hand are the same release").to.equal(agentOf(a).inputs.name);
        expect(agentOf(b).inputs.name, "another endpoint is another release").to.not.equal(agentOf(a).inputs.name);
        const sw = switchOf(b.resources.find((r) => r.name === "traffic-switch")!);
        expect(sw).to.deep.include({ healthPath: "/healthz", healthStatus: 204, scrapeMetrics: true });
        // An agent without metrics: the switch asks for none (an empty setting is said as scrapeMetrics false).
        const none = await program({ ...base, agent: { ...base.agent, metrics: { path: "" } } });
        expect(switchOf(none.resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({ scrapeMetrics: false });
        const proxyConfig = b.resources.find((r) => r.name === "proxy-config")!;
        expect(proxyConfigContract.decode(proxyConfig.inputs.environment)).to.deep.include({ healthPath: "/healthz", healthStatus: 204 });
    });

    it("an agent on its own port without curl (agent.port, agent.health.docker): the container, Docker's check and the switch follow", async () => {
        const a = await program(base);
        const agentOf = (p: typeof a) =>
            byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        const mode = (docker: string) => program({ ...base, agent: { ...base.agent, port: 3000, health: { docker } } });
        // One program at a time: the mocks are the runtime's, one per process.
        const curl = await mode("curl");
        const image = await mode("image");
        const none = await mode("none");
        expect(agentOf(curl).inputs.healthcheck.tests).to.include("http://127.0.0.1:3000/health");
        expect(agentOf(curl).inputs.envs).to.include("PORT=3000");
        expect(agentOf(image).inputs.healthcheck, "the image's HEALTHCHECK runs when the container declares none").to.equal(undefined);
        expect(agentOf(none).inputs.healthcheck.tests).to.deep.equal(["NONE"]);
        const label = (p: typeof a) => agentOf(p).inputs.labels.find((l: { label: string }) => l.label === "zdt.health")?.value;
        expect([label(a), label(image), label(none)]).to.deep.equal([undefined, "image", "none"]);
        expect(switchOf(curl.resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({ agentPort: 3000 });
        expect(switchOf(image.resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({ gateOnDockerHealth: true });
        expect(switchOf(curl.resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({ gateOnDockerHealth: false });
        expect(switchOf(a.resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({ agentPort: 8080 });
        expect(agentOf(curl).inputs.name, "another port is another release").to.not.equal(agentOf(a).inputs.name);
        const c = await program({ ...base, agent: { ...base.agent, port: 8080, health: { docker: "curl" } } });
        expect(agentOf(c).inputs.name, "the defaults set by hand are the same release").to.equal(agentOf(a).inputs.name);
    });

    it("secrets (agent.secrets): as variables or files, secret in state; their names and revision make the release id, never their values", async () => {
        const agentOf = (p: Awaited<ReturnType<typeof program>>) =>
            byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        const withSecret = (value: string, more: object = {}) =>
            program({ ...base, agent: { ...base.agent, secrets: { APP_SECRET: value }, ...more } });
        const a = await withSecret("first-value");
        const b = await withSecret("rotated-value");
        // The mocks show a secret input as { secret: value }: the whole list is secret.
        expect(agentOf(a).inputs.envs.secret).to.include("APP_SECRET=first-value");
        expect(agentOf(await program(base)).inputs.envs, "no secrets: plain variables").to.be.an("array");
        expect(agentOf(a).inputs.name, "a new value alone is not a new release").to.equal(agentOf(b).inputs.name);
        expect(agentOf(a).inputs.name, "a secret's name is part of the release").to.not.equal(agentOf(await program(base)).inputs.name);
        const revised = await withSecret("rotated-value", { secretsRevision: 1 });
        expect(agentOf(revised).inputs.name, "agent.secretsRevision releases a rotated value").to.not.equal(agentOf(b).inputs.name);
        const files = await withSecret("file-value", { secretsAs: "file" });
        expect(agentOf(files).inputs.envs.join(" ")).to.not.include("file-value");
        expect(agentOf(files).inputs.uploads.secret).to.deep.include({ file: "/run/secrets/APP_SECRET", content: "file-value" });
        for (const p of [a, b, revised, files]) expect(JSON.stringify(p.outputs)).to.not.match(/first-value|rotated-value|file-value/);
    });

    it("a channel agent gets no synthetic request, unless it describes one (release.probe): the switch's input says which", async () => {
        const telegram = { ...base, agent: { ...base.agent, conversation: { preset: "telegram" } } };
        const off = switchOf((await program(telegram)).resources.find((r) => r.name === "traffic-switch")!);
        expect(off).to.deep.include({ probeRequestsPerTick: 0 });
        const described = { ...telegram, release: { probe: { method: "GET", path: "/ping?probe=1" } } };
        const on = switchOf((await program(described)).resources.find((r) => r.name === "traffic-switch")!);
        expect(on).to.deep.include({ probeRequestsPerTick: 5, probeMethod: "GET", probePath: "/ping?probe=1" });
        expect(switchOf((await program(base)).resources.find((r) => r.name === "traffic-switch")!)).to.deep.include({
            probeRequestsPerTick: 5,
            probeMethod: "POST",
            probePath: "/v1/chat",
        });
    });

    it("an agent with its own reload request (agent.reindex.mode hook): the reindex sends it, the agent gets the token as a secret variable", async () => {
        const hook = {
            mode: "hook",
            hook: { path: "/admin/reload-faq", header: "X-Reload-Token", scheme: "plain", tokenEnv: "FAQ_TOKEN" },
        };
        const p = await program({ ...base, agent: { ...base.agent, knowledgePath: "/data/faq", reindex: hook } });
        const reindex = reindexOf(p.resources.find((r) => r.name === "knowledge-reindex")!);
        expect(reindex).to.deep.include({
            reindexMode: "hook",
            hookMethod: "POST",
            hookPath: "/admin/reload-faq",
            hookHeader: "X-Reload-Token",
            hookScheme: "plain",
        });
        const agent = byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        expect(agent.inputs.envs.secret.some((e: string) => e.startsWith("FAQ_TOKEN="))).to.equal(true);
        expect(agent.inputs.volumes.map((v: { containerPath: string }) => v.containerPath)).to.include("/data/faq");
        expect(reindexOf((await program(base)).resources.find((r) => r.name === "knowledge-reindex")!)).to.deep.include({
            reindexMode: "endpoint",
        });
    });

    it("extra mounts (agent.mounts) reach the container read-only unless said, resolved from the project folder; they are part of the release", async () => {
        // Folders that exist (the preflight checks them): the project's agent/ and the system's temp folder.
        const mounts = [
            { source: "agent", target: "/models" },
            { source: os.tmpdir(), target: "/cache", readOnly: false },
        ];
        const p = await program({ ...base, agent: { ...base.agent, mounts } });
        const agent = byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        expect(agent.inputs.volumes).to.deep.include({ hostPath: path.resolve(ROOT, "agent"), containerPath: "/models", readOnly: true });
        expect(agent.inputs.volumes).to.deep.include({ hostPath: os.tmpdir(), containerPath: "/cache", readOnly: false });
        const plain = byType((await program(base)).resources, "docker:index/container:Container").find((r) =>
            r.inputs.name.includes("-agent-"),
        )!;
        expect(agent.inputs.name).to.not.equal(plain.inputs.name);
    });

    it("CPU and GPU limits (agent.cpus, agent.gpus) reach the container and are part of the release", async () => {
        const p = await program({ ...base, agent: { ...base.agent, cpus: "1.5", gpus: "device=0" } });
        const agent = byType(p.resources, "docker:index/container:Container").find((r) => r.inputs.name.includes("-agent-"))!;
        expect(agent.inputs).to.deep.include({ cpus: "1.5", gpus: "device=0" });
        const plain = byType((await program(base)).resources, "docker:index/container:Container").find((r) =>
            r.inputs.name.includes("-agent-"),
        )!;
        expect(plain.inputs.cpus).to.equal(undefined);
        expect(agent.inputs.name).to.not.equal(plain.inputs.name);
    });

    it("an agent without a reindex endpoint (agent.reindex.mode release): no reindex command, a knowledge change is a new release", async () => {
        const kb = knowledgeFolder();
        fs.writeFileSync(path.join(kb, "faq.md"), "Refunds take 10 days.\n");
        const cfg = { ...base, agent: { ...base.agent, knowledgeDir: kb, reindex: { mode: "release" } } };
        const before = await program(cfg);
        expect(before.resources.map((r) => r.name)).to.not.include("knowledge-reindex");
        // Read at start only: the folder itself is mounted, no knowledge volume.
        for (const name of ["knowledge-seed", "knowledge-volume"]) expect(before.resources.map((r) => r.name)).to.not.include(name);
        const mounted = byType(before.resources, "docker:index/container:Container").find((c) => c.inputs.name.includes("-agent-"))!;
        expect(mounted.inputs.volumes).to.deep.include({ hostPath: kb, containerPath: "/app/knowledge", readOnly: true });
        fs.writeFileSync(path.join(kb, "faq.md"), "Refunds take 5 days.\n");
        const after = await program(cfg);
        const agentName = (p: typeof before) =>
            byType(p.resources, "docker:index/container:Container").find((c) => c.inputs.name.includes("-agent-"))!.inputs.name;
        expect(agentName(after)).to.not.equal(agentName(before));
        expect(before.outputs.knowledgeDigest).to.equal(null);
    });

    it("a knowledge change plans only the reindex: no new release, no other input changes", async () => {
        const kb = knowledgeFolder();
        fs.writeFileSync(path.join(kb, "faq.md"), "Refunds take 10 days.\n");
        const cfg = { ...base, agent: { ...base.agent, knowledgeDir: kb } };
        const before = await program(cfg);
        fs.writeFileSync(path.join(kb, "faq.md"), "Refunds take 5 days.\n");
        const after = await program(cfg);
        const key = (r: Registered) => `${r.type}::${r.name}`;
        expect(after.resources.map(key)).to.deep.equal(before.resources.map(key));
        const changed = after.resources.filter((r, i) => JSON.stringify(r.inputs) !== JSON.stringify(before.resources[i].inputs));
        expect(changed.map(key)).to.deep.equal(["command:local:Command::knowledge-reindex"]);
        expect(reindexOf(changed[0]).knowledgeDigest).to.not.equal(
            reindexOf(before.resources.find((r) => r.name === "knowledge-reindex")!).knowledgeDigest,
        );
    });

    it("invalid config fails before any resource is declared, naming every bad field", async () => {
        let error: Error | undefined;
        const registered: Registered[] = [];
        try {
            await program({ app: "Bad Name", agent: { version: "latest", colour: "green" }, proxy: { port: 70000 } }, registered);
        } catch (err) {
            error = err as Error;
        }
        expect(error, "program should have thrown").to.not.equal(undefined);
        expect(error!.message).to.include("app: lower-case letters");
        expect(error!.message).to.include("agent.version: a version like 2.5.0");
        expect(error!.message).to.include("agent.colour: not a known setting");
        expect(error!.message).to.include("proxy.port");
        expect(registered).to.deep.equal([]);
    });
});
