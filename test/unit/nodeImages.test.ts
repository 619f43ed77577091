// A retired release's image removed on every node (platform/swarm/nodeImages.ts), against fake
// engines: removed where present, nothing forced, a node that does not answer or refuses keeps it.
import { expect } from "chai";
import { removeImageOnNodes } from "../../platform/swarm/nodeImages";

const REF = "10.0.0.5:5000/shop-agent:2.0.0@sha256:" + "a".repeat(64);
const nodes = [
    { name: "vps-1", engine: "ssh://vps-1" },
    { name: "vps-2", engine: "ssh://vps-2" },
    { name: "vps-3", engine: "ssh://vps-3" },
];

/** Engines by address: the images each holds, or an engine that does not answer; the commands each got. */
function engines(held: Record<string, string[] | "down" | "in use">) {
    const calls: string[] = [];
    const run = async (engine: string, args: string[]): Promise<string> => {
        calls.push(`${engine} ${args.join(" ")}`);
        const h = held[engine];
        if (h === "down") throw new Error(`Cannot connect to the Docker daemon at ${engine}. Is the docker daemon running?`);
        const has = h === "in use" || h.includes(args[args.length - 1]);
        if (args[1] === "inspect") {
            if (!has) throw new Error(`Error: No such image: ${args[args.length - 1]}`);
            return "sha256:1234\n";
        }
        if (h === "in use")
            throw new Error(
                `Error response from daemon: conflict: unable to remove repository reference "${REF}" - container 5f3 is using its referenced image`,
            );
        (h as string[]).splice(h.indexOf(args[args.length - 1]), 1);
        return `Untagged: ${REF}\n`;
    };
    return { run, calls };
}

describe("platform: swarm: a retired release's image on every node", () => {
    it("is removed on every node that pulled it, by its pinned reference, and said for each node", async () => {
        const held: Record<string, string[]> = { "ssh://vps-1": [REF], "ssh://vps-2": [], "ssh://vps-3": [REF, "other"] };
        const { run, calls } = engines(held);
        const r = await removeImageOnNodes(nodes, { id: REF, ref: REF }, run);
        expect(r.removed).to.equal(true);
        expect(r.detail).to.equal(`removed image ${REF} on vps-1, vps-3; not on vps-2`);
        expect(held["ssh://vps-1"]).to.deep.equal([]);
        expect(held["ssh://vps-3"]).to.deep.equal(["other"]);
        // Never forced, never on a node that does not have it.
        expect(calls.filter((c) => c.includes(" rm "))).to.deep.equal([`ssh://vps-1 image rm ${REF}`, `ssh://vps-3 image rm ${REF}`]);
        expect(calls.some((c) => c.includes("--force") || c.includes(" -f "))).to.equal(false);
    });

    it("is kept on a node whose engine does not answer or that still uses it, and the others still remove it", async () => {
        const { run } = engines({ "ssh://vps-1": [REF], "ssh://vps-2": "down", "ssh://vps-3": "in use" });
        const r = await removeImageOnNodes(nodes, { id: REF, ref: REF }, run);
        expect(r.removed).to.equal(true);
        expect(r.detail).to.match(new RegExp(`^removed image .+ on vps-1; kept on vps-2: Cannot connect to the Docker daemon`));
        expect(r.detail).to.match(/; kept on vps-3: .*container 5f3 is using its referenced image$/);
    });

    it("is not called removed when no node removed it", async () => {
        const { run } = engines({ "ssh://vps-1": [], "ssh://vps-2": "down", "ssh://vps-3": [] });
        const r = await removeImageOnNodes(nodes, { id: REF, ref: REF }, run);
        expect(r.removed).to.equal(false);
        expect(r.detail).to.match(/^not on vps-1, vps-3; kept on vps-2: /);
    });
});
