// The nodes that run the proxy on Docker Swarm: the proxy's global service is constrained to a
// node label (zdt.proxy.<app>==true), set here on the stack's proxy nodes (swarm.nodes with
// proxy: true) and removed from any other node, through the manager (DOCKER_HOST). So a node
// that joins the swarm unlisted runs no proxy the switch would not reach (its weights would
// never change), and a node for agents only runs none. Run by a command resource of the
// SwarmProxy:
//   node proxyNodes.js          label the listed nodes, unlabel the others (create, update)
//   node proxyNodes.js remove   unlabel every node (delete)
import { docker } from "../../docker/cli";
import { type ProxyNodesInput, proxyNodesContract } from "../../contracts/proxyNodesContract";
import { runCommandProgram } from "../../contracts/commandProgram";

/** The label's changes (pure): add it where it is wanted and missing, remove it where it is not wanted. */
export function labelChanges(labelled: string[], wanted: string[]): { add: string[]; remove: string[] } {
    return { add: wanted.filter((n) => !labelled.includes(n)), remove: labelled.filter((n) => !wanted.includes(n)) };
}

async function labelledNodes(label: string): Promise<string[]> {
    const out = await docker(["node", "ls", "--filter", `node.label=${label}=true`, "--format", "{{.Hostname}}"]);
    return out.split("\n").filter(Boolean);
}

export async function apply(input: ProxyNodesInput, wanted = input.proxyNodes): Promise<string> {
    const { add, remove } = labelChanges(await labelledNodes(input.label), wanted);
    // Added first: a node moving in before one moves out keeps a proxy serving somewhere.
    for (const n of add) await docker(["node", "update", "--label-add", `${input.label}=true`, n]);
    for (const n of remove) await docker(["node", "update", "--label-rm", input.label, n]);
    return `on ${wanted.join(", ") || "none"}${add.length ? `; labelled ${add.join(", ")}` : ""}${remove.length ? `; unlabelled ${remove.join(", ")}` : ""}`;
}

if (require.main === module)
    runCommandProgram("proxy nodes", proxyNodesContract, async (input, argv) => ({
        said: await apply(input, argv[0] === "remove" ? [] : input.proxyNodes),
        result: { label: input.label, proxyNodes: input.proxyNodes },
    }));
