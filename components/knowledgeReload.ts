// Knowledge-base hot reload as a declarative diff: the content digest of the
// knowledge folder drives a command that reindexes the live agent in place. A
// knowledge change therefore plans exactly one update (this command) and replaces
// no container. It runs after the traffic switch, so it always reaches the release
// that serves (a new release indexes the current files when it starts anyway).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AGENT_PORT } from "./agentRelease";
import { folderDigest } from "./releaseId";

export interface KnowledgeReloadArgs {
    knowledgeDir: string;
    proxyContainer: pulumi.Input<string>;
    liveContainer: pulumi.Input<string>;
    adminToken: pulumi.Input<string>;
    scope: "full" | "incremental";
    timeoutSeconds: number;
}

export const REINDEX_COMMAND = "node -r ts-node/register/transpile-only scripts/reindex.ts";

export class KnowledgeReload extends pulumi.ComponentResource {
    readonly digest: string;
    readonly lastReindex: pulumi.Output<string>;

    constructor(name: string, args: KnowledgeReloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:KnowledgeReload", name, {}, opts);
        this.digest = folderDigest(args.knowledgeDir);
        const reindex = new command.local.Command(`${name}-reindex`, {
            // The agent indexes the folder when it starts; only later changes need a reindex.
            create: "echo '{}'",
            update: REINDEX_COMMAND,
            environment: {
                KNOWLEDGE_DIGEST: this.digest,
                PROXY_CONTAINER: args.proxyContainer,
                TARGET_CONTAINER: args.liveContainer,
                AGENT_PORT: String(AGENT_PORT),
                ADMIN_TOKEN: pulumi.secret(args.adminToken),
                REINDEX_SCOPE: args.scope,
                REINDEX_TIMEOUT_SECONDS: String(args.timeoutSeconds),
            },
            logging: "none",
        }, { parent: this, additionalSecretOutputs: ["stdout", "stderr"] });
        this.lastReindex = reindex.stdout;
        this.registerOutputs({ digest: this.digest, lastReindex: this.lastReindex });
    }
}
