import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parseServersState, SLOT_DIR, SLOT_FILE, slotFile, statRow } from "../../rollout/haproxy";

describe("HAProxy `show stat` parsing", () => {
    const csv = "# pxname,svname,scur,req_tot,hrsp_5xx,status\nagents,FRONTEND,3,120,2,OPEN\nagents,green,1,80,0,UP\n";
    it("finds a row by proxy and server and names its columns", () => {
        expect(statRow(csv, "agents", "green")).to.include({ pxname: "agents", req_tot: "80", hrsp_5xx: "0", status: "UP" });
        expect(statRow(csv, "agents", "FRONTEND")!.req_tot).to.equal("120");
        expect(statRow(csv, "agents", "blue")).to.equal(undefined);
    });
});

describe("HAProxy `show servers state` and the slot file", () => {
    // As HAProxy 2.6 prints it: blue in maintenance by config (admin 0x01), green running at weight 100.
    const out = [
        "1",
        "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord",
        "3 agents 1 blue - 0 1 0 1 40 1 0 0 14 0 0 0 unassigned.invalid 8080 -",
        "3 agents 2 green 172.18.0.3 2 4 100 1 40 6 3 4 6 0 0 0 app-agent-2-0-0-bbbbbbbb 8080 -",
    ].join("\n");

    it("reads each slot's address, weight, check state and maintenance", () => {
        expect(parseServersState(out)).to.deep.equal({
            blue: { slot: "blue", fqdn: "unassigned.invalid", up: false, maint: true, weight: 0 },
            // 0x04 only records "disabled" in the config file and does not mean maintenance.
            green: { slot: "green", fqdn: "app-agent-2-0-0-bbbbbbbb", up: true, maint: false, weight: 100 },
        });
    });

    it("writes the slot file proxy/start-proxy.sh reads back: '<slot> <address> <weight> <ready|maint>'", () => {
        expect(slotFile({ blue: { fqdn: "a", weight: 0, maint: true }, green: { fqdn: "b", weight: 100, maint: false } })).to.equal(
            "blue a 0 maint\ngreen b 100 ready\n",
        );
        const script = fs.readFileSync(path.join(__dirname, "..", "..", "proxy", "start-proxy.sh"), "utf8");
        expect(script).to.include("while read -r slot address weight state");
        expect(script).to.include(`STATE=${SLOT_DIR}`);
        expect(`${SLOT_DIR}/slots`).to.equal(SLOT_FILE);
        expect(script).to.include("SLOTS=$STATE/slots");
    });
});
