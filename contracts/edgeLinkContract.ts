// What the TrafficProxy component gives the edge link (platform/docker/edgeLink.ts): the edge's
// network (proxy.edgeNetwork) and the port holder that joins it.
import { z } from "zod";
import { EnvContract } from "./envContract";
import { dockerName } from "../config/forms";

export const EdgeLinkInputSchema = z.object({
    /** The edge stack's network (its output edgeNetwork). */
    edgeNetwork: dockerName,
    /** The port holder's container (its id: a new holder joins again). */
    portHolder: z.string().min(1),
    /** The name the edge's routes reach it by (<app>-proxy-port). */
    alias: z.string().min(1),
});
export type EdgeLinkInput = z.output<typeof EdgeLinkInputSchema>;

export const edgeLinkContract = new EnvContract("edge link", EdgeLinkInputSchema);
