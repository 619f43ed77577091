import { expect } from "chai";
import { streamsCutFromLog } from "../../rollout/retire";

describe("retirement log", () => {
    it("reads how many streams the agent ended at the drain deadline, from its last report", () => {
        expect(
            streamsCutFromLog(
                "agent 1.0.0 listening\nSIGTERM: draining (3 conversations in flight, 2 streams, drain 5000 ms)\nretired: 2 streams ended at the drain deadline\n",
            ),
        ).to.equal(2);
        expect(streamsCutFromLog("retired: 0 streams ended at the drain deadline")).to.equal(0);
        expect(streamsCutFromLog("agent stopped by SIGKILL")).to.equal(0);
    });
});
