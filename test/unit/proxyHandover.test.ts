// The proxy hand-over stops every running proxy of the app but the one that takes over.
import { expect } from "chai";
import { proxiesToStop } from "../../platform/docker/proxyHandover";

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
