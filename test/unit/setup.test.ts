// scripts/setup's pieces that can be checked without a machine to set up.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LIB = path.join(__dirname, "..", "..", "scripts", "lib.sh");

describe("setup: plugin shims", () => {
    it("replaces a link to an official plugin instead of writing through it, and runs the stand-in", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-shim-"));
        try {
            const official = path.join(dir, "official-pulumi-resource-docker");
            fs.writeFileSync(official, "#!/bin/sh\necho official\n", { mode: 0o755 });
            const bin = path.join(dir, "pulumi-resource-docker");
            fs.symlinkSync(official, bin);
            const standIn = path.join(dir, "stand-in.js");
            fs.writeFileSync(standIn, "console.log('stand-in', process.argv.slice(2).join(' '))\n");
            execFileSync("bash", ["-c", `. "${LIB}" && write_shim "$1" "$2"`, "-", bin, standIn]);
            expect(fs.readFileSync(official, "utf8")).to.equal("#!/bin/sh\necho official\n");
            expect(fs.lstatSync(bin).isSymbolicLink()).to.equal(false);
            expect(execFileSync(bin, ["a", "b"]).toString()).to.equal("stand-in a b\n");
            expect(fs.readdirSync(dir).sort()).to.deep.equal(["official-pulumi-resource-docker", "pulumi-resource-docker", "stand-in.js"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
