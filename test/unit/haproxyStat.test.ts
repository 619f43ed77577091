import { expect } from "chai";
import { statRow } from "../../scripts/haproxyStat";

describe("HAProxy `show stat` parsing", () => {
    const csv = "# pxname,svname,scur,req_tot,hrsp_5xx,status\nagents,FRONTEND,3,120,2,OPEN\nagents,green,1,80,0,UP\n";
    it("finds a row by proxy and server and names its columns", () => {
        expect(statRow(csv, "agents", "green")).to.include({ pxname: "agents", req_tot: "80", hrsp_5xx: "0", status: "UP" });
        expect(statRow(csv, "agents", "FRONTEND")!.req_tot).to.equal("120");
        expect(statRow(csv, "agents", "blue")).to.equal(undefined);
    });
});
