// The stack config's swarm section (platform: swarm): replicas, the proxy image, the peers'
// port, every node (and which run the proxy), and where a release's tasks may run.
import { z } from "zod";
import { bool, num } from "../core/values";

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
        proxy: bool()
            .default(true)
            .describe(
                "Whether the proxy runs on this node (the program labels it; the proxy's global service runs on the labelled nodes only). false: a node for the agents' tasks only, reached for their memory.",
            ),
    })
    .strict();

/** The node attributes a Swarm placement constraint may test (`docker service create --constraint`). */
const CONSTRAINT =
    /^(node\.id|node\.hostname|node\.role|node\.platform\.os|node\.platform\.arch|node\.labels\.[A-Za-z0-9_.-]+|engine\.labels\.[A-Za-z0-9_.-]+)\s*(==|!=)\s*\S+$/;

/** What a spread preference may spread over: Swarm's scheduler reads node and engine labels only. */
const SPREAD = /^(node|engine)\.labels\.[A-Za-z0-9_.-]+$/;

export const PlacementSchema = z
    .object({
        constraints: z
            .array(
                z
                    .string()
                    .regex(
                        CONSTRAINT,
                        "a Swarm constraint: <attribute> == or != <value>, the attribute one of node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name>, engine.labels.<name> (such as node.role==worker)",
                    ),
            )
            .default([])
            .describe("Where a release's tasks may run: every constraint must hold (Swarm's AND), such as node.labels.agents==true."),
        spreadOver: z
            .array(
                z
                    .string()
                    .regex(
                        SPREAD,
                        "a node or engine label, such as node.labels.zone (Swarm spreads over nodes by itself; a preference spreads over a label's values)",
                    ),
            )
            .default([])
            .describe(
                "Spread preferences, highest first: a release's tasks are spread evenly over the values of each label (such as node.labels.zone: one task per zone before a second), then over the nodes.",
            ),
        maxReplicasPerNode: num()
            .pipe(z.number().int().min(0).max(32))
            .default(0)
            .describe(
                "At most this many tasks of a release on one node (0: no limit). A lost node's tasks then start elsewhere only where room is left.",
            ),
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
        proxyDrainSeconds: num()
            .pipe(z.number().int().min(0).max(300))
            .default(10)
            .describe(
                "Seconds a node's proxy keeps serving once Swarm stops it (a new proxy image, a node drained) while its readiness path (/zdt/ready) answers 503, so the load balancer in front takes the node out before it stops listening: at least the balancer's check interval times the failures it needs.",
            ),
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
            .refine((nodes) => nodes.some((n) => n.proxy), "at least one node must run the proxy (proxy: true)")
            .describe(
                "Every node of the swarm: its hostname, address and engine. The proxy is a global service on the nodes with proxy: true (all by default), one task on each; a node not listed runs none.",
            ),
        placement: PlacementSchema.default({ constraints: [], spreadOver: [], maxReplicasPerNode: 0 }).describe(
            "Where each release's tasks run: constraints, spread preferences and a per-node limit (a change is a new release, beside the live one).",
        ),
    })
    .strict();

export type SwarmPlacement = z.output<typeof PlacementSchema>;

/** Whether a placement leaves the tasks where Swarm puts them by itself (pure). */
export function placementIsDefault(p: SwarmPlacement): boolean {
    return p.constraints.length === 0 && p.spreadOver.length === 0 && p.maxReplicasPerNode === 0;
}

/** Whether a node runs the proxy (swarm.nodes[].proxy, true unless said otherwise; pure). */
export function runsProxy(node: { proxy?: boolean }): boolean {
    return node.proxy !== false;
}
