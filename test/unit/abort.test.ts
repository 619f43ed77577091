// `npm run abort` against the fake proxy: weights at once, the canary's conversations
// moved, the request left for the running switch; and the cases where it must change nothing.
import { expect } from "chai";
import { abortCanary, AbortError, parseAbortArgs } from "../../ops/abort";
import { appOfStackFile, projectName, swarmOfStackFile } from "../../ops/findProxy";
import { HaproxyAdmin } from "../../haproxy/admin";
import { FakeProxy } from "../support/fakeProxy";
import { rejection } from "../support/rejection";
import { type AbortRequest, type CanaryState } from "../../contracts/canaryControl";

const STABLE = "app-agent-1-0-0-aaaaaaaa";
const CANARY = "app-agent-2-0-0-bbbbbbbb";

function control(state?: CanaryState) {
    const requests: AbortRequest[] = [];
    return { requests, state: async () => state, requestAbort: async (r: AbortRequest) => void requests.push(r) };
}

const step2: CanaryState = {
    release: "2-0-0-bbbbbbbb",
    container: CANARY,
    canarySlot: "green",
    stableSlot: "blue",
    step: 2,
    of: 4,
    weight: 25,
    startedAt: 1,
};

async function canaryAt25(): Promise<{ proxy: FakeProxy; admin: HaproxyAdmin }> {
    const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
    const admin = new HaproxyAdmin(proxy.exec, "app-proxy");
    await admin.assign("green", CANARY);
    await admin.setWeights(["green", 25], ["blue", 75]);
    return { proxy, admin };
}

const refused = (p: Promise<unknown>) => rejection(p, "the abort to be refused");

describe("npm run abort", () => {
    it("sets stable to 100 and the canary to 0 in one session, moves the canary's conversations and leaves the request", async () => {
        const { proxy, admin } = await canaryAt25();
        proxy.pinned.green = 5;
        const c = control(step2);
        const said = await abortCanary(admin, c, "bad answers in Spanish", proxy.clock.now);
        expect(proxy.sessions.filter((s) => s.includes("weight")).at(-1)).to.equal(
            "set server agents/blue weight 100;set server agents/green weight 0",
        );
        expect(proxy.serving()).to.equal("blue");
        expect(proxy.pinned.green).to.equal(0);
        expect(c.requests).to.have.length(1);
        expect(c.requests[0]).to.include({ reason: "bad answers in Spanish", moved: 5, movedUnderWay: 2 });
        expect(said).to.match(
            /^canary 2-0-0-bbbbbbbb aborted at step 2 of 4 \(25%\): weight 0 in \d+ ms; 5 conversations pinned to it \(2 with more than one message\) moved to stable \(blue\)\./,
        );
    });

    it("changes nothing when no canary is under way", async () => {
        const { proxy, admin } = await canaryAt25();
        const before = proxy.sessions.length;
        const err = await refused(abortCanary(admin, control(undefined), "x"));
        expect(err).to.be.instanceOf(AbortError);
        expect(err.message).to.equal("no canary step is under way on app-proxy; nothing changed");
        expect(proxy.sessions.slice(before).some((s) => s.startsWith("set "))).to.equal(false);
    });

    it("changes nothing when the canary file is stale (its release takes no traffic)", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        const admin = new HaproxyAdmin(proxy.exec, "app-proxy");
        const c = control(step2);
        const err = await refused(abortCanary(admin, c, "x"));
        expect(err.message).to.match(
            /names app-agent-2-0-0-bbbbbbbb on green, which takes no traffic now \(it is stale\); nothing changed$/,
        );
        expect(proxy.setCommands()).to.deep.equal([]);
        expect(c.requests).to.deep.equal([]);
    });

    it("parses its flags and names a bad one", () => {
        expect(parseAbortArgs(["--stack", "prod", "--reason", "rollback now"])).to.deep.equal({ stack: "prod", reason: "rollback now" });
        expect(parseAbortArgs([])).to.deep.equal({ reason: "asked by hand" });
        expect(() => parseAbortArgs(["--force"])).to.throw(
            /unknown argument "--force"; allowed: --stack <name>, --proxy <container>, --reason/,
        );
        expect(() => parseAbortArgs(["--stack"])).to.throw("--stack needs a value");
    });
});

describe("finding a stack's proxy without Pulumi (ops/findProxy.ts)", () => {
    it("reads the app from a stack file as `pulumi config set` writes it, and the project from Pulumi.yaml", () => {
        expect(appOfStackFile("config:\n  zdt:app: zdt-dev\n  zdt:agent:\n    version: 1.0.0\n", "zdt")).to.equal("zdt-dev");
        expect(appOfStackFile('config:\n  zdt:app: "shop" # the shop\n', "zdt")).to.equal("shop");
        // Another project's key, or a nested one, is not this stack's app.
        expect(appOfStackFile("config:\n  other:app: x\n  zdt:agent:\n    app: y\n", "zdt")).to.equal(undefined);
        expect(projectName("name: zdt\nruntime:\n  name: nodejs\n")).to.equal("zdt");
    });

    it("reads a swarm stack's nodes (which run the proxy) and slot sizes from its stack file; one host has none; a bad node is named", () => {
        const file = (platform: string, engine = "ssh://root@10.0.0.2") =>
            [
                "config:",
                "  zdt:app: shop",
                `  zdt:platform: ${platform}`,
                "  zdt:swarm:",
                '    replicas: "3"',
                "    proxyImage: 10.0.0.5:5000/shop-proxy:1.0.0@sha256:" + "a".repeat(64),
                "    nodes:",
                "      - name: node-1",
                "        address: 10.0.0.1",
                "        engine: unix:///var/run/docker.sock",
                "      - name: node-2",
                "        address: 10.0.0.2",
                `        engine: ${engine}`,
                "      - name: node-3",
                "        address: 10.0.0.3",
                "        engine: ssh://root@10.0.0.3",
                '        proxy: "false"',
                "",
            ].join("\n");
        expect(swarmOfStackFile(file("swarm"), "zdt")).to.deep.equal({
            nodes: [
                { name: "node-1", engine: "unix:///var/run/docker.sock", proxy: true },
                { name: "node-2", engine: "ssh://root@10.0.0.2", proxy: true },
                // A node for agents only: its engine is read (memory, images), its proxy is not reached.
                { name: "node-3", engine: "ssh://root@10.0.0.3", proxy: false },
            ],
            replicas: 3,
            slotServers: 6,
        });
        expect(swarmOfStackFile(file("docker"), "zdt")).to.equal(undefined);
        expect(swarmOfStackFile("config:\n  zdt:app: shop\n", "zdt")).to.equal(undefined);
        expect(() => swarmOfStackFile(file("swarm", "10.0.0.2"), "zdt")).to.throw(
            /^the stack file's swarm\.nodes\[1\]\.engine: a DOCKER_HOST/,
        );
    });

    it("measures weight 0 from the command's start as well as from the abort's own start", async () => {
        const { proxy, admin } = await canaryAt25();
        const start = proxy.clock.now() - 250; // the command started 250 ms before the abort
        const said = await abortCanary(admin, control(step2), "why", proxy.clock.now, start);
        const m = /weight 0 in (\d+) ms \((\d+) ms after the command started, at (\d+)\);/.exec(said);
        expect(m, said).to.not.equal(null);
        expect(Number(m![2])).to.equal(Number(m![1]) + 250);
        expect(Number(m![3])).to.equal(start + Number(m![2]));
    });
});
