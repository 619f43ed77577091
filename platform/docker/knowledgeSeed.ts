// Fills the knowledge volume with the knowledge folder when the stack is created, before
// the first agent mounts it (run by the KnowledgeVolume component's command). Later changes
// reach it through the reload (platform/docker/reindex.ts), evaluated, never through here.
import { writeFolder } from "../../docker/knowledgeVolume";
import { knowledgeSeedContract } from "../../contracts/knowledgeSeedContract";
import { runCommandProgram } from "../../contracts/commandProgram";

if (require.main === module)
    runCommandProgram("knowledge seed", knowledgeSeedContract, async (input) => {
        await writeFolder(input.volume, input.helperImage, input.knowledgeDir);
        return { said: `${input.volume} holds ${input.knowledgeDir}`, result: { volume: input.volume } };
    });
