// The edge's routes as HAProxy lines (pure). An edge stack publishes one public port (and
// HTTPS) for several agent stacks: a route sends a host name, and optionally a path prefix
// under it, to one agent stack's own proxy, reached on the edge's network by the name of
// that stack's port holder. The agent stack keeps its proxy, its slots, its canaries and its
// pinned conversations; the edge only forwards (docs/edge.md, "Several agents on one port").
import { PROXY_INTERNAL_PORT, portHolderName } from "./proxyNames";

export interface EdgeRoute {
    /** The host name (Host header, and the TLS handshake's SNI over HTTPS). */
    host: string;
    /** The agent stack's app (its `app` setting): its port holder is `<app>-proxy-port`. */
    app: string;
    /** Only requests under this path ("/sales" matches /sales and /sales/..., not /salesforce). */
    pathPrefix?: string;
    /** Remove the prefix before forwarding (/sales/telegram reaches the agent as /telegram). */
    stripPrefix: boolean;
}

/** The Docker network an edge stack creates; agent stacks join their port holder to it (proxy.edgeNetwork). */
export function edgeNetworkName(edgeApp: string): string {
    return `${edgeApp}-edge`;
}

/** The most specific first: a route with a prefix before the host's route without one, longer prefixes first. */
export function orderedRoutes(routes: readonly EdgeRoute[]): EdgeRoute[] {
    return routes
        .map((route, i) => ({ route, i }))
        .sort((a, b) => (b.route.pathPrefix?.length ?? 0) - (a.route.pathPrefix?.length ?? 0) || a.i - b.i)
        .map(({ route }) => route);
}

/** The backend of the i-th route (in the config's order): one per route, as a prefix may be stripped. */
export function routeBackendName(route: EdgeRoute, index: number): string {
    return `route${index + 1}_${route.app}`;
}

function escapeRegex(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The frontend's rules and the backends. Over HTTPS a route matches when the Host header
 * and the handshake's SNI both name its host (a request naming another host than the one
 * it shook hands for gets no route); over plain HTTP the Host header alone.
 */
export function edgeLines(routes: readonly EdgeRoute[]): { rules: string; backends: string } {
    const names = new Map(routes.map((r, i) => [r, routeBackendName(r, i)]));
    const rules = orderedRoutes(routes).map((r) => {
        const host = `{ req.hdr(host),field(1,:),lower -m str ${r.host} }`;
        const path = r.pathPrefix ? ` { path_reg ^${escapeRegex(r.pathPrefix)}(/|$) }` : "";
        return `  use_backend ${names.get(r)} if ${host}${path} !{ ssl_fc } || ${host}${path} { ssl_fc_sni -i ${r.host} }`;
    });
    const backends = routes.map((r, i) => {
        const lines = [
            `backend ${routeBackendName(r, i)}`,
            `  # ${r.host}${r.pathPrefix ?? ""} -> the proxy of the agent stack ${r.app}`,
            "  option forwardfor",
            ...(r.pathPrefix && r.stripPrefix ? [`  http-request replace-path ^${escapeRegex(r.pathPrefix)}/?(.*)$ /\\1`] : []),
            `  server ${r.app} ${portHolderName(r.app)}:${PROXY_INTERNAL_PORT} check inter 2s resolvers docker init-addr last,none`,
        ];
        return lines.join("\n");
    });
    return { rules: rules.join("\n"), backends: backends.join("\n\n") };
}
