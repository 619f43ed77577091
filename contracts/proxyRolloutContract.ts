// What the SwarmProxy component gives the proxy's rollout wait (platform/swarm/proxyRollout.ts):
// the proxy's global service, the image its tasks must run, and how long the rolling update may take.
import { z } from "zod";
import { EnvContract } from "./envContract";

export const ProxyRolloutInputSchema = z.object({
    /** The proxy's global service (<app>-proxy). */
    service: z.string().min(1),
    /** The image every task must run once the update is over (swarm.proxyImage). */
    image: z.string().min(1),
    /** The most the rolling update may take before the wait fails. */
    timeoutSeconds: z.coerce.number().int().min(1),
});
export type ProxyRolloutInput = z.output<typeof ProxyRolloutInputSchema>;

export const proxyRolloutContract = new EnvContract("proxy rollout", ProxyRolloutInputSchema);
