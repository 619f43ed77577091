// The stack configuration: one zod schema, the single source of defaults and of
// the documentation of every setting (`describe`). `loadConfig` validates the whole
// `zdt:` namespace before any resource is declared, so bad input changes nothing.
import { z } from "zod";
import { stepProblems } from "../core/canary";
import { bool, num } from "../core/values";
import { leafPaths } from "../core/schemaPaths";
import { ThresholdsSchema } from "../core/thresholds";
import { DEFAULT_APP } from "../core/proxyNames";
import { ConversationSettingsSchema } from "./proxySettings";

const dockerName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, "lower-case letters, digits and dashes, starting with a letter, at most 31 characters");
const version = z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a version like 2.5.0 or 2.5.0-rc.1 (never 'latest')");
// A Docker image reference: repository (optionally with registry and path), then a tag and/or digest.
const imageRef = () =>
    z
        .string()
        .regex(
            /^[a-z0-9][a-z0-9._/-]*(:[0-9]+\/[a-z0-9._/-]+)?(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
            "an image reference such as debian:bookworm-slim or registry.example.com/base:12 (lower-case repository, optional tag or digest)",
        );
const seconds = (min: number, max: number) => num().pipe(z.number().int().min(min).max(max));

export const HealthSchema = z
    .object({
        intervalSeconds: seconds(1, 60).default(1).describe("Docker healthcheck interval."),
        timeoutSeconds: seconds(1, 60).default(2).describe("Docker healthcheck timeout."),
        retries: seconds(1, 20).default(3).describe("Failed checks before the container counts as unhealthy."),
        startPeriodSeconds: seconds(0, 600).default(0).describe("Grace period for slow starts."),
    })
    .strict();

export const ReindexSchema = z
    .object({
        scope: z
            .enum(["full", "incremental"])
            .default("incremental")
            .describe("Reindex scope on a knowledge change: 'incremental' re-parses only changed files."),
        timeoutSeconds: seconds(5, 3600).default(120).describe("How long `pulumi up` waits for a knowledge reindex to finish."),
    })
    .strict();

/** A registry's content digest of an image (agent.digest, `npm run release -- --digest`). */
export const ContentDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a content digest: sha256: and 64 lower-case hex digits");

export const AgentSchema = z
    .object({
        version: version.describe("The agent version to run. Changing it is a release."),
        image: z
            .string()
            .regex(/^[a-z0-9][a-z0-9._/:-]*$/, "an image repository such as ghcr.io/acme/agent (no tag)")
            .refine((s) => !/:[^/]*$/.test(s), "give the repository without a tag; the tag is agent.version")
            .optional()
            .describe(
                "Image repository; the tag is agent.version. Default: '<app>-agent', one repository per app, so pruning one app's retired images never touches another's.",
            ),
        digest: ContentDigest.optional().describe(
            "Pin the pulled image to this content digest (the registry's, printed by `docker push`): the engine pulls exactly these bytes, and a tag pushed again cannot change a release. Only for pulled images (not with agent.buildContext).",
        ),
        buildContext: z
            .string()
            .optional()
            .describe("Build the image locally from this folder (relative to the project) instead of pulling it."),
        baseImage: imageRef().default("debian:bookworm-slim").describe("BASE_IMAGE build argument for local builds."),
        memoryMb: num().pipe(z.number().int().min(64).max(65536)).default(512).describe("Memory limit of each agent container (MB)."),
        restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped").describe("Docker restart policy."),
        knowledgeDir: z.string().default("knowledge").describe("Knowledge base folder, mounted read-only at /app/knowledge."),
        configDir: z.string().default("agent-config").describe("Agent configuration folder, mounted read-only at /app/config."),
        reindex: ReindexSchema.prefault({}),
        llm: z
            .object({
                provider: z
                    .enum(["local", "openai"])
                    .default("local")
                    .describe("'local' answers from the knowledge base; 'openai' calls an OpenAI-compatible endpoint."),
                baseUrl: z
                    .url({ protocol: /^https?$/, error: "an http(s) URL such as https://api.openai.com/v1" })
                    .optional()
                    .describe("Endpoint for provider 'openai'."),
                model: z.string().optional().describe("Model name for provider 'openai'."),
            })
            .strict()
            .prefault({}),
        env: z
            .record(
                z
                    .string()
                    .regex(/^[A-Z_][A-Z0-9_]*$/, "environment variable names are upper-case letters, digits and _, such as LOG_LEVEL"),
                z.union([z.string(), z.number(), z.boolean()]).transform(String),
            )
            .default({})
            .describe("Extra environment variables."),
        health: HealthSchema.prefault({}),
        faults: z
            .object({
                startDelayMs: num().pipe(z.number().int().min(0).max(600000)).optional().describe("Drill: delay before the agent listens."),
                failHealth: bool().optional().describe("Drill: /health always answers 503."),
                errorRate: num().pipe(z.number().min(0).max(1)).optional().describe("Drill: share of chat requests answered with 500."),
                crashAtStart: bool().optional().describe("Drill: the agent exits with code 3 before it listens."),
                llmDelayMs: num()
                    .pipe(z.number().int().min(0).max(120000))
                    .optional()
                    .describe("Drill: every chat answer takes this much longer (LLM latency)."),
                healthDelayMs: num()
                    .pipe(z.number().int().min(0).max(60000))
                    .optional()
                    .describe("Drill: /health answers this much later."),
                refuseNewConversations: bool()
                    .optional()
                    .describe("Drill: the agent answers 429 to the first message of a conversation it does not know."),
                allocateMb: num()
                    .pipe(z.number().int().min(0).max(65536))
                    .optional()
                    .describe("Drill: memory the agent holds from its start (MB)."),
            })
            .strict()
            .default({})
            .describe("Fault injection for drills; leave empty in production."),
    })
    .strict()
    .refine((a) => !(a.digest && a.buildContext), {
        message: "pins a pulled image, and a local build (agent.buildContext) has no registry digest: remove one of them",
        path: ["digest"],
    });

export const ProxySchema = z
    .object({
        listenAddress: z
            .union([z.ipv4(), z.ipv6()], { error: "an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1" })
            .default("127.0.0.1")
            .describe("Host address the proxy publishes on (0.0.0.0 for every interface)."),
        port: num().pipe(z.number().int().min(1).max(65535)).default(8080).describe("Host port of the proxy; the only published port."),
        baseImage: imageRef()
            .default("debian:bookworm-slim")
            .describe(
                "BASE_IMAGE build argument for the proxy image. A change (like one of the proxy/ folder) starts a new proxy beside the old one, which hands its listening sockets over: no connection is refused.",
            ),
        configTemplate: z
            .string()
            .default("proxy/haproxy.cfg.tmpl")
            .describe(
                "HAProxy's config without its server lines (relative to the project folder). A change is applied to the running proxy by a seamless reload, not a restart.",
            ),
        conversations: ConversationSettingsSchema.prefault({}).describe(
            "Conversation pinning: the stick table's size and idle timeout, and whether keyless messages start pinned conversations.",
        ),
        allowRestart: bool()
            .default(false)
            .describe(
                "Maintenance: allow an update that replaces the container publishing the proxy's port (proxy.port or proxy.listenAddress changed, or the first update after the version that added the port holder), which refuses and closes client connections for a moment. Without it such an update fails before anything changes.",
            ),
    })
    .strict();

export const CanaryStepSchema = z
    .object({
        weight: num()
            .pipe(z.number().int().min(1).max(100))
            .describe("Share of new conversations the canary takes during the step (percent)."),
        pauseSeconds: seconds(0, 86400).describe("How long the step lasts, judged all along, before the next one."),
    })
    .strict();

/** The blueprint's canary: 5 -> 25 -> 50 -> 100 %, an hour per step. */
export const BLUEPRINT_CANARY_STEPS = [5, 25, 50]
    .map((weight) => ({ weight, pauseSeconds: 3600 }))
    .concat([{ weight: 100, pauseSeconds: 0 }]);

export const CanarySchema = z
    .object({
        steps: z
            .array(CanaryStepSchema)
            .superRefine((steps, ctx) => {
                for (const message of stepProblems(steps)) ctx.addIssue({ code: "custom", message });
            })
            .default(BLUEPRINT_CANARY_STEPS)
            .describe("The canary's steps: weights that rise to 100, each with its pause (blueprint: 5, 25, 50, 100 %, an hour each)."),
        maxErrorRateDeltaPercent: num()
            .pipe(z.number().min(0).max(100))
            .default(1)
            .describe("How many points the canary's 5xx rate may exceed stable's over the same interval."),
        maxLatencyRatio: num()
            .pipe(z.number().min(1))
            .default(2)
            .describe("How many times stable's average response time the canary's may be over the same interval."),
    })
    .strict();

export const ReleaseSchema = z
    .object({
        strategy: z
            .enum(["blue-green", "canary"])
            .default("blue-green")
            .describe(
                "blue-green: after its gate the new release takes every new conversation at once; canary: it takes them in steps (release.canary), judged at each step against the thresholds and against stable.",
            ),
        canary: CanarySchema.prefault({}),
        verifyWindowSeconds: seconds(0, 7200)
            .default(900)
            .describe("How long the new colour is watched after the flip before the old one retires (blueprint: 15 minutes)."),
        healthGateTimeoutSeconds: seconds(5, 1800)
            .default(120)
            .describe("How long the switch waits for the new colour to pass /health through the proxy's network."),
        drainTimeoutSeconds: seconds(0, 3600)
            .default(60)
            .describe("How long a retiring colour may take to finish in-flight requests and streams."),
        probeIntervalMs: num().pipe(z.number().int().min(200).max(60000)).default(1000).describe("Interval of the verification probes."),
        probeRequestsPerTick: num()
            .pipe(z.number().int().min(0).max(50))
            .default(5)
            .describe("Synthetic chat requests per probe, so thresholds are judged even without traffic."),
        thresholds: ThresholdsSchema.prefault({}),
    })
    .strict();

/** A pulled image pinned by its registry digest: what every node of a swarm runs. */
const pinnedImage = () =>
    z
        .string()
        .regex(
            /^[a-z0-9][a-z0-9._/-]*(:[0-9]+\/[a-z0-9._/-]+)?(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$/,
            "an image reference pinned by digest, such as 10.0.0.5:5000/shop-proxy:1.0.0@sha256:<64 hex digits> (scripts/publish prints the digest)",
        );

export const SwarmNodeSchema = z
    .object({
        name: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "the node's hostname as `docker node ls` shows it")
            .describe("The node's hostname (`docker node ls`)."),
        address: z
            .union([z.ipv4(), z.ipv6()], { error: "the node's IPv4 or IPv6 address (`docker node inspect --format '{{.Status.Addr}}'`)" })
            .describe("The node's address, where its proxy publishes the port and meets the other proxies (peers)."),
        engine: z
            .string()
            .regex(/^(unix|tcp|ssh):\/\/\S+$/, "a DOCKER_HOST such as ssh://root@10.0.0.2 or unix:///var/run/docker.sock")
            .describe("The node's Docker engine (a DOCKER_HOST): the switch reaches the proxy on that node through it."),
    })
    .strict();

export const SwarmSchema = z
    .object({
        replicas: num()
            .pipe(z.number().int().min(1).max(32))
            .default(2)
            .describe("Tasks of each release's Swarm service, spread over the nodes."),
        proxyImage: pinnedImage().describe(
            "The proxy image (proxy/, published by `scripts/publish --context proxy`), pinned by digest; runs on every node.",
        ),
        peerPort: num()
            .pipe(z.number().int().min(1024).max(65535))
            .default(10000)
            .describe("Port on every node's address where the proxies share the conversations' stick table (HAProxy peers)."),
        nodes: z
            .array(SwarmNodeSchema)
            .min(1, "list every node of the swarm (the proxy runs on each)")
            .superRefine((nodes, ctx) => {
                const seen = new Set<string>();
                for (const n of nodes) {
                    if (seen.has(n.name)) ctx.addIssue({ code: "custom", message: `node ${n.name} is listed twice` });
                    seen.add(n.name);
                }
            })
            .describe("Every node of the swarm: its hostname, address and engine. The proxy is a global service, one task per node."),
    })
    .strict();

export const ConfigSchema = z
    .object({
        app: dockerName.default(DEFAULT_APP).describe("Prefix of every Docker object of the stack."),
        platform: z
            .enum(["docker", "swarm"])
            .default("docker")
            .describe(
                "docker: one Docker engine (DOCKER_HOST); swarm: a Docker Swarm cluster (DOCKER_HOST is its manager), each release a service of swarm.replicas tasks, the proxy on every node.",
            ),
        swarm: SwarmSchema.optional().describe("The cluster (platform: swarm only)."),
        agent: AgentSchema,
        proxy: ProxySchema.prefault({}),
        release: ReleaseSchema.prefault({}),
    })
    .strict()
    .superRefine((c, ctx) => {
        for (const issue of platformProblems(c)) ctx.addIssue({ code: "custom", ...issue });
    });

/** What platform: swarm needs that one host does not, and what it refuses (pure). */
export function platformProblems(c: {
    platform: "docker" | "swarm";
    swarm?: unknown;
    agent: { image?: string; digest?: string; buildContext?: string };
}): { path: string[]; message: string }[] {
    if (c.platform === "docker")
        return c.swarm ? [{ path: ["swarm"], message: "only with platform: swarm (set platform: swarm, or remove swarm)" }] : [];
    const out: { path: string[]; message: string }[] = [];
    if (!c.swarm) out.push({ path: ["swarm"], message: "required with platform: swarm (swarm.proxyImage and swarm.nodes)" });
    if (c.agent.buildContext)
        out.push({
            path: ["agent", "buildContext"],
            message: "not with platform: swarm: every node pulls the image from a registry (publish it, set agent.image and agent.digest)",
        });
    if (!c.agent.image)
        out.push({ path: ["agent", "image"], message: "required with platform: swarm: the registry repository every node pulls from" });
    if (!c.agent.digest)
        out.push({ path: ["agent", "digest"], message: "required with platform: swarm: every node must run the same bytes" });
    return out;
}

export type StackConfig = z.infer<typeof ConfigSchema>;
export type AgentConfig = StackConfig["agent"];
export type ReleaseConfig = StackConfig["release"];
export type SwarmConfig = z.infer<typeof SwarmSchema>;

export class ConfigError extends Error {}

/**
 * Validates raw config (project namespace stripped, values as stored by
 * `pulumi config set --path`) and returns it with defaults applied. Throws a
 * ConfigError listing every bad field with its path and what is allowed.
 */
export function parseConfig(raw: Record<string, unknown>): StackConfig {
    const result = ConfigSchema.safeParse(raw);
    if (result.success) return result.data;
    const lines = result.error.issues.map((issue) => {
        const where = issue.path.length ? issue.path.join(".") : "(top level)";
        if (issue.code === "unrecognized_keys") {
            const keys = issue.keys.map((k) => (issue.path.length ? `${where}.${k}` : k));
            return keys.map((k) => `  - ${k}: ${flatKeyHint(k) ?? "not a known setting"}`).join("\n");
        }
        // A bad key of a record (agent.env): zod nests the key's own message.
        const message = issue.code === "invalid_key" && issue.issues[0] ? issue.issues[0].message : issue.message;
        return `  - ${where}: ${message}`;
    });
    return ((): never => {
        throw new ConfigError(
            `invalid stack configuration (nothing was changed):\n${lines.join("\n")}\nSee README.md, "Configuration", for every setting and its default.`,
        );
    })();
}

/**
 * A top-level key with dots that names a nested setting ("release.strategy") was set
 * without --path, so Pulumi stored it flat: say how to set it (pure).
 */
export function flatKeyHint(key: string): string | undefined {
    if (!key.includes(".")) return undefined;
    const path = key.split(".");
    const known = leafPaths(ConfigSchema).some((leaf) => leaf.length <= path.length && leaf.every((k, i) => k === path[i]));
    if (!known) return undefined;
    return `a nested setting stored as one flat key, because it was set without --path; remove it (pulumi config rm '${key}') and set it with: pulumi config set --path '${key}' <value>`;
}

/** Reads the project's whole config namespace as parsed JSON values. */
export function rawConfig(all: Record<string, string>, project: string): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
        const [ns, name] = key.split(":");
        if (ns !== project || !name) continue;
        try {
            raw[name] = JSON.parse(value);
        } catch {
            raw[name] = value; // plain strings are stored unquoted
        }
    }
    return raw;
}
