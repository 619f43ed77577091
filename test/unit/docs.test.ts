// Documentation that users get with the repository must not point outside it.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

/** Relative link targets of a Markdown text (no URLs, no in-page anchors). */
function relativeLinks(markdown: string): string[] {
    return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1])
        .filter((t) => !/^([a-z]+:|#)/i.test(t))
        .map((t) => t.replace(/#.*$/, ""));
}

describe("documentation links", () => {
    const docs = execFileSync("git", ["ls-files", "--", "*.md"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);

    it("finds the README among the documents", () => {
        expect(docs).to.include("README.md");
        expect(relativeLinks("[a](x/y.md) [b](https://e.com) [c](#top) [d](../out.txt#l)")).to.deep.equal(["x/y.md", "../out.txt"]);
    });

    it("every relative link resolves to a file inside the repository", () => {
        for (const doc of docs) {
            for (const target of relativeLinks(fs.readFileSync(path.join(ROOT, doc), "utf8"))) {
                const abs = path.resolve(ROOT, path.dirname(doc), target);
                expect(abs.startsWith(ROOT + path.sep), `${doc} links ${target}, outside the repository`).to.equal(true);
                expect(fs.existsSync(abs), `${doc} links ${target}, which does not exist`).to.equal(true);
            }
        }
    });

    it("the README stays a page a newcomer reads in minutes (under 200 lines; the rest is in docs/)", () => {
        const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length;
        expect(lines, "README.md lines").to.be.below(200);
        const linked = relativeLinks(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
        for (const doc of docs.filter((d) => d.startsWith("docs/"))) expect(linked, `README.md links ${doc}`).to.include(doc);
    });

    it("no document sends readers to the machine's shared folder", () => {
        for (const doc of docs) expect(fs.readFileSync(path.join(ROOT, doc), "utf8"), doc).to.not.match(/\.\.\/shared\//);
    });
});
