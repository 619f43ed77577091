// Retired releases do not fill the nodes' disks: the single host's rule (core/images.ts: the
// live release's image and the one just retired stay, the one kept before them goes) on
// every node's engine, since each node keeps what it pulled. A Swarm release's image is its
// reference pinned by digest, so removing that reference removes what the node pulled for
// it, and its content unless another reference on the node shares it. Removal never
// forces: a node whose engine does not answer, or that still runs a container of the image,
// keeps it, and the detail says which.
import { dockerAt } from "../../docker/cli";
import type { ImageRecord } from "../../core/images";
import type { ClusterNode } from "./clusterProxies";

type Outcome = { node: string } & ({ is: "removed" | "absent" } | { is: "kept"; why: string });

async function removeOnNode(node: ClusterNode, ref: string, run: typeof dockerAt): Promise<Outcome> {
    try {
        const present = await run(node.engine, ["image", "inspect", "--format", "{{.Id}}", ref]).then(
            () => true,
            (err: Error) => {
                if (/no such image/i.test(err.message)) return false;
                throw err;
            },
        );
        if (!present) return { node: node.name, is: "absent" };
        await run(node.engine, ["image", "rm", ref]);
        return { node: node.name, is: "removed" };
    } catch (err) {
        return { node: node.name, is: "kept", why: (err as Error).message.split("\n")[0] };
    }
}

/** What the removal did on each node, in one line for the release log (pure). */
export function nodeRemovalDetail(ref: string, outcomes: Outcome[]): string {
    const named = (is: Outcome["is"]) =>
        outcomes
            .filter((o) => o.is === is)
            .map((o) => o.node)
            .join(", ");
    const parts = [
        named("removed") && `removed image ${ref} on ${named("removed")}`,
        named("absent") && `not on ${named("absent")}`,
        ...outcomes.filter((o): o is Outcome & { is: "kept"; why: string } => o.is === "kept").map((o) => `kept on ${o.node}: ${o.why}`),
    ].filter(Boolean);
    return parts.join("; ");
}

/** Removes a retired release's image on every node (in parallel); removed when some node removed it. */
export async function removeImageOnNodes(
    nodes: ClusterNode[],
    image: ImageRecord,
    run: typeof dockerAt = dockerAt,
): Promise<{ removed: boolean; detail: string }> {
    const outcomes = await Promise.all(nodes.map((n) => removeOnNode(n, image.ref, run)));
    return { removed: outcomes.some((o) => o.is === "removed"), detail: nodeRemovalDetail(image.ref, outcomes) };
}
