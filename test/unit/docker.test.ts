// The rollout programs ride out a short Docker daemon outage (a restart or upgrade).
import { expect } from "chai";
import { ridingOutDaemonOutage } from "../../docker/cli";
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

describe("the tests' address on Docker's default bridge", () => {
    it("is the bridge's gateway, or, where the engine records none, its subnet's first address", () => {
        expect(gatewayOf([{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }])).to.equal("172.17.0.1");
        // As this project's CI engine reports its default bridge.
        expect(gatewayOf([{ Subnet: "172.17.0.0/16" }])).to.equal("172.17.0.1");
        expect(gatewayOf([{ Subnet: "fd00::/64" }, { Subnet: "10.200.8.0/22" }])).to.equal("10.200.8.1");
        expect(() => gatewayOf([])).to.throw(/no IPv4 subnet/);
    });
});
