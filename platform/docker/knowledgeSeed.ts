// Fills the knowledge volume with the knowledge folder when the stack is created, before
// the first agent mounts it (run by the KnowledgeVolume component's command). Later changes
// reach it through the reload (platform/docker/reindex.ts), evaluated, never through here.
import { writeFolder } from "../../docker/knowledgeVolume";
import { knowledgeSeedContract } from "../../contracts/knowledgeSeedContract";
import { folderDigest } from "../../components/releaseId";

if (require.main === module) {
    (async () => {
        const input = knowledgeSeedContract.decode(process.env);
        await writeFolder(input.volume, input.helperImage, input.knowledgeDir);
        process.stdout.write(JSON.stringify({ volume: input.volume, digest: folderDigest(input.knowledgeDir) }) + "\n");
    })().catch((err: Error) => {
        process.stderr.write(`knowledge seed: ${err.message}\n`);
        process.exit(1);
    });
}
