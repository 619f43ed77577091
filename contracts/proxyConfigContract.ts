// What the TrafficProxy component gives the proxy-config program (platform/docker/proxyConfig.ts):
// where the HAProxy config template is and what it must contain, and where it goes.
import { z } from "zod";
import { EnvContract } from "./envContract";
import { ProxyStateTargetSchema } from "./proxyStateTarget";
import { ConversationSettingsSchema } from "../config/proxySettings";
import { KEY_SOURCES } from "../core/conversationKey";
import { bool } from "../core/values";
import { RouteSchema } from "../config/edge";

export const ProxyConfigInputSchema = ProxyStateTargetSchema.extend({
    /** The template, relative to the project folder (proxy/haproxy.cfg.tmpl). */
    templatePath: z.string().min(1),
    /** Its content digest: a change is a reload of the running proxy. */
    templateDigest: z.string().regex(/^[0-9a-f]{64}$/),
    /** Written into the template (config/proxySettings.ts). */
    conversations: ConversationSettingsSchema,
    /** The agent's health endpoint the proxy checks (agent.health.path, expectStatus). */
    /** (Leaf names become variables: never PATH, so health and key fields carry a prefix.) */
    healthPath: z.string().startsWith("/"),
    healthStatus: z.coerce.number().int(),
    /** Where a message's conversation key is (core/conversationKey.ts, from agent.conversation). */
    keyPaths: z.array(z.string()).min(1),
    keyFrom: z.enum(KEY_SOURCES),
    keyNames: z.array(z.string()).min(1),
    /** HTTPS (proxy.tls): the host port clients reach it on (absent: off), and whether plain HTTP redirects there. */
    tlsHostPort: z.coerce.number().int().min(1).max(65535).optional(),
    tlsRedirectHttp: bool().default(true),
    /** proxy.tls.mode acme: ACME's challenges go to the certificate keeper. */
    tlsAcme: bool().default(false),
    /** An edge stack's routes (edge.routes, written into proxy/haproxy-edge.cfg.tmpl); none in an agent stack. */
    routes: z.array(RouteSchema).default([]),
});
export type ProxyConfigInput = z.output<typeof ProxyConfigInputSchema>;

export const proxyConfigContract = new EnvContract("proxy config", ProxyConfigInputSchema);
