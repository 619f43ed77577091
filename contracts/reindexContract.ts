// What the KnowledgeReload component gives the reindex program (platform/docker/reindex.ts),
// and what the program returns. The admin token is not part of it: it reaches the
// program on stdin, a separate secret input, so every setting here stays visible in a
// preview diff and the token appears in no environment and on no command line.
import { z } from "zod";
import { ReindexSchema, ReloadHookSchema } from "../config/schema";
import { EnvContract } from "./envContract";

export const ReindexInputSchema = z.object({
    /** Content digest of the knowledge folder: the value whose change triggers a reindex. */
    knowledgeDigest: z.string().regex(/^[0-9a-f]{64}$/),
    /**
     * The app. The program reaches the agent through the proxy that serves it now (`docker
     * exec ... curl`), and the live agent is the one that proxy serves, both read at run
     * time: a release (a new agent container) or a new proxy does not change this input
     * and does not run a reindex.
     */
    app: z.string().min(1),
    /** The port the agents listen on. */
    agentPort: z.coerce.number().int().min(1).max(65535),
    reindexScope: ReindexSchema.shape.scope,
    reindexTimeoutSeconds: ReindexSchema.shape.timeoutSeconds,
    /** endpoint: the reference agent's /admin/reindex (asynchronous, its status polled); hook: the request below, done at a 2xx answer. */
    reindexMode: z.enum(["endpoint", "hook"]).default("endpoint"),
    hookMethod: ReloadHookSchema.shape.method,
    hookPath: ReloadHookSchema.shape.path,
    hookBody: ReloadHookSchema.shape.body,
    hookContentType: ReloadHookSchema.shape.contentType,
    hookHeader: ReloadHookSchema.shape.header,
    hookScheme: ReloadHookSchema.shape.scheme,
});
export type ReindexInput = z.output<typeof ReindexInputSchema>;

export const reindexContract = new EnvContract("knowledge reindex", ReindexInputSchema);

export const ReindexResultSchema = z.object({
    /** The reference agent's index generation; a hook's answer has none. */
    generation: z.number().optional(),
    /** A hook's answer status. */
    status: z.number().optional(),
    scope: z.string().optional(),
    agentMs: z.number().optional(),
    totalMs: z.number(),
    reparsed: z.array(z.string()),
});
export type ReindexResult = z.output<typeof ReindexResultSchema>;
