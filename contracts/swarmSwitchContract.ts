// What the TrafficSwitch component gives the switch on Docker Swarm (platform/swarm/swarmSwitch.ts):
// the one-host switch's input (contracts/switchContract.ts), where the proxy is the proxy's
// global service and the target its release service's tasks (tasks.<service>), plus the
// nodes whose proxies switch together and the sizes of the slots' server templates.
import { z } from "zod";
import { SwarmNodeSchema } from "../config/schema";
import { EnvContract } from "./envContract";
import { SwitchInputSchema } from "./switchContract";

const count = z.coerce.number().int().min(1).max(256);

export const SwarmSwitchInputSchema = SwitchInputSchema.extend({
    /** Every node of the swarm, each running a proxy task reached through the node's engine. */
    nodes: z.array(SwarmNodeSchema).min(1),
    /** Servers per slot template (ZDT_SLOT_SERVERS of the proxy service). */
    slotServers: count,
    /** Tasks of the new release: the health gate wants each of them up on every proxy. */
    replicas: count,
});
export type SwarmSwitchInput = z.output<typeof SwarmSwitchInputSchema>;

export const swarmSwitchContract = new EnvContract("traffic switch (swarm)", SwarmSwitchInputSchema);
