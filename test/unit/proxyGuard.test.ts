// The proxy guard: an update that would replace the proxy container fails before
// anything changes, unless a maintenance window allows it.
import { expect } from "chai";
import { guardVerdict, previousFingerprint } from "../../rollout/proxyGuard";
import type { ProxyGuardInput } from "../../rollout/proxyGuardContract";

const before = { proxyImage: "app-proxy:aaaaaaaaaaaa", listenAddress: "127.0.0.1", hostPort: 8080 };
const input = (o: Partial<ProxyGuardInput> = {}): ProxyGuardInput => ({
    ...before,
    proxyContainer: "app-proxy",
    allowRestart: false,
    ...o,
});

describe("proxy guard", () => {
    it("lets an update through when nothing about the proxy changes", () => {
        expect(guardVerdict(before, input(), true)).to.equal(undefined);
    });

    it("refuses a change of port, address or image, naming each, and says how to do it", () => {
        const refusal = guardVerdict(before, input({ hostPort: 9090, proxyImage: "app-proxy:bbbbbbbbbbbb" }), true);
        expect(refusal).to.match(
            /^this update replaces the proxy container \(image app-proxy:aaaaaaaaaaaa -> app-proxy:bbbbbbbbbbbb, proxy\.port 8080 -> 9090\)/,
        );
        expect(refusal).to.include("Nothing was changed.");
        expect(refusal).to.include("pulumi config set proxy.allowRestart true");
        expect(guardVerdict(before, input({ listenAddress: "0.0.0.0" }), true)).to.include("proxy.listenAddress 127.0.0.1 -> 0.0.0.0");
    });

    it("allows the same change in a maintenance window", () => {
        expect(guardVerdict(before, input({ hostPort: 9090, allowRestart: true }), true)).to.equal(undefined);
    });

    it("a first deploy passes; a proxy that exists with no record is not replaced silently", () => {
        expect(guardVerdict(undefined, input(), false)).to.equal(undefined);
        expect(guardVerdict(undefined, input(), true)).to.match(
            /the proxy container app-proxy exists, but this stack has no record of its settings/,
        );
        expect(guardVerdict(undefined, input({ allowRestart: true }), true)).to.equal(undefined);
    });

    it("reads the fingerprint the last run printed, and nothing else", () => {
        expect(previousFingerprint(JSON.stringify(before))).to.deep.equal(before);
        expect(previousFingerprint("")).to.equal(undefined);
        expect(previousFingerprint('{"generation": 3}')).to.equal(undefined);
    });
});
