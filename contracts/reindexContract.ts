// What the KnowledgeReload component gives the reindex program (platform/docker/reindex.ts),
// and what the program returns. The admin token is not part of it: it reaches the
// program on stdin, a separate secret input, so every setting here stays visible in a
// preview diff and the token appears in no environment and on no command line.
import { z } from "zod";
import { ReindexSchema, ReloadHookSchema } from "../config/schema";
import { EnvContract } from "./envContract";
import { EvaluationInputSchema, EvaluationRecordSchema } from "./switchContract";

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
    /** The knowledge folder on the machine that runs `pulumi up`: the files this reload puts in the volume. */
    knowledgeDir: z.string().min(1),
    /** The volume the agents mount (KnowledgeVolume): its files before the reload are kept for a rollback. */
    volume: z.string().min(1),
    /** The proxy's port inside its container: the evaluation's turns go through it, pinned to the live slot. */
    proxyPort: z.coerce.number().int().min(1).max(65535),
    /**
     * The evaluation set (release.evaluation), replayed on the live release before the reindex
     * and after it: a regression puts the previous files back, reindexes them, and fails the update.
     */
    evaluation: EvaluationInputSchema.prefault({}),
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
    /** The set before the reindex ("live") and after it ("next"), side by side; null without a set. */
    evaluation: EvaluationRecordSchema.nullable().default(null),
});
export type ReindexResult = z.output<typeof ReindexResultSchema>;
