// The release this run replaced retires only after the verification passed: its pinned
// conversations finish on it (engine/conversationDrain.ts), then its container drains with
// this run's drainTimeoutSeconds and stops; Pulumi then deletes it, no longer declared.
// Images: the one just retired is kept (a roll back needs no build or pull), the one kept
// before it is removed.
import type { SwitchResult } from "../contracts/switchContract";
import { type ImageRecord, imageToPrune } from "../core/images";
import { drainConversations } from "./conversationDrain";
import { checkpoint, type SwitchRun } from "./switchRun";

export interface Retired {
    retirement: SwitchResult["retirement"];
    keptImage: ImageRecord | null;
    prunedImage: string | null;
}

export async function retire(run: SwitchRun): Promise<Retired> {
    const { deps, input, live, slot, before, liveInfo } = run;
    const { clock, log } = deps;
    let keptImage: ImageRecord | null = deps.lastRun?.keptImage ?? null;
    if (!live || live === slot) return { retirement: null, keptImage, prunedImage: null };
    const container = before[live].fqdn;
    const drainMs = input.drainTimeoutSeconds * 1000;
    const retiredState = await deps.containers.state(container);

    const conversations = await drainConversations(deps.admin, live, slot, drainMs, {
        clock,
        log,
        checkpoint: (phase) => checkpoint(run, phase),
    });
    log(`retiring ${liveInfo?.release ?? container}: draining for up to ${input.drainTimeoutSeconds}s`);
    const retireStart = clock.now();
    const streamsCut = await deps.retire(container, drainMs);
    const retirement = { container, drainMs, tookMs: clock.now() - retireStart, streamsCut, conversations };
    log(`retired ${container}${streamsCut ? `: ${streamsCut} streams outlived the drain and got a final 'retired' event` : ""}`);

    const retiredImage = retiredState ? { id: retiredState.imageId, ref: retiredState.imageRef } : null;
    const liveImage = (await deps.containers.state(input.targetContainer))?.imageId;
    const prune = imageToPrune(keptImage, retiredImage, liveImage);
    let prunedImage: string | null = null;
    if (prune) {
        const outcome = await deps.removeImage(prune);
        log(outcome.detail);
        if (outcome.removed) prunedImage = prune.ref;
    }
    keptImage = retiredImage ?? keptImage;
    if (keptImage) log(`kept image ${keptImage.ref} of the retired release for a roll back`);
    return { retirement, keptImage, prunedImage };
}
