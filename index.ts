// Zero-downtime releases of a containerized AI agent.
//
// A release is a config change (agent.version, or anything else about the agent):
// the new release comes up beside the live one, is gated on health, takes the
// traffic through the proxy's runtime API, is verified against thresholds, and
// only then does Pulumi delete the old release (it is no longer declared).
import * as pulumi from "@pulumi/pulumi";
import { compiledModule } from "./components/compiledPrograms";
import type * as DockerStack from "./platform/docker/dockerStack";
import type * as StackConfig from "./components/stackConfig";
import type * as SwarmStack from "./platform/swarm/swarmStack";

// The program's modules run as JavaScript, transpiled when their source changed
// (components/compiledPrograms.ts): ts-node compiles only this file.

// 1. Configuration, validated as a whole before anything is declared.
const cfg = compiledModule<typeof StackConfig>("components/stackConfig.ts").loadConfig(__dirname);

// 2. The stack on its platform: one Docker engine (platform/docker/dockerStack.ts) or a Docker
//    Swarm cluster (platform/swarm/swarmStack.ts). Each declares the network, the proxy, the
//    release named by its release id, and the traffic switch (health gate, flip or canary,
//    verification, flip-back on a breach, retirement).
const stack =
    cfg.platform === "swarm"
        ? compiledModule<typeof SwarmStack>("platform/swarm/swarmStack.ts").swarmStack(cfg, __dirname)
        : compiledModule<typeof DockerStack>("platform/docker/dockerStack.ts").dockerStack(cfg, __dirname);
const traffic = stack.traffic;

export const platform = cfg.platform;
export const liveColor = traffic.liveColor;
export const liveVersion = traffic.liveVersion;
export const liveRelease = stack.releaseId;
export const previousVersion = traffic.previousVersion;
export const proxyUrl = stack.proxyUrl;
export const proxyUrls = stack.proxyUrls;
export const proxyContainer = stack.proxyContainer;
export const releaseStrategy = traffic.result.strategy;
export const weights = traffic.result.weights;
export const releaseReport = traffic.result;
export const knowledgeDigest = stack.knowledgeDigest;
export const lastReindex = stack.lastReindex;
export const proxyCertificate = stack.certificate ?? null;
export const adminTokenValue = stack.adminToken ? pulumi.secret(stack.adminToken) : null;
