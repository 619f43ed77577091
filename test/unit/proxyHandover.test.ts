// The proxy hand-over stops every running proxy of the app but the one that takes over.
import { expect } from "chai";
import { proxiesToStop, untilServing } from "../../platform/docker/proxyHandover";

describe("proxy hand-over", () => {
    const keep = "b".repeat(64);
    it("soft-stops every other proxy, never the new one (full or short ids)", () => {
        const ps = [
            { id: "a".repeat(64), name: "app-proxy-aaaaaaaaaaaa" },
            { id: keep, name: "app-proxy-bbbbbbbbbbbb" },
        ];
        expect(proxiesToStop(ps, keep)).to.deep.equal([{ id: "a".repeat(64), name: "app-proxy-aaaaaaaaaaaa" }]);
        expect(proxiesToStop(ps, keep.slice(0, 12))).to.deep.equal([{ id: "a".repeat(64), name: "app-proxy-aaaaaaaaaaaa" }]);
    });
    it("stops nothing when the new proxy is the only one", () => {
        expect(proxiesToStop([{ id: keep, name: "app-proxy-bbbbbbbbbbbb" }], keep)).to.deep.equal([]);
        expect(proxiesToStop([], keep)).to.deep.equal([]);
    });
});

describe("proxy hand-over: the wait until the new proxy serves", () => {
    /** A container that answers after `answersAfter` probes, with Docker's status `status` meanwhile. */
    function probe(answersAfter: number, status = "running") {
        let t = 0;
        let asked = 0;
        return {
            asked: () => asked,
            answers: async () => ++asked > answersAfter,
            status: async () => status,
            lastLogs: async () => "[ALERT] config : parsing [/etc/haproxy/haproxy.cfg:12] : unknown keyword 'frontnd'\n",
            now: () => t,
            sleep: async (ms: number) => {
                t += ms;
            },
        };
    }
    const failure = (p: Promise<unknown>) =>
        p.then(
            () => expect.fail("the wait passed"),
            (err: Error) => err.message,
        );

    it("resolves as soon as HAProxy answers on the admin socket, with the time it took", async () => {
        const p = probe(3);
        expect(await untilServing("app-proxy-b", p)).to.equal(750);
        expect(p.asked()).to.equal(4);
        expect(await untilServing("app-proxy-b", probe(0))).to.equal(0);
    });
    it("fails at once when the proxy stopped or restarts, quoting its log (before any other proxy is stopped)", async () => {
        for (const status of ["exited", "restarting", "dead"]) {
            const p = probe(Infinity, status);
            const message = await failure(untilServing("app-proxy-b", p));
            expect(message).to.include(`app-proxy-b stopped before it served (${status}); no other proxy was stopped`);
            expect(message).to.include("  | [ALERT] config : parsing [/etc/haproxy/haproxy.cfg:12] : unknown keyword 'frontnd'");
            expect(p.asked()).to.equal(1);
        }
    });
    it("fails at its timeout when the proxy runs but never answers", async () => {
        const p = probe(Infinity);
        const message = await failure(untilServing("app-proxy-b", p, 5_000));
        expect(message).to.include("app-proxy-b did not answer on its admin socket within 5s (running)");
        expect(p.asked()).to.equal(21); // 0 ms, every 250 ms, up to and including 5 s
    });
});
