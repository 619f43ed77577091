// The main job's own stack file: derived from Pulumi.dev.yaml, never a tracked file.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { demoStackFile, parseDemoArgs } from "../../ops/demoStack";

const DEV = fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");

describe("demo stack file", () => {
    it("is the dev stack's configuration, with the demo's overrides", () => {
        const out = parse(demoStackFile(DEV, undefined, { stack: "demo", app: "zci-1", port: 19000 }));
        const dev = parse(DEV);
        expect(out.config["zdt:app"]).to.equal("zci-1");
        expect(out.config["zdt:proxy"].port).to.equal(19000);
        expect(out.config["zdt:agent"]).to.deep.equal(dev.config["zdt:agent"]);
        expect(out.config["zdt:release"]).to.deep.equal(dev.config["zdt:release"]);
        expect(out).to.not.have.property("encryptionsalt");
        expect(parse(demoStackFile(DEV, undefined, { stack: "demo" })).config).to.deep.equal(dev.config);
    });

    it("keeps the salt `pulumi stack init` wrote into the previous copy, and nothing else of it", () => {
        const previous = "config:\n  zdt:app: old\n  zdt:agent:\n    version: 2.0.0\nencryptionsalt: v1:abc:def\n";
        const out = parse(demoStackFile(DEV, previous, { stack: "demo" }));
        expect(out.encryptionsalt).to.equal("v1:abc:def");
        expect(out.config["zdt:app"]).to.equal(parse(DEV).config["zdt:app"]);
    });

    it("refuses unknown or malformed arguments, naming what is allowed", () => {
        expect(parseDemoArgs([])).to.deep.equal({ stack: "demo" });
        expect(parseDemoArgs(["--app", "zci-ab12", "--port", "18123"])).to.deep.equal({ stack: "demo", app: "zci-ab12", port: 18123 });
        expect(() => parseDemoArgs(["--port", "99999"])).to.throw(/--port <1-65535>/);
        expect(() => parseDemoArgs(["--app", "Bad Name"])).to.throw(/unexpected argument "--app Bad Name"/);
        expect(() => parseDemoArgs(["--verbose"])).to.throw(/allowed are --stack/);
    });
});
