// Knowledge-base hot reload as a declarative diff: the content digest of the
// knowledge folder drives a command that reindexes the live agent in place. A
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

type ReloadHook = AgentConfig["reindex"]["hook"];

export interface KnowledgeReloadArgs {
    knowledgeDir: string;
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
            { parent: this, additionalSecretOutputs: ["stdout", "stderr"] },
        );
        this.lastReindex = reindex.stdout;
        this.registerOutputs({ digest: this.digest, lastReindex: this.lastReindex });
    }
}
