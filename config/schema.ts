// The stack configuration: one zod schema, the single source of defaults and of
// the documentation of every setting (`describe`). `loadConfig` validates the whole
// `zdt:` namespace before any resource is declared, so bad input changes nothing.
// One file per section (agent.ts, proxy.ts, release.ts, swarm.ts); this one puts them together.
import { z } from "zod";
import { dockerName } from "./forms";
import { type AnyObject, leafPaths } from "../core/schemaPaths";
import { DEFAULT_APP } from "../core/proxyNames";
import { AgentSchema } from "./agent";
import { ProxySchema } from "./proxy";
import { PROBES_PER_TICK, ReleaseSchema } from "./release";
import { SwarmSchema } from "./swarm";
import { EdgeStackSchema, type EdgeStackConfig } from "./edge";
export { AgentSchema, ContentDigest, HealthSchema, ReindexSchema, ReloadHookSchema } from "./agent";
export { ProxySchema } from "./proxy";
export { BLUEPRINT_CANARY_STEPS, CanarySchema, CanaryStepSchema, ProbeSchema, ReleaseSchema } from "./release";
export { SwarmNodeSchema, SwarmSchema } from "./swarm";

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
        if (c.release.canary.answerSignal) {
            const path = ["release", "canary", "answerSignal"];
            if (!c.agent.metrics.path)
                ctx.addIssue({
                    code: "custom",
                    path,
                    message: "needs the agent's metrics: agent.metrics.path is empty (the counter is read there)",
                });
            if (c.platform === "swarm")
                ctx.addIssue({
                    code: "custom",
                    path,
                    message: "not with platform: swarm yet (a slot's metrics come from one of its tasks, not their sum)",
                });
        }
    });

/**
 * Synthetic requests per probe interval (pure): release.probeRequestsPerTick, or by default
 * PROBES_PER_TICK for the reference agent (its conversation key is the default header) or
 * a probe the user described, else none.
 */
export function probesPerTick(c: Pick<StackConfig, "agent" | "release">): number {
    if (c.release.probeRequestsPerTick !== undefined) return c.release.probeRequestsPerTick;
    const reference = c.agent.conversation.preset === "x-conversation-id" && c.agent.conversation.from === undefined;
    return reference || c.release.probe ? PROBES_PER_TICK : 0;
}

/** What platform: swarm needs that one host does not, and what it refuses (pure). */
export function platformProblems(c: {
    platform: "docker" | "swarm";
    swarm?: unknown;
    agent: { image?: string; digest?: string; buildContext?: string; secretsAs?: "env" | "file"; gpus?: string };
    proxy?: { tls?: { mode: string }; edgeNetwork?: string };
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
    if (c.agent.gpus)
        out.push({
            path: ["agent", "gpus"],
            message: "not with platform: swarm yet (Swarm reserves GPUs as generic resources each node must declare)",
        });
    if (c.proxy?.tls && c.proxy.tls.mode !== "off")
        out.push({
            path: ["proxy", "tls", "mode"],
            message: "off with platform: swarm (HTTPS in the proxy is one host's for now; terminate TLS in front of the cluster)",
        });
    if (c.proxy?.edgeNetwork)
        out.push({
            path: ["proxy", "edgeNetwork"],
            message: "not with platform: swarm (an edge stack serves agent stacks of one host; terminate TLS in front of the cluster)",
        });
    if (c.agent.secretsAs === "file")
        out.push({ path: ["agent", "secretsAs"], message: "env only with platform: swarm (files need Docker secrets, not supported yet)" });
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
    return parseWith(ConfigSchema, raw, ConfigSchema as unknown as AnyObject);
}

/** The same for an edge stack's config (config/edge.ts): its own schema, the same messages. */
export function parseEdgeConfig(raw: Record<string, unknown>): EdgeStackConfig {
    return parseWith(EdgeStackSchema, raw, EdgeStackSchema as unknown as AnyObject, (key) =>
        key === "agent" ? "an edge stack declares no agent (it routes to agent stacks: edge.routes)" : undefined,
    );
}

function parseWith<S extends z.ZodType>(
    schema: S,
    raw: Record<string, unknown>,
    leaves: AnyObject,
    hint: (key: string) => string | undefined = () => undefined,
): z.output<S> {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const lines = result.error.issues.map((issue) => {
        const where = issue.path.length ? issue.path.join(".") : "(top level)";
        if (issue.code === "unrecognized_keys") {
            const keys = issue.keys.map((k) => (issue.path.length ? `${where}.${k}` : k));
            // A flat key with dots is a top-level key; below it, a dot only joins the path.
            const flat = (k: string) => (issue.path.length === 0 ? flatKeyHint(k, leaves) : undefined);
            return keys.map((k) => `  - ${k}: ${hint(k) ?? flat(k) ?? "not a known setting"}`).join("\n");
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
export function flatKeyHint(key: string, schema: AnyObject = ConfigSchema as unknown as AnyObject): string | undefined {
    if (!key.includes(".")) return undefined;
    const path = key.split(".");
    const known = leafPaths(schema).some((leaf) => leaf.length <= path.length && leaf.every((k, i) => k === path[i]));
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
