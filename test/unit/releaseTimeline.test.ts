// The release timeline sampled from the fake proxy: rates per release, the flip marked.
import { expect } from "chai";
import { releaseOfContainer, TimelineRecorder } from "../../ops/releaseTimeline";
import { HaproxyAdmin } from "../../haproxy/admin";
import { FakeProxy } from "../support/fakeProxy";
import { CurlProbes } from "../../haproxy/probes";

const C1 = "app-agent-1-0-0-aaaaaaaa";
const C2 = "app-agent-2-0-0-bbbbbbbb";

describe("release timeline", () => {
    it("names the release of an agent container", () => {
        expect(releaseOfContainer(C2)).to.equal("2-0-0-bbbbbbbb");
        expect(releaseOfContainer("my-own-agent")).to.equal("my-own-agent");
    });

    it("samples requests per second per release and marks the flip", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, { release: "1-0-0-aaaaaaaa", version: "1.0.0" }).set(C2, { release: "2-0-0-bbbbbbbb", version: "2.0.0" });
        const admin = new HaproxyAdmin(proxy.exec, "app-proxy");
        const probes = new CurlProbes(proxy.exec, 8080);
        const rec = new TimelineRecorder(admin, probes, proxy.clock.now);
        await admin.assign("green", C2);
        await rec.sample(); // the first reading: nothing to count from yet
        await probes.synthetic(50);
        await proxy.clock.sleep(1000);
        await rec.sample();
        await admin.setWeights(["green", 100], ["blue", 0]);
        await probes.synthetic(30);
        await proxy.clock.sleep(1000);
        await rec.sample();
        rec.mark("verification");
        const t = rec.stop();
        expect(t.samples).to.have.length(2);
        expect(t.samples[0].releases["1-0-0-aaaaaaaa"]).to.deep.include({ weight: 100 });
        expect(t.samples[0].releases["1-0-0-aaaaaaaa"].rps).to.be.closeTo(50, 3); // over the second and the admin calls of the sample
        expect(t.samples[1].releases["2-0-0-bbbbbbbb"]).to.deep.include({ weight: 100 });
        expect(t.samples[1].releases["2-0-0-bbbbbbbb"].rps).to.be.closeTo(30, 2);
        expect(t.marks.map((m) => m.label)).to.deep.equal(["blue weight 100 -> 0", "green weight 0 -> 100", "verification"]);
    });
});
