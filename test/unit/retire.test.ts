import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { SLOT_DIR } from "../../haproxy/admin";
import { DRAIN_FILE, streamsCutFromLog } from "../../docker/retire";

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

describe("paths the rollout programs share with the programs in the containers", () => {
    const read = (p: string) => fs.readFileSync(path.join(__dirname, "..", "..", p), "utf8");

    it("the drain file the switch writes is the one the reference agent reads", () => {
        expect(read("agent/src/server.ts")).to.include(`env.DRAIN_FILE ?? "${DRAIN_FILE}"`);
    });

    it("the config template the proxy-config command writes is the one start-proxy renders", () => {
        expect(read("platform/docker/proxyConfig.ts")).to.include("const TEMPLATE = `${SLOT_DIR}/haproxy.cfg.tmpl`;");
        expect(read("proxy/start-proxy.sh")).to.include(`STATE=${SLOT_DIR}`).and.to.include("TEMPLATE=$STATE/haproxy.cfg.tmpl");
    });
});
