// The rollout programs ride out a short Docker daemon outage (a restart or upgrade).
import { expect } from "chai";
import { cutByOutage, engineUnreachable, ridingOutDaemonOutage } from "../../docker/cli";
import { gatewayOf } from "../support/containers";

describe("Docker daemon outages", () => {
    const clock = () => {
        let t = 0;
        return { now: () => t, sleep: async (ms: number) => void (t += ms) };
    };

    it("a command rides out a daemon restart and succeeds once the daemon is back", async () => {
        let calls = 0;
        const waits: string[] = [];
        const out = await ridingOutDaemonOutage(
            async () => {
                if (++calls < 5)
                    throw new Error(
                        "docker exec app-proxy socat: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
                    );
                return "ok";
            },
            clock(),
            90_000,
            (e) => waits.push(e.message),
        );
        expect(out).to.equal("ok");
        expect(calls).to.equal(5);
        expect(waits).to.have.length(1); // said once, not on every retry
    });

    it("gives up after the bounded outage, and never retries other failures", async () => {
        let calls = 0;
        const down = () =>
            ridingOutDaemonOutage(
                async () => {
                    calls++;
                    throw new Error("Cannot connect to the Docker daemon");
                },
                clock(),
                10_000,
                () => undefined,
            );
        let err: Error | undefined;
        await down().catch((e: Error) => (err = e));
        expect(err?.message).to.equal("Cannot connect to the Docker daemon");
        expect(calls).to.equal(12); // t = 0 .. 11 s, then over the 10 s bound
        calls = 0;
        await ridingOutDaemonOutage(
            async () => {
                calls++;
                throw new Error("No such container: app-proxy");
            },
            clock(),
            10_000,
        ).catch(() => undefined);
        expect(calls).to.equal(1);
    });
});

describe("a command cut by the daemon's stop", () => {
    // What an exec under way printed when the daemon drill stopped dockerd (CI, 2026-12-07).
    const cut = new Error("docker exec -i app-proxy: Command failed: docker exec -i app-proxy socat -t 10 stdio /run/haproxy/admin.sock");

    it("is an outage when the daemon no longer answers, ridden out like any other", async () => {
        const said = await cutByOutage(cut, async () => false);
        expect(engineUnreachable(said)).to.equal(true);
        expect(said.message).to.include(cut.message);
        let calls = 0;
        let t = 0;
        const out = await ridingOutDaemonOutage(
            async () => {
                if (++calls === 1) throw await cutByOutage(cut, async () => false);
                return "show stat";
            },
            { now: () => t, sleep: async (ms) => void (t += ms) },
            90_000,
            () => undefined,
        );
        expect(out).to.equal("show stat");
        expect(calls).to.equal(2);
    });

    it("is the command's own failure when the daemon answers, and a failure that says why is never probed", async () => {
        expect(await cutByOutage(cut, async () => true)).to.equal(cut);
        let asked = 0;
        const probe = async () => {
            asked++;
            return false;
        };
        const missing = new Error("docker exec -i app-proxy: Error: No such container: app-proxy");
        expect(await cutByOutage(missing, probe)).to.equal(missing);
        const down = new Error("docker exec -i app-proxy: Cannot connect to the Docker daemon at unix:///var/run/docker.sock");
        expect(await cutByOutage(down, probe)).to.equal(down);
        expect(asked).to.equal(0);
    });
});

describe("the tests' address on Docker's default bridge", () => {
    it("is the bridge's gateway, or, where the engine records none, its subnet's first address", () => {
        expect(gatewayOf([{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }])).to.equal("172.17.0.1");
        // As this project's CI engine reports its default bridge.
        expect(gatewayOf([{ Subnet: "172.17.0.0/16" }])).to.equal("172.17.0.1");
        expect(gatewayOf([{ Subnet: "fd00::/64" }, { Subnet: "10.200.8.0/22" }])).to.equal("10.200.8.1");
        expect(() => gatewayOf([])).to.throw(/no IPv4 subnet/);
    });
});
