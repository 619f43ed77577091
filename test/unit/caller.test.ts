// The switch stops when the `pulumi up` that started it is gone.
import { expect } from "chai";
import { spawn } from "child_process";
import { ancestry, goneAncestor, isAlive, systemParent } from "../../engine/caller";
import { HaproxyAdmin } from "../../haproxy/admin";
import { runSwitch, SwitchError } from "../../engine/switch";
import { FakeProxy } from "../support/fakeProxy";
import { MemoryCanaryControl } from "../support/memoryCanaryControl";
import { FakeContainers } from "../support/fakeContainers";
import { switchInput } from "../support/switchInput";
import { CurlProbes } from "../../haproxy/probes";

describe("caller watch", () => {
    it("records the chain of ancestors up to init, nearest first", async () => {
        const parents: Record<number, number> = { 40: 30, 30: 20, 20: 1 };
        expect(await ancestry(40, async (p) => parents[p])).to.deep.equal([40, 30, 20]);
        expect(await ancestry(40, async () => undefined)).to.deep.equal([40]);
    });

    it("reads this process's real parent", async () => {
        expect(await systemParent(process.pid)).to.equal(process.ppid);
        const chain = await ancestry(process.pid);
        expect(chain[0]).to.equal(process.pid);
        expect(chain[1]).to.equal(process.ppid);
    });

    it("notices an ancestor that is gone", async () => {
        const child = spawn("sleep", ["30"]);
        const pid = child.pid!;
        expect(goneAncestor([process.pid, pid])).to.equal(undefined);
        const exited = new Promise((r) => child.on("exit", r));
        child.kill("SIGKILL");
        await exited;
        expect(isAlive(pid)).to.equal(false);
        expect(goneAncestor([process.pid, pid])).to.equal(pid);
    });

    it("a switch whose caller is gone stops at its next safe point and changes nothing more", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: "app-agent-1" });
        proxy.agents
            .set("app-agent-1", { release: "1-0-0-aaaaaaaa", version: "1.0.0" })
            .set("app-agent-2", { release: "2-0-0-bbbbbbbb", version: "2.0.0" });
        let checks = 0;
        const containers = new FakeContainers();
        const input = switchInput({
            targetContainer: "app-agent-2",
            targetRelease: "2-0-0-bbbbbbbb",
            targetVersion: "2.0.0",
            verifyWindowSeconds: 60,
        });
        let err: Error | undefined;
        await runSwitch(input, {
            admin: new HaproxyAdmin(proxy.exec, "app-proxy"),
            probes: new CurlProbes(proxy.exec, 8080),
            releaseOf: async () => undefined,
            containers,
            canaryControl: new MemoryCanaryControl(),
            removeImage: containers.removeImage,
            retire: async () => {
                throw new Error("a stopped switch retires nothing");
            },
            clock: proxy.clock,
            log: () => undefined,
            // Gone after the flip, a few ticks into the verification window.
            stopReason: () => (proxy.serving() === "green" && ++checks > 10 ? "the process that started it (pid 4242) is gone" : undefined),
        }).catch((e: Error) => (err = e));
        expect(err).to.be.instanceOf(SwitchError);
        expect(err!.message).to.equal(
            "traffic switch stopped during the verification: the process that started it (pid 4242) is gone. Traffic stays as it is; the next `pulumi up` converges.",
        );
        const setsAfterFlip = proxy.setCommands().slice(proxy.setCommands().indexOf("set server agents/blue weight 0") + 1);
        expect(setsAfterFlip).to.deep.equal([]);
        expect(proxy.serving()).to.equal("green");
    });
});
