// The config of an edge stack: one public port (and HTTPS) for several agent stacks on one
// host, routed by host name and optionally a path prefix (core/edgeRoutes.ts). It has the
// proxy section of an agent stack (port, listen address, TLS with a certificate or over
// ACME, base image, the maintenance switch) and an edge section instead of an agent.
// Why a stack of its own: docs/edge.md, "Several agents on one port".
import { z } from "zod";
import { bool } from "../core/values";
import { dockerName } from "./forms";
import { ProxySchema } from "./proxy";
import { hostName } from "./tls";

/** The app of an edge stack that names none. */
export const DEFAULT_EDGE_APP = "edge";

/** The edge's own config template (in the proxy folder, not part of the proxy image). */
export const EDGE_TEMPLATE = "proxy/haproxy-edge.cfg.tmpl";

export const RouteSchema = z
    .object({
        host: hostName.describe("The host name requests arrive for (the Host header; over HTTPS the handshake's SNI too)."),
        app: dockerName.describe(
            "The agent stack's app (its `app` setting). Its proxy joins the edge's network with proxy.edgeNetwork; the edge reaches it as <app>-proxy-port.",
        ),
        pathPrefix: z
            .string()
            .regex(/^(\/[A-Za-z0-9._~-]+)+$/, "a path such as /sales (letters, digits and . _ ~ -, no trailing slash)")
            .optional()
            .describe("Only requests under this path (/sales matches /sales and /sales/..., not /salesforce); without it, the whole host."),
        stripPrefix: bool().default(true).describe("Remove pathPrefix before forwarding (/sales/telegram reaches the agent as /telegram)."),
    })
    .strict();

export const EdgeSchema = z
    .object({
        routes: z
            .array(RouteSchema)
            .min(1, "at least one route (host, app)")
            .describe("Where each host name (and path prefix) goes: one agent stack's proxy each."),
    })
    .strict();

export const EdgeStackSchema = z
    .object({
        app: dockerName
            .default(DEFAULT_EDGE_APP)
            .describe("Prefix of every Docker object of the stack (not an agent stack's app); the edge's network is <app>-edge."),
        edge: EdgeSchema,
        proxy: ProxySchema.omit({ conversations: true, edgeNetwork: true })
            .safeExtend({
                listenAddress: ProxySchema.shape.listenAddress
                    .removeDefault()
                    .default("0.0.0.0")
                    .describe("Host address the edge publishes on: every interface, as channels reach it from the internet."),
                port: ProxySchema.shape.port
                    .removeDefault()
                    .default(80)
                    .describe("Host port of plain HTTP (redirected to HTTPS with TLS on; ACME's HTTP-01 challenges arrive here)."),
                configTemplate: ProxySchema.shape.configTemplate
                    .removeDefault()
                    .default(EDGE_TEMPLATE)
                    .describe("The edge's HAProxy config (with ${EDGE_BACKENDS} and ${EDGE_RULES}); a change is a seamless reload."),
            })
            .prefault({}),
    })
    .strict()
    .superRefine((c, ctx) => {
        const seen = new Set<string>();
        c.edge.routes.forEach((r, i) => {
            const key = `${r.host}${r.pathPrefix ?? ""}`;
            if (seen.has(key))
                ctx.addIssue({
                    code: "custom",
                    path: ["edge", "routes", i],
                    message: `a second route for ${key}; each host and prefix once`,
                });
            seen.add(key);
            if (c.proxy.tls.mode !== "off" && !c.proxy.tls.hosts.includes(r.host))
                ctx.addIssue({
                    code: "custom",
                    path: ["edge", "routes", i, "host"],
                    message: `${r.host} is not in proxy.tls.hosts (${c.proxy.tls.hosts.join(", ") || "none"}): the certificate must cover every routed host`,
                });
            if (r.app === c.app)
                ctx.addIssue({
                    code: "custom",
                    path: ["edge", "routes", i, "app"],
                    message: `the edge's own app (${c.app}); name an agent stack's app`,
                });
        });
    });
export type EdgeStackConfig = z.output<typeof EdgeStackSchema>;

/** Whether a stack's raw config is an edge stack's (it has an edge section). */
export function isEdgeConfig(raw: Record<string, unknown>): boolean {
    return raw.edge !== undefined;
}
