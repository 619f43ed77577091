// Where a command resource's program writes into the proxy's state volume: the proxy
// container (written through it when it runs), and its volume and image (to write before it
// first starts). Part of the proxy-config and proxy-certificate contracts.
import { z } from "zod";

export const ProxyStateTargetSchema = z.object({
    proxyContainer: z.string().min(1),
    stateVolume: z.string().min(1),
    proxyImage: z.string().min(1),
});
export type ProxyStateTarget = z.output<typeof ProxyStateTargetSchema>;
