// The proxy's conversation settings: the schema (the stack config's proxy.conversations,
// its single source of defaults and documentation) and the variables HAProxy's config
// templates read them from. One host: proxy-config writes them into the template it
// delivers, so a change is a seamless reload. Swarm: the proxy service's environment.
import { z } from "zod";
import { type ConversationKey, keyRules, PRESETS } from "../core/conversationKey";
import { type AgentHealth, haproxyExpect, HEALTH_DEFAULTS } from "../core/health";
import { bool, num } from "../core/values";
import { ACME_BACKEND, PROXY_TLS_INTERNAL_PORT, TLS_DIR } from "../core/proxyNames";
import { type EdgeRoute, edgeLines } from "../core/edgeRoutes";

/** A conversation's entries at most: its pin and its four counts (core/conversationTables.ts). */
export const ENTRIES_PER_CONVERSATION = 5;

/** Measured on HAProxy 2.6 (README, "Conversations"): bytes per entry of a table keyed by a conversation id of up to 64 characters. */
export const TABLE_ENTRY_BYTES = 260;

export const ConversationSettingsSchema = z
    .object({
        tableSize: num()
            .pipe(z.number().int().min(1_000).max(2_000_000))
            .default(100_000)
            .describe(
                `Pinned conversations the proxy can hold (entries of its stick table). A conversation costs up to five entries of about ${TABLE_ENTRY_BYTES} bytes (its pin and four counts): about 125 MB at the default when full. The proxy's memory limit follows (384 MB at the default; a change of it starts a new proxy, which takes the table over). A full table evicts the oldest pins; the status view and the release report warn from 90 %.`,
            ),
        idleTimeoutSeconds: num()
            .pipe(z.number().int().min(1).max(86_400))
            .default(600)
            .describe(
                "A conversation silent for longer loses its pin (its next message starts over on the live release) and stops counting as active. The table must hold every conversation that starts within this time.",
            ),
        quietSeconds: num()
            .pipe(z.number().int().min(1).max(86_400))
            .default(30)
            .describe(
                "A conversation whose last answer is older than this is between exchanges (on a messaging channel: the customer read the answer and did not write back within this time): a retiring release whose pinned conversations are all between exchanges has none under way, and the drain before its retirement stops waiting; the conversations still pinned to it move to the new release at their next message. Above the longest pause of a customer mid-exchange; at most idleTimeoutSeconds (a larger value acts as idleTimeoutSeconds: the drain then waits for every pin to expire, up to release.drainTimeoutSeconds).",
            ),
        pinKeyless: bool()
            .default(false)
            .describe(
                "A message without a valid key when the key is a header (agent.conversation; X-Conversation-Id by default). false: balanced, and no table entry (a conversation is pinned from its first message that carries a key, as channel webhooks do). true: the proxy gives it a new id, returned in X-Conversation-Id, and pins it, for clients that start a conversation keyless and send the id back; every keyless message then costs an entry, so a flood of them can fill the table.",
            ),
    })
    .strict();
export type ConversationSettings = z.output<typeof ConversationSettingsSchema>;

/**
 * The proxy container's memory limit for a table size: HAProxy itself (128 MB with room),
 * and the tables full in two workers at once (a seamless reload keeps the old worker, with
 * its copy of the tables, until its last connection ends), in steps of 64 MB.
 */
export function proxyMemoryMb(tableSize: number): number {
    const tablesMb = (2 * tableSize * ENTRIES_PER_CONVERSATION * TABLE_ENTRY_BYTES) / (1024 * 1024);
    return Math.ceil((128 + tablesMb) / 64) * 64;
}

/** What the proxy's config templates are given: the conversation table, where a conversation's key is, the agent's health endpoint. */
export interface TemplateSettings {
    conversations: ConversationSettings;
    conversationKey?: ConversationKey;
    agentHealth?: AgentHealth;
    /** HTTPS (proxy.tls): the host port clients reach it on, and whether plain HTTP redirects there. Absent: off. */
    tls?: TemplateTls;
    /** An edge stack's routes (proxy/haproxy-edge.cfg.tmpl); none in an agent stack. */
    routes?: readonly EdgeRoute[];
}

export interface TemplateTls {
    hostPort: number;
    redirectHttp: boolean;
    /** proxy.tls.mode acme: ACME's HTTP-01 challenges go to the certificate keeper (backend zdt_acme). */
    acme?: boolean;
}

/** The path HTTP-01 challenges of ACME arrive on: never redirected to HTTPS. */
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

/**
 * The frontend's HTTPS lines (pure): the TLS listener over the certificate folder, and the
 * rules that say so to the agent (X-Forwarded-Proto) and send plain HTTP from outside to
 * HTTPS (a 308 keeps a webhook's method and body). The proxy's own probes (from inside its
 * container) and ACME challenges stay on plain HTTP.
 */
export function tlsLines(tls: TemplateTls | undefined): { bind: string; rules: string } {
    if (!tls) return { bind: "", rules: "" };
    const port = tls.hostPort === 443 ? "" : `:${tls.hostPort}`;
    const rules = [
        "  http-request set-header X-Forwarded-Proto https if { ssl_fc }",
        ...(tls.redirectHttp
            ? [
                  `  http-request redirect location https://%[req.hdr(host),field(1,:)]${port}%[capture.req.uri] code 308 if !{ ssl_fc } !{ src 127.0.0.1 } { req.hdr(host) -m found } !{ path_beg ${ACME_CHALLENGE_PATH} }`,
              ]
            : []),
        ...(tls.acme ? [`  use_backend ${ACME_BACKEND} if { path_beg ${ACME_CHALLENGE_PATH} } !{ ssl_fc }`] : []),
    ];
    return { bind: `  bind :${PROXY_TLS_INTERNAL_PORT} ssl crt ${TLS_DIR}/ alpn http/1.1`, rules: rules.join("\n") };
}

/** How long after its last answer a conversation is between exchanges: quietSeconds, at most the idle timeout (a pin lasts no longer). */
export function quietSecondsOf(c: Pick<ConversationSettings, "quietSeconds" | "idleTimeoutSeconds">): number {
    return Math.min(c.quietSeconds, c.idleTimeoutSeconds);
}

/**
 * The variables the config templates read (proxy/haproxy.cfg.tmpl, proxy/haproxy-swarm.cfg.tmpl).
 * CONVERSATION_RULES is several lines (core/conversationKey.ts); PIN_KEYLESS stays for
 * templates of earlier versions.
 */
export function proxyEnvironment(s: TemplateSettings): Record<string, string> {
    const c = s.conversations;
    const health = s.agentHealth ?? HEALTH_DEFAULTS;
    const tls = tlsLines(s.tls);
    const edge = edgeLines(s.routes ?? []);
    return {
        CONVERSATION_TABLE_SIZE: String(c.tableSize),
        CONVERSATION_IDLE_TIMEOUT: `${c.idleTimeoutSeconds}s`,
        CONVERSATION_QUIET_TIMEOUT: `${quietSecondsOf(c)}s`,
        PIN_KEYLESS: c.pinKeyless ? "yes" : "no",
        CONVERSATION_RULES: keyRules(s.conversationKey ?? PRESETS["x-conversation-id"], c.pinKeyless)
            .map((line) => `  ${line}`)
            .join("\n"),
        HEALTH_PATH: health.path,
        HEALTH_EXPECT: haproxyExpect(health.expectStatus),
        TLS_BIND: tls.bind,
        TLS_RULES: tls.rules,
        EDGE_RULES: edge.rules,
        EDGE_BACKENDS: edge.backends,
    };
}

/**
 * Swarm: the variables as the proxy service's environment. The key's rules are several
 * lines, and an environment variable may travel through an env file (one line a variable):
 * they go base64-encoded, and start-proxy decodes them.
 */
export function serviceEnvironment(s: TemplateSettings): Record<string, string> {
    // HTTPS is one host's only (config/schema.ts, platformProblems): its variables stay out of the service's spec.
    // So is an edge (one host's too): its routes are not the service's either.
    const {
        CONVERSATION_RULES: rules,
        TLS_BIND: _bind,
        TLS_RULES: _rules,
        EDGE_RULES: _routes,
        EDGE_BACKENDS: _backends,
        ...rest
    } = proxyEnvironment(s);
    return { ...rest, CONVERSATION_RULES_B64: Buffer.from(rules, "utf8").toString("base64") };
}

/**
 * One host: the template with the settings written in (each \${NAME} of proxyEnvironment),
 * so a change of them is a change of the template, which the proxy takes by a seamless
 * reload. start-proxy fills in the rest (the container's own variables).
 */
export function withSettings(template: string, s: TemplateSettings): string {
    let out = template;
    // start-proxy expands the template as a shell here-document: a dollar sign written in stays one.
    for (const [name, value] of Object.entries(proxyEnvironment(s))) out = out.split("${" + name + "}").join(value.replace(/\$/g, "\\$"));
    return out;
}
