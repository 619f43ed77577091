// Joins an agent stack's port holder to an edge stack's network (proxy.edgeNetwork), and
// leaves it again: `docker network connect` at run time, so neither the holder nor the proxy
// in its namespace restarts, and the edge reaches this stack's proxy by the holder's name.
// Run by a command resource of the TrafficProxy:
//   node edgeLink.js          join (create; a holder that is already on the network is fine)
//   node edgeLink.js leave    leave (delete; a holder or network that is gone is fine)
import { docker } from "../../docker/cli";
import { type EdgeLinkInput, edgeLinkContract } from "../../contracts/edgeLinkContract";
import { runCommandProgram } from "../../contracts/commandProgram";

/** Docker's answers that mean the wanted state is already there. */
const ALREADY = /already exists|is not connected|no such container|no such network|not found/i;

export async function join(input: EdgeLinkInput): Promise<string> {
    try {
        await docker(["network", "connect", "--alias", input.alias, input.edgeNetwork, input.portHolder]);
        return `${input.alias} joined ${input.edgeNetwork}`;
    } catch (err) {
        const said = (err as Error).message;
        if (/already exists/i.test(said)) return `${input.alias} is on ${input.edgeNetwork}`;
        // Preflight says so before anything changes; this is for an edge removed since.
        if (new RegExp(`network ${input.edgeNetwork} not found`, "i").test(said))
            throw new Error(
                `proxy.edgeNetwork: the Docker engine has no network ${input.edgeNetwork}; deploy the edge stack first (its output edgeNetwork names it), or remove proxy.edgeNetwork`,
            );
        throw err;
    }
}

export async function leave(input: EdgeLinkInput): Promise<string> {
    try {
        await docker(["network", "disconnect", input.edgeNetwork, input.portHolder]);
        return `${input.alias} left ${input.edgeNetwork}`;
    } catch (err) {
        if (ALREADY.test((err as Error).message)) return `${input.alias} is not on ${input.edgeNetwork}`;
        throw err;
    }
}

if (require.main === module)
    runCommandProgram("edge link", edgeLinkContract, async (input, argv) => ({
        said: await (argv[0] === "leave" ? leave(input) : join(input)),
        result: { edgeNetwork: input.edgeNetwork, alias: input.alias },
    }));
