// Zero-downtime releases of a containerized AI agent.
//
// A release is a config change (agent.version, or anything else about the agent):
// the new release comes up beside the live one, is gated on health, takes the
// traffic through the proxy's runtime API, is verified against thresholds, and
// only then does Pulumi delete the old release (it is no longer declared).
import * as pulumi from "@pulumi/pulumi";
import { projectRoot } from "./components/compiledPrograms";
import { loadConfig } from "./components/stackConfig";
import { dockerStack } from "./platform/docker/dockerStack";
import { edgeStack } from "./platform/docker/edgeStack";
import { swarmStack } from "./platform/swarm/swarmStack";

// Pulumi runs this file as JavaScript from dist/run/, through program.js (Pulumi.yaml's main);
// paths are relative to the project folder.
const root = projectRoot(__dirname);

// 1. Configuration, validated as a whole before anything is declared.
const cfg = loadConfig(root);

// 2. The stack on its platform: one Docker engine (platform/docker/dockerStack.ts) or a Docker
//    Swarm cluster (platform/swarm/swarmStack.ts). Each declares the network, the proxy, the
//    release named by its release id, and the traffic switch (health gate, flip or canary,
//    verification, flip-back on a breach, retirement). An edge stack (an edge section, no
//    agent) declares one public port in front of several agent stacks instead
//    (platform/docker/edgeStack.ts).
const edge = "edge" in cfg ? edgeStack(cfg, root) : undefined;
const stack = "edge" in cfg ? undefined : cfg.platform === "swarm" ? swarmStack(cfg, root) : dockerStack(cfg, root);
const traffic = stack?.traffic;

// 3. The outputs (an edge stack has the proxy's and the edge's; an agent stack's are null there).
export const platform = "edge" in cfg ? "edge" : cfg.platform;
export const liveColor = traffic?.liveColor ?? null;
export const liveVersion = traffic?.liveVersion ?? null;
export const liveRelease = stack?.releaseId ?? null;
export const previousVersion = traffic?.previousVersion ?? null;
export const proxyUrl = stack?.proxyUrl ?? edge?.url;
export const proxyUrls = stack?.proxyUrls ?? edge?.url.apply((u) => [u]);
export const proxyContainer = stack?.proxyContainer ?? edge?.proxyContainer;
export const releaseStrategy = traffic?.result.strategy ?? null;
export const weights = traffic?.result.weights ?? null;
export const releaseReport = traffic?.result ?? null;
export const knowledgeDigest = stack?.knowledgeDigest ?? null;
export const lastReindex = stack?.lastReindex ?? null;
export const proxyCertificate = stack?.certificate ?? edge?.certificate ?? null;
export const adminTokenValue = stack?.adminToken ? pulumi.secret(stack.adminToken) : null;
export const edgeNetwork = edge?.network ?? stack?.edgeNetwork ?? null;
export const edgeRoutes = edge?.routes ?? null;
