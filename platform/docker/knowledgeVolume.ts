// The knowledge base the agents serve, as a Docker volume of the stack's own (one host, hot
// reload): filled from the knowledge folder when the stack is created, then changed only by
// the reload (KnowledgeReload), which keeps the previous files to put back when the new
// ones fail the evaluation set. The agents mount it read-only; editing the working folder
// changes nothing until `pulumi up` accepts it.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { knowledgeSeedContract } from "../../contracts/knowledgeSeedContract";
import { knowledgeVolumeName } from "../../core/proxyNames";
import { programCommand } from "../../components/compiledPrograms";

export const KNOWLEDGE_SEED_PROGRAM = "platform/docker/knowledgeSeed.ts";

export interface KnowledgeVolumeArgs {
    app: string;
    /** The knowledge folder (agent.knowledgeDir, resolved). */
    knowledgeDir: string;
    /** An image with sh and tar the engine has (the proxy's), for the copy. */
    helperImage: pulumi.Input<string>;
}

export class KnowledgeVolume extends pulumi.ComponentResource {
    readonly volumeName: pulumi.Output<string>;
    /** Done once the volume holds the folder: the agents' containers wait for it. */
    readonly seeded: command.local.Command;

    constructor(name: string, args: KnowledgeVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:KnowledgeVolume", name, {}, opts);
        const volume = new docker.Volume(
            `${name}-volume`,
            { name: knowledgeVolumeName(args.app), labels: [{ label: "zdt.app", value: args.app }] },
            { parent: this },
        );
        this.volumeName = volume.name;
        this.seeded = new command.local.Command(
            `${name}-seed`,
            {
                create: programCommand(KNOWLEDGE_SEED_PROGRAM),
                // A new proxy image (the helper) or folder path is no new content: the reload
                // writes content, evaluated; this command only fills a new volume.
                update: "echo '{}'",
                environment: knowledgeSeedContract.encode({
                    volume: volume.name,
                    knowledgeDir: args.knowledgeDir,
                    helperImage: args.helperImage,
                }),
                logging: "stderr",
            },
            { parent: this },
        );
        this.registerOutputs({ volumeName: this.volumeName });
    }
}
