// Retired releases do not fill the disk. The official docker provider never deletes an
// image (deleting a docker.Image or a kept RemoteImage only forgets it), so after each
// retirement the switch removes the image of the release retired before it. Kept: the
// live release's image and the one just retired (a roll back needs no build or pull).
// Removal never forces: an image still in use, or tagged for something else, stays.
import { docker } from "./cli";
import type { ImageRecord } from "../core/images";

/**
 * Removes `image` for this app: its tag, and its content unless another tag shares it (an
 * identical build of another app or stack: same Dockerfile, context and arguments give the
 * same image id). Resolves to what happened, for the log.
 */
export async function removeImage(image: ImageRecord): Promise<{ removed: boolean; detail: string }> {
    const idOf = async (ref: string) => (await docker(["image", "inspect", "--format", "{{.Id}}", ref]).catch(() => "")).trim();
    const short = image.id.slice(0, 19);
    try {
        // Untag only if the tag still names this image (it may have been rebuilt since).
        if ((await idOf(image.ref)) === image.id) await docker(["image", "rm", image.ref]);
        const tags = await docker(["image", "inspect", "--format", "{{range .RepoTags}}{{println .}}{{end}}", image.id]).then(
            (out) => out.split("\n").filter(Boolean),
            () => undefined, // the content is gone already
        );
        if (tags && tags.length > 0)
            return { removed: true, detail: `removed image ${image.ref} (${short}); its content stays: also tagged ${tags.join(", ")}` };
        if (tags) await docker(["image", "rm", image.id]);
        return { removed: true, detail: `removed image ${image.ref} (${short})` };
    } catch (err) {
        return { removed: false, detail: `kept image ${image.ref}: ${(err as Error).message.split("\n")[0]}` };
    }
}
