// What the TrafficProxy component gives the proxy hand-over (platform/docker/proxyHandover.ts): the
// proxy that serves from now on.
import { z } from "zod";
import { EnvContract } from "./envContract";

export const ProxyHandoverInputSchema = z.object({
    app: z.string().min(1),
    /** The proxy container that takes over (its id: a new one is a new hand-over). */
    proxyContainer: z.string().min(1),
    proxyContainerId: z.string().min(1),
});
export type ProxyHandoverInput = z.output<typeof ProxyHandoverInputSchema>;

export const proxyHandoverContract = new EnvContract("proxy hand-over", ProxyHandoverInputSchema);
