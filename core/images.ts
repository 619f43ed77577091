// Which retired release's image to remove (pure): the live release's image and the one
// just retired stay (a roll back needs no build or pull); docker/images.ts removes it.

/** An image a retired release ran: its id, and the reference its container was created from. */
export interface ImageRecord {
    id: string;
    ref: string;
}

/**
 * The image to remove after a retirement (pure): the one kept at the previous retirement,
 * unless it is the image kept now or the live release's (a roll back to it, or a release
 * with the same content).
 */
export function imageToPrune(
    keptBefore: ImageRecord | null | undefined,
    keptNow: ImageRecord | null | undefined,
    liveImageId: string | undefined,
): ImageRecord | undefined {
    if (!keptBefore) return undefined;
    if (keptBefore.id === keptNow?.id || keptBefore.id === liveImageId) return undefined;
    return keptBefore;
}
