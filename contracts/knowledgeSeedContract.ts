// What the KnowledgeVolume component gives its program (platform/docker/knowledgeSeed.ts):
// the volume the agents mount and the folder that fills it when the stack is created.
// Content changes are not part of it: they are the reload's (contracts/reindexContract.ts).
import { z } from "zod";
import { EnvContract } from "./envContract";

export const KnowledgeSeedInputSchema = z.object({
    /** The Docker volume the agents mount read-only at agent.knowledgePath. */
    volume: z.string().min(1),
    /** The knowledge folder on the machine that runs `pulumi up` (agent.knowledgeDir, resolved). */
    knowledgeDir: z.string().min(1),
    /** An image with sh and tar that the engine already has (the proxy's): the copy's helper container. */
    helperImage: z.string().min(1),
});
export type KnowledgeSeedInput = z.output<typeof KnowledgeSeedInputSchema>;

export const knowledgeSeedContract = new EnvContract("knowledge seed", KnowledgeSeedInputSchema);
