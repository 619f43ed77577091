// The stack config's swarm section (platform: swarm): replicas, the proxy image, the peers'
// port and every node.
import { z } from "zod";
import { num } from "../core/values";

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
