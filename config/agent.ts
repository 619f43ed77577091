// The stack config's agent section: the image and version of a release, its resources,
// health check, knowledge base, LLM backend and the drills' faults.
import { z } from "zod";
import { version, imageRef, seconds } from "./forms";
import { num, bool } from "../core/values";
import { DOCKER_CHECKS, HEALTH_DEFAULTS } from "../core/health";
import { KEY_SOURCES, NAME_FORMS, PRESETS, type Preset } from "../core/conversationKey";

/** A value `pulumi config set --path` may store as a number (1) or a string (1.5, all), read as text of a form. */
const numberText = (form: RegExp, says: string) =>
    z.preprocess((v) => (typeof v === "number" ? String(v) : v), z.string(says).regex(form, says));
const STATUS_FORM = "a status from 200 to 399 such as 200 or 204, or any (any answer below 500)";

export const HealthSchema = z
    .object({
        intervalSeconds: seconds(1, 60)
            .default(5)
            .describe(
                "Docker healthcheck interval. Each check is an exec in the container (about 80 ms of CPU each on a small VPS). The release gate asks the proxy, not this check (except with agent.health.docker image, whose interval is the image's); on one host it feeds `docker ps`, on Swarm the task health (at least 5 s there).",
            ),
        timeoutSeconds: seconds(1, 60).default(2).describe("Docker healthcheck timeout."),
        retries: seconds(1, 20).default(3).describe("Failed checks before the container counts as unhealthy."),
        startPeriodSeconds: seconds(0, 600).default(0).describe("Grace period for slow starts."),
        path: z
            .string()
            .regex(
                /^\/[A-Za-z0-9._~%/?=&:@+,;-]{0,200}$/,
                "a URL path starting with /, such as /health or /healthz (letters, digits and ._~%/?=&:@+,;-)",
            )
            .default(HEALTH_DEFAULTS.path)
            .describe(
                "The agent's health endpoint: the proxy's check, the release gate, the verification's probes and Docker's health check all request it. Any body will do: the proxy, not the agent, says which release answered.",
            ),
        expectStatus: z
            .union([z.literal("any"), num().pipe(z.number().int(STATUS_FORM).min(200, STATUS_FORM).max(399, STATUS_FORM))], {
                error: STATUS_FORM,
            })
            .default(HEALTH_DEFAULTS.expectStatus)
            .describe(
                "The status the health endpoint answers when the agent can serve (any other is a failed check); any: any answer below 500, for an agent without a health endpoint of its own (then agent.health.path is any path it answers, such as /).",
            ),
        docker: z
            .enum(DOCKER_CHECKS)
            .default("curl")
            .describe(
                "Docker's own health check of the agent's container, besides the proxy's (which gates every release and needs nothing in the image). curl: GET the health endpoint with curl inside the container (the image needs curl). image: the image's own HEALTHCHECK, if it has one. none: no Docker check (docker ps shows no health).",
            ),
    })
    .strict();

export const MetricsSchema = z
    .object({
        path: z
            .string()
            .regex(/^(\/[A-Za-z0-9._~%/-]{0,200})?$/, "a URL path starting with /, such as /metrics, or empty when the agent has none")
            .default("/metrics")
            .describe(
                "Where the agent serves Prometheus metrics, read for the LLM latency gate; empty when it has none: nothing is requested, and HAProxy's average response time is judged instead (the report says so).",
            ),
        llmHistogram: z
            .string()
            .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/, "a Prometheus metric name such as agent_llm_latency_seconds")
            .default("agent_llm_latency_seconds")
            .describe("The histogram of the agent's LLM latency in seconds, whose p95 the latency gate judges."),
    })
    .strict();

export const MountSchema = z
    .object({
        source: z.string().min(1, "a host path (relative paths start at the project folder)").describe("The host folder or file."),
        target: z
            .string()
            .regex(/^\/[A-Za-z0-9._/-]{1,200}$/, "an absolute path inside the container, such as /models")
            .describe("Where the agent finds it."),
        readOnly: bool().default(true).describe("Mounted read-only (the default): a release never writes to what another release reads."),
    })
    .strict();

export const ReloadHookSchema = z
    .object({
        method: z.enum(["POST", "PUT", "GET"]).default("POST").describe("The reload request's method."),
        path: z
            .string()
            .regex(/^\/[A-Za-z0-9._~%/?=&:@+,;-]{0,200}$/, "a URL path starting with /, such as /admin/reload")
            .default("/admin/reload")
            .describe("Its path on the live agent (and query)."),
        body: z.string().max(4096, "at most 4096 characters").default("").describe("Its body (none if empty)."),
        contentType: z
            .string()
            .regex(/^[a-z]+\/[a-z0-9.+-]+$/, "a media type such as application/json")
            .default("application/json")
            .describe("Its Content-Type, when it has a body."),
        header: z
            .string()
            .regex(/^[A-Za-z0-9-]{1,64}$/, "a header name such as Authorization or X-Reload-Token")
            .default("Authorization")
            .describe("The header that carries the generated token."),
        scheme: z.enum(["bearer", "plain"]).default("bearer").describe("bearer: the header says 'Bearer <token>'; plain: the token alone."),
        tokenEnv: envNameOf("RELOAD_TOKEN").describe(
            "The variable the agent finds the token in (generated by the stack, secret in state), to check the header against.",
        ),
    })
    .strict();

export const ReindexSchema = z
    .object({
        mode: z
            .enum(["endpoint", "hook", "release"])
            .default("endpoint")
            .describe(
                "How a knowledge change reaches the agent. endpoint: POST /admin/reindex on the live agent, in place (the reference agent's; an agent without that endpoint fails the update). hook: the request agent.reindex.hook describes, on the live agent, in place: a 2xx answer is done. release: the knowledge folder's content is part of the release, so a change is a new release, blue/green like any other (for agents that read their knowledge at start).",
            ),
        hook: ReloadHookSchema.prefault({}).describe("mode hook: the agent's own reload request."),
        scope: z
            .enum(["full", "incremental"])
            .default("incremental")
            .describe("Reindex scope on a knowledge change: 'incremental' re-parses only changed files."),
        timeoutSeconds: seconds(5, 3600).default(120).describe("How long `pulumi up` waits for a knowledge reindex to finish."),
    })
    .strict();

/** A registry's content digest of an image (agent.digest, `npm run release -- --digest`). */
export const ContentDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a content digest: sha256: and 64 lower-case hex digits");

const pathPrefix = z
    .string()
    .regex(/^\/[A-Za-z0-9._~%/-]{0,200}$/, "a path prefix starting with /, such as /telegram (letters, digits and ._~%/-)");

export const ConversationKeySchema = z
    .object({
        preset: z
            .enum(Object.keys(PRESETS) as [Preset, ...Preset[]])
            .default("x-conversation-id")
            .describe(
                "Where a message's conversation key is. x-conversation-id: the X-Conversation-Id header on /v1/chat (the reference agent's). telegram: a Telegram Bot API update's chat (message, edited_message, callback_query.message). whatsapp: a WhatsApp Cloud API notification's sender (messages[0].from, or a status's recipient_id). A message with a key stays on the release that answered its conversation's first message.",
            ),
        from: z
            .enum(KEY_SOURCES)
            .optional()
            .describe(
                "A key of your own instead of a preset: header, query (parameter), cookie, or json (paths in the request body); with names.",
            ),
        names: z
            .array(z.string())
            .min(1)
            .max(4)
            .optional()
            .describe(
                "With from: the header, parameter or cookie name, or up to four JSON paths tried in order (such as $.message.chat.id).",
            ),
        paths: z
            .array(pathPrefix)
            .min(1)
            .max(8)
            .optional()
            .describe(
                "Path prefixes on which messages arrive (the preset's, or / for a key of your own); other requests are balanced and never pinned.",
            ),
    })
    .strict()
    .superRefine((c, ctx) => {
        if ((c.from === undefined) !== (c.names === undefined))
            ctx.addIssue({
                code: "custom",
                path: [c.from === undefined ? "from" : "names"],
                message: "from and names go together: where the key is, and its names",
            });
        if (!c.from || !c.names) return;
        const form = NAME_FORMS[c.from];
        c.names.forEach((n, i) => {
            if (!form.pattern.test(n))
                ctx.addIssue({ code: "custom", path: ["names", i], message: `${JSON.stringify(n)} is not ${form.says}` });
        });
    });

/** An environment variable's name, with a default. */
function envNameOf(fallback: string) {
    return z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, "environment variable names are upper-case letters, digits and _, such as RELOAD_TOKEN")
        .default(fallback);
}

/** The variables every release sets itself (components/agentRelease.ts), which a secret may not take. */
export const RESERVED_ENV = [
    "AGENT_VERSION",
    "PORT",
    "RELEASE_ID",
    "LLM_PROVIDER",
    "LLM_BASE_URL",
    "LLM_MODEL",
    "SHUTDOWN_GRACE_MS",
    "ADMIN_TOKEN_FILE",
];

const envName = z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "environment variable names are upper-case letters, digits and _, such as LOG_LEVEL");

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
        port: num()
            .pipe(z.number().int().min(1).max(65535))
            .default(8080)
            .describe(
                "The port the agent listens on inside its container (also given to it as PORT). Changing it is a release like any other: the proxy reaches each release on its own port.",
            ),
        memoryMb: num().pipe(z.number().int().min(64).max(65536)).default(512).describe("Memory limit of each agent container (MB)."),
        cpus: numberText(/^(0\.\d{1,3}|[1-9]\d{0,2}(\.\d{1,3})?)$/, "a number of CPUs such as 0.5, 1 or 2.5")
            .optional()
            .describe("CPUs each agent container may use at most (Docker's --cpus); unset: no limit."),
        gpus: numberText(
            /^(all|[1-9]\d?|device=[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*)$/,
            "all, a count such as 1, or device= and GPU ids such as device=0,1",
        )
            .optional()
            .describe(
                "GPUs each agent container gets (Docker's --gpus; the engine needs the NVIDIA runtime). A release runs beside the live one: with device=, both share those GPUs' memory, which is not checked before a release.",
            ),
        restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped").describe("Docker restart policy."),
        knowledgeDir: z
            .string()
            .default("knowledge")
            .describe(
                "Knowledge base folder. Hot-reloaded (agent.reindex.mode endpoint or hook): `pulumi up` copies it into the stack's volume <app>-knowledge, which the agents mount read-only at agent.knowledgePath, so editing the folder changes nothing until a reload accepts it (and a reload that fails the evaluation set puts the previous files back); with mode release the folder itself is mounted.",
            ),
        knowledgePath: z
            .string()
            .regex(/^\/[A-Za-z0-9._/-]{1,200}$/, "an absolute path inside the container, such as /app/knowledge")
            .default("/app/knowledge")
            .describe("Where the agent finds the knowledge base inside its container."),
        configDir: z.string().default("agent-config").describe("Agent configuration folder, mounted read-only at /app/config."),
        mounts: z
            .array(MountSchema)
            .max(16)
            .default([])
            .describe(
                "Host folders or files the agent reads besides its knowledge and config (a local model's weights, for example), each mounted at its target, read-only unless said otherwise. A mount is part of the release: its paths, not its content.",
            ),
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
            .record(envName, z.union([z.string(), z.number(), z.boolean()]).transform(String))
            .default({})
            .describe("Extra environment variables."),
        secrets: z
            .record(
                envName,
                // A value of digits alone may come as a number, as `pulumi config set --path` stores one.
                z.preprocess((v) => (typeof v === "number" ? String(v) : v), z.string().min(1, "a secret's value is not empty")),
            )
            .default({})
            .describe(
                "Secrets the agent gets, by name (API tokens, an app secret). Set each one with `pulumi config set --secret --path 'agent.secrets.NAME'` (it asks for the value, or reads it from stdin: never on a command line): encrypted in the stack's config and state, never printed, never in the release id. Delivered as agent.secretsAs says.",
            ),
        secretsAs: z
            .enum(["env", "file"])
            .default("env")
            .describe(
                "How secrets reach the agent. env: environment variables of those names (whoever may use the Docker engine sees them in docker inspect). file: files /run/secrets/NAME (Docker's convention; one host only).",
            ),
        secretsRevision: num()
            .pipe(z.number().int().min(0))
            .default(0)
            .describe(
                "Part of the release id, unlike the secrets' values: a changed value reaches the agent with the next release; raise this to release a rotated secret by itself.",
            ),
        health: HealthSchema.prefault({}),
        conversation: ConversationKeySchema.prefault({}),
        metrics: MetricsSchema.prefault({}),
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
    })
    .superRefine((a, ctx) => {
        // Each target once: the knowledge base's, the config's and the mounts'.
        const targets = [a.knowledgePath, "/app/config"];
        a.mounts.forEach((m, i) => {
            if (targets.includes(m.target))
                ctx.addIssue({
                    code: "custom",
                    path: ["mounts", i, "target"],
                    message: `${m.target} is already a target (agent.knowledgePath, /app/config or another mount): one mount a target`,
                });
            targets.push(m.target);
        });
        // Variables the agent gets besides agent.env: its secrets, and a reload hook's token.
        const given: [string[], string][] = Object.keys(a.secrets).map((n) => [["secrets", n], n]);
        if (a.reindex.mode === "hook") given.push([["reindex", "hook", "tokenEnv"], a.reindex.hook.tokenEnv]);
        given.forEach(([path, name], i) => {
            const message =
                RESERVED_ENV.includes(name) || name.startsWith("FAULT_")
                    ? `a name the release sets itself (${RESERVED_ENV.join(", ")}, FAULT_*): choose another`
                    : name in a.env || given.some(([, other], k) => k < i && other === name)
                      ? `${name} is also set in agent.env, agent.secrets or as agent.reindex.hook.tokenEnv: one name, one value (remove one of them)`
                      : undefined;
            if (message) ctx.addIssue({ code: "custom", path, message });
        });
    });
