// What the SwarmProxy component gives the proxy nodes' labeller (platform/swarm/proxyNodes.ts):
// the node label the proxy's global service is constrained to, and the nodes that carry it.
import { z } from "zod";
import { EnvContract } from "./envContract";

export const ProxyNodesInputSchema = z.object({
    /** The node label (zdt.proxy.<app>); the proxy service runs where it is "true". */
    label: z.string().regex(/^zdt\.proxy\.[a-z0-9][a-z0-9-]*$/),
    /** The nodes' hostnames that run the proxy (swarm.nodes with proxy: true); every other node loses the label. */
    proxyNodes: z.array(z.string().min(1)).min(1),
});
export type ProxyNodesInput = z.output<typeof ProxyNodesInputSchema>;

export const proxyNodesContract = new EnvContract("proxy nodes", ProxyNodesInputSchema);
