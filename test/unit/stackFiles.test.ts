// Committed stack files must work on any machine: `pulumi stack init` on a new
// machine generates its own salt, and fails with "incorrect passphrase" if the file
// already carries another machine's salt or ciphertext.
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..", "..");

/** Lines of a stack file that tie it to one machine's secrets provider. */
function machineBoundLines(text: string): string[] {
    return text.split("\n").filter((l) => /^(encryptionsalt|secretsprovider|encryptedkey):/.test(l) || /\bsecure:\s*\S/.test(l));
}

describe("committed stack files", () => {
    const tracked = execFileSync("git", ["ls-files", "--", "Pulumi.*.yaml", "**/Pulumi.*.yaml"], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);

    it("include the dev and prod stacks", () => {
        expect(tracked).to.include.members(["Pulumi.dev.yaml", "Pulumi.prod.yaml"]);
    });

    it("carry no machine's salt, secrets provider or ciphertext", () => {
        for (const file of tracked) {
            expect(machineBoundLines(fs.readFileSync(path.join(ROOT, file), "utf8")), file).to.deep.equal([]);
        }
    });

    it("are recognised as machine-bound when they do (the check above can fail)", () => {
        const salted = "config:\n  zdt:app: x\nencryptionsalt: v1:abc\n";
        const cipher = "config:\n  zdt:token:\n    secure: v1:AAAA\n";
        expect(machineBoundLines(salted)).to.deep.equal(["encryptionsalt: v1:abc"]);
        expect(machineBoundLines(cipher)).to.have.length(1);
        expect(parse(cipher).config["zdt:token"]).to.have.property("secure");
    });

    it("the demo's stack file is not tracked (the demo writes its own, ignored by git)", () => {
        expect(tracked).to.not.include("Pulumi.demo.yaml");
        expect(spawnSync("git", ["check-ignore", "-q", "--no-index", "Pulumi.demo.yaml"], { cwd: ROOT }).status).to.equal(0);
    });
});
