// Zero-downtime releases of a containerized AI agent.
//
// A release is a config change (agent.version, or anything else about the agent):
// the new release comes up beside the live one, is gated on health, takes the
// traffic through the proxy's runtime API, is verified against thresholds, and
// only then does Pulumi delete the old release (it is no longer declared).
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as path from "path";
import { planAgentRelease, AgentRelease } from "./components/agentRelease";
import { KnowledgeReload } from "./components/knowledgeReload";
import { loadConfig } from "./components/stackConfig";
import { TrafficProxy } from "./components/trafficProxy";
import { TrafficSwitch } from "./components/trafficSwitch";

// 1. Configuration, validated as a whole before anything is declared.
const cfg = loadConfig(__dirname);

// 2. Shared infrastructure: the private network and the admin token.
const network = new docker.Network("network", { name: `${cfg.app}-net`, labels: [{ label: "zdt.app", value: cfg.app }] });
const adminToken = new random.RandomPassword("admin-token", { length: 40, special: false });

// 3. The proxy, the only published port.
const proxy = new TrafficProxy(
    "proxy",
    {
        app: cfg.app,
        networkName: cfg.app + "-net",
        listenAddress: cfg.proxy.listenAddress,
        port: cfg.proxy.port,
        baseImage: cfg.proxy.baseImage,
        buildContext: `${__dirname}/proxy`,
        configTemplate: path.resolve(__dirname, cfg.proxy.configTemplate),
        allowRestart: cfg.proxy.allowRestart,
    },
    { dependsOn: [network] },
);

// 4. The release: named by its release id, so it never replaces the live one.
const plan = planAgentRelease({
    app: cfg.app,
    agent: cfg.agent,
    projectDir: __dirname,
    networkName: cfg.app + "-net",
    drainTimeoutSeconds: cfg.release.drainTimeoutSeconds,
});
const release = new AgentRelease(`agent-${plan.releaseId}`, { plan, adminToken: adminToken.result }, { dependsOn: [network, proxy.guard] });

// 5. Health gate, flip, verification (and flip-back on a breach).
const traffic = new TrafficSwitch("traffic", {
    proxyContainer: proxy.containerName,
    proxyContainerId: proxy.containerId,
    targetContainer: release.containerName,
    targetRelease: release.releaseId,
    targetVersion: release.version,
    release: cfg.release,
});

// 6. Knowledge-base hot reload: a content change reindexes the live agent in place.
const knowledge = new KnowledgeReload(
    "knowledge",
    {
        knowledgeDir: path.resolve(__dirname, cfg.agent.knowledgeDir),
        app: cfg.app,
        adminToken: adminToken.result,
        scope: cfg.agent.reindex.scope,
        timeoutSeconds: cfg.agent.reindex.timeoutSeconds,
    },
    { dependsOn: [traffic] },
);

export const liveColor = traffic.liveColor;
export const liveVersion = traffic.liveVersion;
export const liveRelease = release.releaseId;
export const previousVersion = traffic.previousVersion;
export const proxyUrl = proxy.url;
export const proxyContainer = proxy.containerName;
export const releaseStrategy = traffic.result.strategy;
export const weights = traffic.result.weights;
export const releaseReport = traffic.result;
export const knowledgeDigest = knowledge.digest;
export const lastReindex = knowledge.lastReindex;
export const adminTokenValue = pulumi.secret(adminToken.result);
