// Knowledge-base hot reload as a declarative diff: the content digest of the
// knowledge folder drives a command that puts the folder in the stack's knowledge volume
// (KnowledgeVolume) and reindexes the live agent in place, the evaluation set replayed
// before and after (a regression puts the previous files back). A
// knowledge change therefore plans exactly one update (this command) and replaces
// no container. Its inputs name neither the live container nor the proxy (the program
// finds the serving proxy and asks it which release serves), so a release or a new proxy
// does not run it: a new release indexes the current
// files when it starts. It runs after the traffic switch, so it reaches the release
// that serves.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { reindexContract } from "../../contracts/reindexContract";
import { folderDigest } from "../../components/releaseId";
import type { AgentConfig } from "../../config/schema";
import { programCommand } from "../../components/compiledPrograms";
import type { EvaluationInput } from "../../components/evaluationSet";
import { PROXY_INTERNAL_PORT } from "../../core/proxyNames";

type ReloadHook = AgentConfig["reindex"]["hook"];

export interface KnowledgeReloadArgs {
    knowledgeDir: string;
    /** The volume the agents mount (KnowledgeVolume). */
    volume: pulumi.Input<string>;
    /** The evaluation set, replayed before and after the reindex (components/evaluationSet.ts); none: nothing is replayed. */
    evaluation?: EvaluationInput;
    /** The app: the program reaches the live agent through whichever proxy serves it. */
    app: string;
    /** The port the agent listens on (agent.port). */
    agentPort: number;
    adminToken: pulumi.Input<string>;
    scope: "full" | "incremental";
    timeoutSeconds: number;
    /** agent.reindex.mode (endpoint or hook) and, for a hook, the agent's own reload request. */
    mode: "endpoint" | "hook";
    hook: ReloadHook;
}

export const REINDEX_PROGRAM = "platform/docker/reindex.ts";

export class KnowledgeReload extends pulumi.ComponentResource {
    readonly digest: string;
    readonly lastReindex: pulumi.Output<string>;

    constructor(name: string, args: KnowledgeReloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:KnowledgeReload", name, {}, opts);
        this.digest = folderDigest(args.knowledgeDir);
        const reindex = new command.local.Command(
            `${name}-reindex`,
            {
                // The agent indexes the folder when it starts; only later changes need a reindex.
                create: "echo '{}'",
                update: programCommand(REINDEX_PROGRAM),
                environment: reindexContract.encode({
                    knowledgeDigest: this.digest,
                    app: args.app,
                    agentPort: args.agentPort,
                    knowledgeDir: args.knowledgeDir,
                    volume: args.volume,
                    proxyPort: PROXY_INTERNAL_PORT,
                    ...(args.evaluation ? { evaluation: args.evaluation } : {}),
                    reindexScope: args.scope,
                    reindexTimeoutSeconds: args.timeoutSeconds,
                    reindexMode: args.mode,
                    ...(args.mode === "hook"
                        ? {
                              hookMethod: args.hook.method,
                              hookPath: args.hook.path,
                              hookBody: args.hook.body,
                              hookContentType: args.hook.contentType,
                              hookHeader: args.hook.header,
                              hookScheme: args.hook.scheme,
                          }
                        : {}),
                }),
                // The token is its own secret input; every setting above stays visible in a diff.
                stdin: pulumi.secret(args.adminToken),
                logging: "none",
            },
            { parent: this, additionalSecretOutputs: ["stderr"] },
        );
        // The result holds no secret (file names, timings, the evaluation's answers); the
        // judge's key and the token among the inputs would keep it secret, unreadable in outputs.
        this.lastReindex = pulumi.unsecret(reindex.stdout);
        this.registerOutputs({ digest: this.digest, lastReindex: this.lastReindex });
    }
}
