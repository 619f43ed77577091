// Slots as server templates on Swarm (platform/swarm/swarmSlots.ts): HAProxy 2.6's answers read
// into the one-host slot shapes. Lines in the format the test cluster's proxies printed.
import { expect } from "chai";
import { parseTemplateServers, slotOfServer, templateConnections, templateSlots } from "../../platform/swarm/swarmSlots";

// be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ... srv_fqdn srv_port ...
const line = (id: number, name: string, addr: string, op: number, admin: number, weight: number, fqdn: string) =>
    `3 agents ${id} ${name} ${addr} ${op} ${admin} ${weight} ${weight} 30 15 3 4 6 0 0 0 ${fqdn} 8080 - 0 0 - - 0`;
const state = (rows: string[]) => ["1", "# be_id be_name srv_id srv_name srv_addr ...", ...rows].join("\n");

describe("Swarm slots: server templates", () => {
    const live = state([
        line(1, "blue1", "10.0.1.2", 2, 64, 100, "tasks.app-agent-a"),
        line(2, "blue2", "10.0.1.3", 2, 68, 100, "tasks.app-agent-a"),
        line(3, "blue3", "-", 0, 96, 100, "tasks.app-agent-a"),
        line(4, "blue4", "-", 0, 96, 100, "tasks.app-agent-a"),
        line(5, "green1", "10.0.1.7", 2, 1, 0, "tasks.app-agent-b"),
        line(6, "green2", "-", 0, 33, 0, "tasks.app-agent-b"),
        line(7, "green3", "-", 0, 33, 0, "tasks.app-agent-b"),
        line(8, "green4", "-", 0, 33, 0, "tasks.app-agent-b"),
    ]);

    it("names the slot of a template server, and nothing else", () => {
        expect(slotOfServer("blue12")).to.equal("blue");
        expect(slotOfServer("green1")).to.equal("green");
        expect(slotOfServer("blue")).to.equal(undefined);
        expect(slotOfServer("probe1")).to.equal(undefined);
    });

    it("reads every server: a server without an address (resolution maintenance, 0x20) is neither up nor in service", () => {
        const s = parseTemplateServers(live);
        expect(s.blue.map((x) => [x.name, x.up, x.maint])).to.deep.equal([
            ["blue1", true, false],
            ["blue2", true, false],
            ["blue3", false, true],
            ["blue4", false, true],
        ]);
        expect(s.green[0]).to.include({ name: "green1", id: 5, address: "10.0.1.7", up: false, maint: true, fqdn: "tasks.app-agent-b" });
    });

    it("a slot is up when as many servers as the release has tasks are up; one fewer is not", () => {
        expect(templateSlots(live, 2).blue).to.include({
            up: true,
            maint: false,
            weight: 100,
            fqdn: "tasks.app-agent-a",
            id: 1,
            upServers: 2,
        });
        expect(templateSlots(live, 3).blue.up).to.equal(false);
    });

    it("a slot whose every server is forced into maintenance or has no address is in maintenance", () => {
        expect(templateSlots(live, 1).green).to.include({ maint: true, weight: 0, up: false });
    });

    it("a backend without a slot's template is an error, not an empty slot", () => {
        expect(() => templateSlots(state([line(1, "blue1", "10.0.1.2", 2, 0, 100, "tasks.a")]), 1)).to.throw(/no servers green1/);
    });

    it("sums a slot's connections over its servers", () => {
        const conn = [
            "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]",
            "agents/blue1 3/1 10.0.1.2 8080 - 5000 2 4 2 0 0 -1 0 0 0",
            "agents/blue2 3/2 10.0.1.3 8080 - 5000 1 3 1 0 0 -1 0 0 0",
            "agents/green1 3/5 10.0.1.7 8080 - 5000 0 1 0 0 0 -1 0 0 0",
        ].join("\n");
        expect(templateConnections(conn)).to.deep.equal({ blue: { used: 3, idle: 0 }, green: { used: 0, idle: 0 } });
    });
});
