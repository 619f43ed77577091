// The proxy guard: an update that would replace the port holder (the container that
// publishes the proxy's port) fails before anything changes, unless a maintenance window
// allows it. A new proxy image is not such an update: it is handed over.
import { expect } from "chai";
import { guardVerdict, previousFingerprint } from "../../platform/docker/proxyGuard";
import type { ProxyGuardInput } from "../../contracts/proxyGuardContract";

const before = { listenAddress: "127.0.0.1", hostPort: 8080, tlsHostPort: 0, layout: "port-holder" as const };
const input = (o: Partial<ProxyGuardInput> = {}): ProxyGuardInput => ({
    listenAddress: "127.0.0.1",
    hostPort: 8080,
    tlsHostPort: 0,
    app: "app",
    allowRestart: false,
    ...o,
});
const running = { portHolder: true, legacy: false };

describe("proxy guard", () => {
    it("lets an update through when the port and address stay", () => {
        expect(guardVerdict(before, input(), running)).to.equal(undefined);
    });

    it("refuses a change of port or address, naming each, and says how to do it", () => {
        const refusal = guardVerdict(before, input({ hostPort: 9090, listenAddress: "0.0.0.0" }), running);
        expect(refusal).to.match(
            /^this update replaces the container publishing the proxy's port \(proxy\.listenAddress 127\.0\.0\.1 -> 0\.0\.0\.0, proxy\.port 8080 -> 9090\)/,
        );
        expect(refusal).to.include("Nothing was changed.");
        expect(refusal).to.include("pulumi config set proxy.allowRestart true");
    });

    it("refuses HTTPS turned on, off or moved (another published port), and reads a record of before HTTPS as off", () => {
        expect(guardVerdict(before, input({ tlsHostPort: 443 }), running)).to.match(/\(proxy\.tls\.port off -> 443\)/);
        expect(guardVerdict({ ...before, tlsHostPort: 443 }, input(), running)).to.match(/\(proxy\.tls\.port 443 -> off\)/);
        expect(guardVerdict({ ...before, tlsHostPort: 443 }, input({ tlsHostPort: 8443 }), running)).to.match(
            /proxy\.tls\.port 443 -> 8443/,
        );
        const old = previousFingerprint(JSON.stringify({ listenAddress: "127.0.0.1", hostPort: 8080, layout: "port-holder" }));
        expect(old).to.deep.equal(before);
        expect(guardVerdict(old, input(), running)).to.equal(undefined);
        expect(guardVerdict(before, input({ tlsHostPort: 443, allowRestart: true }), running)).to.equal(undefined);
    });

    it("allows the same change in a maintenance window", () => {
        expect(guardVerdict(before, input({ hostPort: 9090, allowRestart: true }), running)).to.equal(undefined);
    });

    it("a first deploy passes; a port holder that exists with no record is not replaced silently", () => {
        expect(guardVerdict(undefined, input(), { portHolder: false, legacy: false })).to.equal(undefined);
        expect(guardVerdict(undefined, input(), running)).to.match(/the port holder app-proxy-port exists, but this stack has no record/);
        expect(guardVerdict(undefined, input({ allowRestart: true }), running)).to.equal(undefined);
    });

    it("the proxy of the layout before the port holder is replaced only in a maintenance window", () => {
        const legacy = { portHolder: false, legacy: true };
        expect(guardVerdict(undefined, input(), legacy)).to.match(/^the proxy container app-proxy publishes the port itself/);
        expect(guardVerdict(undefined, input(), legacy)).to.include("Nothing was changed.");
        expect(guardVerdict(undefined, input({ allowRestart: true }), legacy)).to.equal(undefined);
    });

    it("reads the fingerprint the last run printed, and nothing else", () => {
        expect(previousFingerprint(JSON.stringify(before))).to.deep.equal(before);
        expect(previousFingerprint("")).to.equal(undefined);
        // The fingerprint of the layout before the port holder is no record of this one.
        expect(
            previousFingerprint(JSON.stringify({ proxyImage: "app-proxy:aaaaaaaaaaaa", listenAddress: "127.0.0.1", hostPort: 8080 })),
        ).to.equal(undefined);
    });
});
