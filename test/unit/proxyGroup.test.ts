import { expect } from "chai";
import type { ContainerExec } from "../../docker/cli";
import { HaproxyAdmin } from "../../haproxy/admin";
import { flipBackPlan, ProxyGroup, refusalMessage } from "../../engine/proxyGroup";
import { FakeProxy } from "../support/fakeProxy";
import { rejection } from "../support/rejection";

/** Three proxies in front of the same releases: blue live, green brought up beside it. */
function threeProxies(): FakeProxy[] {
    return [1, 2, 3].map(() => new FakeProxy({ slot: "blue", agent: "app-agent-1" }));
}

/** An admin whose proxy refuses (or cannot be reached for) commands matching `refuse`, the others as they are. */
function admins(proxies: FakeProxy[], refuse?: { proxy: number; when: RegExp; error?: string }): HaproxyAdmin[] {
    return proxies.map((p, i) => {
        const exec: ContainerExec = async (args, input = "") => {
            if (refuse?.proxy === i && refuse.when.test(input)) throw new Error(refuse.error ?? "connection refused");
            return p.exec(args, input);
        };
        return new HaproxyAdmin(exec, `proxy-${i + 1}`);
    });
}

async function weights(proxies: FakeProxy[]): Promise<string[]> {
    return Promise.all(
        proxies.map(async (p) => {
            const s = await new HaproxyAdmin(p.exec, "read").slots();
            return `blue ${s.blue.weight}, green ${s.green.weight}`;
        }),
    );
}

describe("proxy group: every proxy takes a flip, or none keeps it", () => {
    it("sets the weights on every proxy", async () => {
        const proxies = threeProxies();
        await new ProxyGroup(admins(proxies)).setWeights(["green", 100], ["blue", 0]);
        expect(await weights(proxies)).to.deep.equal(["blue 0, green 100", "blue 0, green 100", "blue 0, green 100"]);
    });

    it("a proxy that refuses fails the flip naming it, and the proxies that took it are flipped back", async () => {
        const proxies = threeProxies();
        const group = new ProxyGroup(admins(proxies, { proxy: 1, when: /^set server/, error: "node down" }));
        const err = await rejection(group.setWeights(["green", 100], ["blue", 0]), "refused by proxy-2 (node down)");
        expect(err.message).to.equal("weights green 100, blue 0 refused by proxy-2 (node down); flipped back on proxy-1, proxy-3");
        expect(await weights(proxies)).to.deep.equal(["blue 100, green 0", "blue 100, green 0", "blue 100, green 0"]);
    });

    it("a proxy that cannot be read fails the flip before any proxy changes", async () => {
        const proxies = threeProxies();
        const group = new ProxyGroup(admins(proxies, { proxy: 2, when: /^show servers state/ }));
        const err = await rejection(group.setWeights(["green", 100], ["blue", 0]), "a refusal to read proxy-3");
        expect(err.message).to.equal("connection refused");
        expect(proxies.flatMap((p) => p.setCommands())).to.deep.equal([]);
    });

    it("from the caller's reading: no read of its own, a refusal restores what that reading said, a reading of another size is refused", async () => {
        const proxies = threeProxies();
        const group = new ProxyGroup(admins(proxies, { proxy: 2, when: /^set server/, error: "node down" }));
        const reading = { blue: { weight: 100 }, green: { weight: 0 } };
        proxies.forEach((p) => (p.sessions.length = 0));
        const err = await rejection(group.setWeightsFrom([reading, reading, reading], ["green", 100], ["blue", 0]), "refused by proxy-3");
        expect(err.message).to.equal("weights green 100, blue 0 refused by proxy-3 (node down); flipped back on proxy-1, proxy-2");
        expect(proxies.flatMap((p) => p.sessions).filter((x) => x.includes("show servers state"))).to.deep.equal([]);
        expect(await weights(proxies)).to.deep.equal(["blue 100, green 0", "blue 100, green 0", "blue 100, green 0"]);
        expect((await rejection(group.setWeightsFrom([reading], ["green", 100]), "a refusal")).message).to.equal(
            "a reading of 1 proxies for a group of 3",
        );
    });

    it("needs at least one proxy", () => {
        expect(() => new ProxyGroup([])).to.throw("at least one proxy");
    });
});

describe("proxy group decisions", () => {
    it("flips back only the proxies that took a change some refused", () => {
        expect(
            flipBackPlan([
                { proxy: "a", ok: true },
                { proxy: "b", ok: false, error: "x" },
                { proxy: "c", ok: true },
            ]),
        ).to.deep.equal(["a", "c"]);
        expect(
            flipBackPlan([
                { proxy: "a", ok: true },
                { proxy: "b", ok: true },
            ]),
        ).to.deep.equal([]);
        expect(flipBackPlan([{ proxy: "a", ok: false, error: "x" }])).to.deep.equal([]);
    });

    it("says who refused, who was flipped back and who could not be", () => {
        const message = refusalMessage(
            "weights green 100, blue 0",
            [
                { proxy: "a", ok: true },
                { proxy: "b", ok: false, error: "node down" },
                { proxy: "c", ok: true },
            ],
            [
                { proxy: "a", ok: true },
                { proxy: "c", ok: false, error: "timeout" },
            ],
        );
        expect(message).to.equal(
            "weights green 100, blue 0 refused by b (node down); flipped back on a; could not flip back c (timeout): they keep the new weights",
        );
    });
});
