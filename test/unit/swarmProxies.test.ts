// Every node's proxy as one (platform/swarm/swarmProxies.ts), against fake proxies: weights all or
// nothing, a lost node left out, statistics summed and kept for a lost node.
import { expect } from "chai";
import type { TemplateSlotState } from "../../platform/swarm/swarmSlots";
import { combineSlots, sumStats, SwarmProxies, type SwarmProxiesDeps } from "../../platform/swarm/swarmProxies";
import { type NodeProxy, ProxyTaskGone } from "../../platform/swarm/nodeProxy";
import { clusterProxies } from "../../platform/swarm/clusterProxies";
import { swarmSwitch } from "../../platform/swarm/swarmSwitch";
import { switchResult } from "../support/switchInput";
import type { Slot } from "../../contracts/switchContract";
import { ProxyError, type ServerStats } from "../../engine/ports";

const slot = (s: Slot, weight: number, up = true, maint = false, addresses = ["10.0.1.2", "10.0.1.3"]): TemplateSlotState => ({
    slot: s,
    id: s === "blue" ? 1 : 5,
    fqdn: `tasks.${s}`,
    up,
    maint,
    weight,
    upServers: addresses.length,
    addresses,
});

class FakeProxy {
    weights: Record<Slot, number> = { blue: 100, green: 0 };
    /**
     * What this proxy does when asked: answer, refuse (HAProxy's own error), be on a node
     * whose engine is gone, or be a task its stopping engine has stopped (the engine answers).
     */
    mode: "ok" | "refuse" | "gone" | "taskGone" = "ok";
    req = 0;
    /** Checks of whether it answers (after a failure); `onCheck` may change the mode, as time passing would. */
    checks = 0;
    onCheck: (n: number) => void = () => undefined;
    constructor(readonly proxyName: string) {}
    private check(): void {
        if (this.mode === "gone")
            throw new Error("docker exec: Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?");
        if (this.mode === "taskGone") throw new ProxyTaskGone(`no task of app-proxy runs on the node of ${this.proxyName}`);
        if (this.mode === "refuse") throw new ProxyError(`proxy refused "set server": No such server.`);
    }
    async answers(): Promise<boolean> {
        this.onCheck(++this.checks);
        return this.mode === "ok" || this.mode === "refuse";
    }
    reads = 0;
    async slots(): Promise<Record<Slot, TemplateSlotState>> {
        this.reads++;
        if (this.mode === "gone" || this.mode === "taskGone") this.check();
        return { blue: slot("blue", this.weights.blue), green: slot("green", this.weights.green) };
    }
    async setWeights(...w: [Slot, number][]): Promise<string> {
        this.check();
        for (const [s, n] of w) this.weights[s] = n;
        return "";
    }
    async maint(): Promise<string> {
        this.check();
        return "";
    }
    async stats(): Promise<ServerStats> {
        if (this.mode === "gone") this.check();
        return { req: this.req, err5xx: 0, rtimeMs: 10, status: "UP", sessions: 0 };
    }
    totalRequests = 0;
    async totals(): Promise<{ requests: number; errors5xx: number }> {
        if (this.mode === "gone") this.check();
        return { requests: this.totalRequests, errors5xx: 0 };
    }
}

function group(proxies: FakeProxy[], states: Record<string, string> = {}) {
    const logs: string[] = [];
    const deps: SwarmProxiesDeps = {
        nodeState: async (n) => states[n] ?? "ready",
        sleep: async () => undefined,
        log: (m) => logs.push(m),
    };
    const g = new SwarmProxies(
        proxies.map((p) => ({ node: p.proxyName, proxy: p as unknown as NodeProxy })),
        deps,
    );
    return { g, logs };
}

describe("Swarm proxies: every node's proxy as one", () => {
    it("combines slots: up only where every proxy sees it up, in maintenance where any has it so", () => {
        const a = { blue: slot("blue", 100), green: slot("green", 0, true) };
        const b = { blue: slot("blue", 100), green: slot("green", 0, false, true) };
        const c = combineSlots([a, b]);
        expect(c.green).to.include({ up: false, maint: true });
        expect(c.blue).to.include({ up: true, maint: false, weight: 100 });
    });

    it("a slot is not up while the proxies see different tasks behind it (pinning across them needs the same)", () => {
        const a = { blue: slot("blue", 100), green: slot("green", 0, true, false, ["10.0.1.7", "10.0.1.8"]) };
        const b = { blue: slot("blue", 100), green: slot("green", 0, true, false, ["10.0.1.7"]) };
        expect(combineSlots([a, b]).green.up).to.equal(false);
        expect(combineSlots([a, a]).green.up).to.equal(true);
    });

    it("sums statistics, the response time weighted by requests", () => {
        const s = sumStats([
            { req: 100, err5xx: 1, rtimeMs: 10, status: "UP", sessions: 2 },
            { req: 300, err5xx: 2, rtimeMs: 30, status: "DOWN", sessions: 1 },
        ]);
        expect(s).to.deep.equal({ req: 400, err5xx: 3, rtimeMs: 25, status: "UP", sessions: 3 });
    });

    it("a weight change reads each proxy once (to find lost nodes and to restore on a refusal)", async () => {
        const proxies = ["n1", "n2", "n3"].map((n) => new FakeProxy(n));
        await group(proxies).g.setWeights(["green", 100], ["blue", 0]);
        expect(proxies.map((p) => p.reads)).to.deep.equal([1, 1, 1]);
    });

    it("sets weights on every proxy", async () => {
        const proxies = ["n1", "n2", "n3"].map((n) => new FakeProxy(n));
        await group(proxies).g.setWeights(["green", 100], ["blue", 0]);
        for (const p of proxies) expect(p.weights).to.deep.equal({ blue: 0, green: 100 });
    });

    it("a proxy that refuses fails the change, and the others get their weights back", async () => {
        const proxies = ["n1", "n2", "n3"].map((n) => new FakeProxy(n));
        proxies[1].mode = "refuse";
        const err = await group(proxies)
            .g.setWeights(["green", 100], ["blue", 0])
            .then(
                () => undefined,
                (e: Error) => e,
            );
        expect(err?.message).to.match(/refused by n2/);
        expect(proxies[0].weights).to.deep.equal({ blue: 100, green: 0 });
        expect(proxies[2].weights).to.deep.equal({ blue: 100, green: 0 });
    });

    it("a node the manager reports down is left out: the others switch, and it is named once", async () => {
        const proxies = ["n1", "n2", "n3"].map((n) => new FakeProxy(n));
        proxies[2].mode = "gone";
        const { g, logs } = group(proxies, { n3: "down" });
        await g.setWeights(["green", 100], ["blue", 0]);
        expect(proxies[0].weights.green).to.equal(100);
        expect(proxies[1].weights.green).to.equal(100);
        expect([...g.lost.keys()]).to.deep.equal(["n3"]);
        expect(logs).to.deep.equal(["node n3 is down: its proxy is left out (its tasks stopped with its engine)"]);
        // The release's result names it, with the manager's word and when it was found.
        const before = Date.now();
        const result = swarmSwitch.after!({ admin: g } as never, switchResult("app-agent-2", "2.0.0"), (l) => logs.push(l));
        expect(result.nodesLost).to.have.length(1);
        expect(result.nodesLost[0]).to.include({ node: "n3", state: "down" });
        expect(result.nodesLost[0].foundAt).to.be.at.most(before);
        expect(logs[1]).to.equal("nodes lost during the release: n3");
        expect(
            swarmSwitch.after!({ admin: group(proxies.slice(0, 2)).g } as never, switchResult("a", "1"), () => {}).nodesLost,
        ).to.deep.equal([]);
    });

    it("a silent engine on a node the manager still reports ready fails the change instead", async () => {
        const proxies = ["n1", "n2"].map((n) => new FakeProxy(n));
        proxies[1].mode = "gone";
        const err = await group(proxies)
            .g.slots()
            .then(
                () => undefined,
                (e: Error) => e,
            );
        expect(err?.message).to.match(/reading the slots refused by the proxy on n2 \(.*Cannot connect/);
    });

    it("a stopping engine's node (engine answers, proxy task gone) is left out once the manager reports it down", async () => {
        const proxies = ["n1", "n2", "n3"].map((n) => new FakeProxy(n));
        const states: Record<string, string> = {};
        proxies[2].mode = "taskGone";
        // The manager notices a few seconds later; meanwhile the change waits, it does not fail.
        proxies[2].onCheck = (n) => {
            if (n === 3) states.n3 = "down";
        };
        const { g, logs } = group(proxies, states);
        await g.setWeights(["green", 100], ["blue", 0]);
        expect(proxies[0].weights.green).to.equal(100);
        expect(proxies[1].weights.green).to.equal(100);
        expect(proxies[2].checks).to.equal(3);
        expect([...g.lost.keys()]).to.deep.equal(["n3"]);
        expect(logs).to.deep.equal(["node n3 is down: its proxy is left out (its tasks stopped with its engine)"]);
    });

    it("a proxy task Swarm restarted on a ready node gets the change once it answers again", async () => {
        const proxies = ["n1", "n2"].map((n) => new FakeProxy(n));
        proxies[1].mode = "taskGone";
        proxies[1].onCheck = (n) => {
            if (n === 2) proxies[1].mode = "ok";
        };
        const { g } = group(proxies);
        await g.setWeights(["green", 100], ["blue", 0]);
        expect(proxies[1].weights.green).to.equal(100);
        expect(g.lost.size).to.equal(0);
    });

    it("HAProxy refusing a command is final: no wait for the node, no second attempt", async () => {
        const proxies = ["n1", "n2"].map((n) => new FakeProxy(n));
        proxies[1].mode = "refuse";
        const err = await group(proxies)
            .g.maint("green")
            .then(
                () => undefined,
                (e: Error) => e,
            );
        expect(err?.message).to.match(/maintenance of green refused by the proxy on n2 \(proxy refused/);
        expect(proxies[1].checks).to.equal(0);
    });

    it("a lost node's last statistics stay in the sum, so differences over a window stay true", async () => {
        const proxies = ["n1", "n2"].map((n) => new FakeProxy(n));
        const { g } = group(proxies, { n2: "down" });
        proxies[0].req = 10;
        proxies[1].req = 20;
        expect((await g.stats("blue")).req).to.equal(30);
        proxies[1].mode = "gone";
        proxies[0].req = 15;
        expect((await g.stats("blue")).req).to.equal(35);
    });

    it("a node's proxy that starts again counts from its new start: the sums over a window stay true", async () => {
        const proxies = ["n1", "n2"].map((n) => new FakeProxy(n));
        const { g } = group(proxies);
        proxies[0].req = 5000;
        proxies[1].req = 3000;
        const before = await g.stats("blue");
        expect(before.req).to.equal(8000);
        // n2's proxy is replaced (a new image): its counters start at 0 and it serves 40.
        proxies[0].req = 5100;
        proxies[1].req = 40;
        expect((await g.stats("blue")).req - before.req).to.equal(140);
        proxies[1].totalRequests = 40;
        proxies[0].totalRequests = 5100;
        const t0 = await g.totals();
        proxies[1].totalRequests = 10; // replaced again
        expect((await g.totals()).requests - t0.requests).to.equal(10);
    });
});

describe("the cluster's proxies as the switch and the operator commands reach them", () => {
    it("reaches the proxy on every node that runs one, not on a node for agents only (proxy: false)", () => {
        const { admin } = clusterProxies(
            [
                { name: "vps-1", engine: "ssh://vps-1" },
                { name: "vps-2", engine: "ssh://vps-2", proxy: false },
                { name: "vps-3", engine: "ssh://vps-3", proxy: true },
            ],
            "shop-proxy",
            { slotServers: 4, replicas: 2 },
            { log: () => undefined, sleep: async () => undefined },
        );
        expect(admin.proxyName).to.equal("the proxies on vps-1, vps-3");
    });
});
