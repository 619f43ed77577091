// One release of the agent: its image and its container. The container sits on
// the private network, publishes no port, mounts the knowledge base and config
// read-only, and carries Docker's health check, which the traffic switch's health gate
// reads (the first gate of a release).
//
// Safety by construction: the release id digests every plain input of the
// container (and the contents of the image build context and config folder), and
// names both the Pulumi resources and the Docker container. Any change to the
// agent therefore creates a new release beside the live one; the serving
// container is never replaced or stopped in place.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as path from "path";
import { agentImageRef } from "./agentImage";
import { agentHealthCheck } from "./healthChecks";
import { type AgentHealth, type DockerCheck, HEALTH_DEFAULTS } from "../core/health";
import { appNetworkName, knowledgeVolumeName } from "../core/proxyNames";
import type { AgentConfig, StackConfig } from "../config/schema";
import { placementIsDefault, type SwarmPlacement } from "../config/swarm";
import { folderDigest, releaseId as makeReleaseId } from "./releaseId";

/**
 * Where the admin token reaches the agent: a file written into the container before it
 * starts (the provider's `uploads`), so `docker inspect` does not show it as it shows
 * environment variables. /run exists in every Debian-based image.
 */
export const ADMIN_TOKEN_FILE = "/run/zdt-admin-token";

export interface AgentReleaseInputs {
    app: string;
    agent: AgentConfig;
    /** Folder of the Pulumi project; relative paths in config are resolved against it. */
    projectDir: string;
    networkName: string;
    /** Seconds a retiring container gets to finish in-flight requests and streams. */
    drainTimeoutSeconds: number;
    /** platform: swarm: where the release's tasks may run (swarm.placement). */
    placement?: SwarmPlacement;
}

/** Everything a release's container is made of, as plain values. */
export interface AgentReleasePlan {
    releaseId: string;
    version: string;
    containerName: string;
    imageTag: string;
    build?: { context: string; args: Record<string, string> };
    env: Record<string, string>;
    labels: Record<string, string>;
    /** A host folder (hostPath) or a volume of the stack's (volumeName: the knowledge base, when it is hot-reloaded). */
    volumes: (({ hostPath: string; volumeName?: undefined } | { volumeName: string; hostPath?: undefined }) & {
        containerPath: string;
        readOnly: boolean;
    })[];
    networkName: string;
    memoryMb: number;
    /** CPU and GPU limits (agent.cpus, agent.gpus), when set. */
    cpus?: string;
    gpus?: string;
    /** The names of the agent's secrets and how they are delivered (their values are the stack's secret config, never in the plan). */
    secrets: { names: string[]; as: AgentConfig["secretsAs"]; revision: number };
    /** agent.reindex.mode hook: the variable the agent finds the generated reload token in. */
    reloadTokenEnv?: string;
    /** The port the agent listens on (agent.port; also its PORT variable, so part of the release id). */
    port: number;
    restart: AgentConfig["restart"];
    /** platform: swarm: where the tasks may run, when it differs from Swarm's own choice. */
    placement?: SwarmPlacement;
    /** agent.health, with the endpoint's path, status and Docker check only where they differ from the defaults (so the release id of a stack that never set them stays the same). */
    health: Omit<AgentConfig["health"], "path" | "expectStatus" | "docker"> & Partial<AgentHealth> & { docker?: DockerCheck };
    drainTimeoutSeconds: number;
}

/** The release a stack declares for its config: the same plan on both platforms. */
export function stackReleasePlan(cfg: StackConfig, projectDir: string): AgentReleasePlan {
    return planAgentRelease({
        app: cfg.app,
        agent: cfg.agent,
        projectDir,
        networkName: appNetworkName(cfg.app),
        drainTimeoutSeconds: cfg.release.drainTimeoutSeconds,
        ...(cfg.platform === "swarm" && cfg.swarm ? { placement: cfg.swarm.placement } : {}),
    });
}

function digestedHealth(h: AgentConfig["health"]): AgentReleasePlan["health"] {
    const { path, expectStatus, docker, ...timing } = h;
    return {
        ...timing,
        ...(docker !== "curl" ? { docker } : {}),
        ...(path !== HEALTH_DEFAULTS.path ? { path } : {}),
        ...(expectStatus !== HEALTH_DEFAULTS.expectStatus ? { expectStatus } : {}),
    };
}

export function planAgentRelease(i: AgentReleaseInputs): AgentReleasePlan {
    const { agent } = i;
    const build = agent.buildContext
        ? { context: path.resolve(i.projectDir, agent.buildContext), args: { BASE_IMAGE: agent.baseImage, AGENT_VERSION: agent.version } }
        : undefined;
    const configDir = path.resolve(i.projectDir, agent.configDir);
    const env: Record<string, string> = {
        ...agent.env,
        AGENT_VERSION: agent.version,
        PORT: String(agent.port),
        LLM_PROVIDER: agent.llm.provider,
        SHUTDOWN_GRACE_MS: String(i.drainTimeoutSeconds * 1000),
        ADMIN_TOKEN_FILE,
        ...(agent.llm.baseUrl ? { LLM_BASE_URL: agent.llm.baseUrl } : {}),
        ...(agent.llm.model ? { LLM_MODEL: agent.llm.model } : {}),
        ...(agent.faults.startDelayMs !== undefined ? { FAULT_START_DELAY_MS: String(agent.faults.startDelayMs) } : {}),
        ...(agent.faults.failHealth ? { FAULT_HEALTH: "fail" } : {}),
        ...(agent.faults.errorRate !== undefined ? { FAULT_ERROR_RATE: String(agent.faults.errorRate) } : {}),
        ...(agent.faults.crashAtStart ? { FAULT_CRASH_AT_START: "1" } : {}),
        ...(agent.faults.llmDelayMs !== undefined ? { FAULT_LLM_DELAY_MS: String(agent.faults.llmDelayMs) } : {}),
        ...(agent.faults.healthDelayMs !== undefined ? { FAULT_HEALTH_DELAY_MS: String(agent.faults.healthDelayMs) } : {}),
        ...(agent.faults.allocateMb !== undefined ? { FAULT_ALLOCATE_MB: String(agent.faults.allocateMb) } : {}),
        ...(agent.faults.refuseNewConversations ? { FAULT_REFUSE_NEW_CONVERSATIONS: "1" } : {}),
    };
    const spec = {
        imageTag: agentImageRef(i.app, agent),
        build,
        env,
        volumes: [
            // Hot-reloaded knowledge is the stack's volume (what `pulumi up` last accepted, so a
            // reload that regresses can put the previous files back); read at start only, it is the folder.
            agent.reindex.mode === "release"
                ? { hostPath: path.resolve(i.projectDir, agent.knowledgeDir), containerPath: agent.knowledgePath, readOnly: true }
                : { volumeName: knowledgeVolumeName(i.app), containerPath: agent.knowledgePath, readOnly: true },
            { hostPath: configDir, containerPath: "/app/config", readOnly: true },
            ...agent.mounts.map((m) => ({ hostPath: path.resolve(i.projectDir, m.source), containerPath: m.target, readOnly: m.readOnly })),
        ],
        networkName: i.networkName,
        memoryMb: agent.memoryMb,
        ...(agent.cpus ? { cpus: agent.cpus } : {}),
        ...(agent.gpus ? { gpus: agent.gpus } : {}),
        restart: agent.restart,
        health: digestedHealth(agent.health),
        drainTimeoutSeconds: i.drainTimeoutSeconds,
        // Where the tasks run (Swarm): a change is a new release beside the live one, never a
        // rolling update of it. Only when set, so the release id of a stack without it stays.
        ...(i.placement && !placementIsDefault(i.placement) ? { placement: i.placement } : {}),
        // The names, never the values: a release id is a resource name, in plain state.
        ...(Object.keys(agent.secrets).length > 0 || agent.secretsRevision > 0
            ? { secrets: { names: Object.keys(agent.secrets).sort(), as: agent.secretsAs, revision: agent.secretsRevision } }
            : {}),
        ...(agent.reindex.mode === "hook" ? { reloadTokenEnv: agent.reindex.hook.tokenEnv } : {}),
        // Contents, not just paths: a changed agent build or config is a new release.
        // (Knowledge changes are hot-reloaded, so the knowledge folder is not digested, unless
        // the agent has no reindex endpoint.)
        buildDigest: build
            ? folderDigest(build.context, (rel) => rel === "src" || rel.startsWith("src/") || rel === "node_modules")
            : undefined,
        configDigest: folderDigest(configDir),
        // agent.reindex.mode release: the agent reads its knowledge at start, so a change is a new release.
        ...(agent.reindex.mode === "release" ? { knowledgeDigest: folderDigest(path.resolve(i.projectDir, agent.knowledgeDir)) } : {}),
    };
    const id = makeReleaseId(agent.version, spec);
    const { buildDigest: _b, configDigest: _c, knowledgeDigest: _k, secrets: _s, reloadTokenEnv, ...plain } = spec;
    return {
        ...plain,
        secrets: { names: Object.keys(agent.secrets).sort(), as: agent.secretsAs, revision: agent.secretsRevision },
        ...(reloadTokenEnv ? { reloadTokenEnv } : {}),
        port: agent.port,
        releaseId: id,
        version: agent.version,
        containerName: `${i.app}-agent-${id}`,
        env: { ...env, RELEASE_ID: id },
        labels: {
            "zdt.app": i.app,
            "zdt.role": "agent",
            "zdt.version": agent.version,
            "zdt.release": id,
            // Who checks the container's health besides the proxy (the policy pack reads it).
            ...(agent.health.docker !== "curl" ? { "zdt.health": agent.health.docker } : {}),
        },
    };
}

export interface AgentReleaseArgs {
    plan: AgentReleasePlan;
    adminToken: pulumi.Input<string>;
    /** The values of plan.secrets' names (agent.secrets), kept secret here and in state. */
    secrets: Record<string, string>;
}

/** Where a secret delivered as a file is (agent.secretsAs file): Docker's convention. */
export const secretFile = (name: string) => `/run/secrets/${name}`;

/**
 * A release's variables: the plan's, the secrets' when they travel as variables, and the
 * reload token for a reload hook (then the whole list is secret).
 */
export function releaseEnvs(
    plan: AgentReleasePlan,
    secrets: Record<string, string>,
    adminToken: pulumi.Input<string>,
): pulumi.Input<string[]> {
    const plainEnvs = Object.entries(plan.env).map(([k, v]) => `${k}=${v}`);
    const secretEnvs: [string, pulumi.Input<string>][] = plan.secrets.as === "env" ? plan.secrets.names.map((n) => [n, secrets[n]]) : [];
    if (plan.reloadTokenEnv) secretEnvs.push([plan.reloadTokenEnv, adminToken]);
    if (secretEnvs.length === 0) return plainEnvs;
    return pulumi.secret(pulumi.all(secretEnvs.map(([n, v]) => pulumi.interpolate`${n}=${v}`)).apply((s) => [...s, ...plainEnvs]));
}

/** The files written into a release's container before it starts: the admin token, and the secrets delivered as files. */
export function releaseUploads(plan: AgentReleasePlan, adminToken: pulumi.Input<string>, secrets: Record<string, string>) {
    const files =
        plan.secrets.as === "file" ? plan.secrets.names.map((n) => ({ file: secretFile(n), content: pulumi.secret(secrets[n]) })) : [];
    return [{ file: ADMIN_TOKEN_FILE, content: pulumi.secret(adminToken) }, ...files];
}

export class AgentRelease extends pulumi.ComponentResource {
    readonly containerName: pulumi.Output<string>;
    readonly version: string;
    readonly releaseId: string;

    constructor(name: string, args: AgentReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:AgentRelease", name, {}, opts);
        const { plan } = args;
        this.version = plan.version;
        this.releaseId = plan.releaseId;

        const imageName: pulumi.Output<string> = plan.build
            ? new docker.Image(`${name}-image`, { imageName: plan.imageTag, build: plan.build, skipPush: true }, { parent: this }).imageName
            : new docker.RemoteImage(`${name}-image`, { name: plan.imageTag, keepLocally: true }, { parent: this }).name;

        const h = plan.health;
        const container = new docker.Container(
            `${name}-container`,
            {
                name: plan.containerName,
                image: imageName,
                envs: releaseEnvs(plan, args.secrets, args.adminToken),
                uploads: releaseUploads(plan, args.adminToken, args.secrets),
                labels: Object.entries(plan.labels).map(([label, value]) => ({ label, value })),
                networksAdvanced: [{ name: plan.networkName }],
                volumes: plan.volumes,
                memory: plan.memoryMb,
                // Explicit, no swap: Docker stores 2 x memory when only memory is given, and the
                // official provider reads that back, a perpetual in-place diff on live containers.
                memorySwap: plan.memoryMb,
                ...(plan.cpus ? { cpus: plan.cpus } : {}),
                ...(plan.gpus ? { gpus: plan.gpus } : {}),
                restart: plan.restart,
                healthcheck: agentHealthCheck(h, plan.port),
                // No provider-side wait: the traffic switch gates the release (Docker's health
                // state, /health through the proxy, a crash fails at once, naming the failed
                // check and the last log lines). The official provider's wait only says
                // "failed to be in healthy state" and keeps the failed container in the state
                // with init errors.
                wait: false,
                // Retirement: SIGTERM, then this long to drain before Docker kills it.
                destroyGraceSeconds: plan.drainTimeoutSeconds,
                stopTimeout: plan.drainTimeoutSeconds,
            },
            {
                parent: this,
                // The uploads carry the admin token and the secrets, the variables may carry the
                // secrets: values the release id does not digest (it digests their names and
                // agent.secretsRevision); every other input is part of the release id. Ignoring
                // them here means nothing but a new release (a new resource) ever changes a
                // running container.
                // The official provider reads cpus and gpus back in forms of its own ("2.0" for
                // "2", "all" for any device list); both are part of the release id, so a change
                // of either is a new release anyway.
                ignoreChanges: ["uploads", "envs", "cpus", "gpus"],
            },
        );

        this.containerName = container.name;
        this.registerOutputs({ containerName: this.containerName, version: this.version, releaseId: this.releaseId });
    }
}
