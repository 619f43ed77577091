// The program's modules and its commands' programs run as JavaScript transpiled into
// dist/run/ (components/compiledPrograms.ts): what is transpiled, when again, and that the
// output runs as its source would.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compiledPath, compileSession, compileTree, isCurrent, programCommand, projectRoot } from "../../components/compiledPrograms";

const ROOT = path.join(__dirname, "..", "..");

describe("compiled programs (dist/run)", () => {
    let dir: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-compiled-"));
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
        fs.mkdirSync(path.join(dir, "lib"));
        fs.writeFileSync(path.join(dir, "main.ts"), 'import { twice } from "./lib/twice";\nconsole.log(twice(21));\n');
        fs.writeFileSync(path.join(dir, "lib", "twice.ts"), "export const twice = (n: number): number => n * 2;\n");
        fs.writeFileSync(path.join(dir, "unused.ts"), "export const x = 1;\n");
    });

    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const runCompiled = () => execFileSync("node", [compiledPath("main.ts")], { cwd: dir, encoding: "utf8" }).trim();

    it("transpiles an entry and what it imports, not other files; the output runs", () => {
        expect(compileTree(dir, ["main.ts"]).sort()).to.deep.equal(["lib/twice.ts", "main.ts"]);
        expect(fs.existsSync(path.join(dir, compiledPath("unused.ts")))).to.equal(false);
        expect(runCompiled()).to.equal("42");
    });

    it("transpiles again only what changed", () => {
        compileTree(dir, ["main.ts"]);
        expect(compileTree(dir, ["main.ts"])).to.deep.equal([]);
        fs.writeFileSync(path.join(dir, "lib", "twice.ts"), "export const twice = (n: number): number => n * 2 + 1;\n");
        expect(compileTree(dir, ["main.ts"])).to.deep.equal(["lib/twice.ts"]);
        expect(runCompiled()).to.equal("43");
    });

    it("a run that finds everything current does not load TypeScript; a changed file does", () => {
        compileTree(dir, ["main.ts"]);
        const warm = compileSession(dir);
        expect(compileTree(dir, ["main.ts"], warm)).to.deep.equal([]);
        expect(warm.transpiler, "TypeScript loaded for current files").to.equal(undefined);
        expect([...warm.checked].sort()).to.deep.equal(["lib/twice.ts", "main.ts"]); // the imports come from the outputs' first lines
        fs.appendFileSync(path.join(dir, "main.ts"), "export {};\n");
        const changed = compileSession(dir);
        expect(compileTree(dir, ["main.ts"], changed)).to.deep.equal(["main.ts"]);
        expect(changed.transpiler).to.not.equal(undefined);
    });

    it("says whether a file's output is current (program.js asks it of the transpiler itself)", () => {
        expect(isCurrent(dir, "main.ts")).to.equal(false);
        compileTree(dir, ["main.ts"]);
        expect(isCurrent(dir, "main.ts")).to.equal(true);
        fs.writeFileSync(path.join(dir, "lib", "twice.ts"), "export const twice = (n: number): number => n + n;\n");
        expect(isCurrent(dir, "lib/twice.ts")).to.equal(false);
    });

    it("an import added to a file is followed", () => {
        compileTree(dir, ["main.ts"]);
        fs.writeFileSync(path.join(dir, "main.ts"), 'import { x } from "./unused";\nconsole.log(x);\n');
        expect(compileTree(dir, ["main.ts"]).sort()).to.deep.equal(["main.ts", "unused.ts"]);
        expect(runCompiled()).to.equal("1");
    });

    it("transpiles again when the compiler options change", () => {
        compileTree(dir, ["main.ts"]);
        const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")) as { compilerOptions: { target: string } };
        tsconfig.compilerOptions.target = "ES2020";
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
        expect(compileTree(dir, ["main.ts"]).sort()).to.deep.equal(["lib/twice.ts", "main.ts"]);
    });

    it("an output someone changed by hand is written again from its source", () => {
        compileTree(dir, ["main.ts"]);
        fs.writeFileSync(path.join(dir, compiledPath("lib/twice.ts")), "exports.twice = () => 0;\n");
        expect(compileTree(dir, ["main.ts"])).to.deep.equal(["lib/twice.ts"]);
        expect(runCompiled()).to.equal("42");
    });

    it("an import of a file that does not exist fails naming the importer and the import", () => {
        fs.writeFileSync(path.join(dir, "main.ts"), 'import { gone } from "./lib/gone";\nconsole.log(gone);\n');
        expect(() => compileTree(dir, ["main.ts"])).to.throw(/main\.ts: cannot find the module "\.\/lib\/gone"/);
    });

    it("a project folder it cannot write to fails naming the file and what it needs", function () {
        if (process.getuid?.() === 0) {
            // root writes anywhere: a file where the folder should be stands in for a read-only one.
            fs.writeFileSync(path.join(dir, "dist"), "not a folder");
        } else fs.chmodSync(dir, 0o555);
        expect(() => compileTree(dir, ["main.ts"])).to.throw(
            /cannot write dist\/run\/main\.js .*dist\/run\/ in the project folder, which must be writable/,
        );
        fs.chmodSync(dir, 0o755);
    });

    it("a command resource runs its program from the project's dist/run/, by a path relative to the project", () => {
        expect(projectRoot()).to.equal(ROOT);
        expect(programCommand("platform/docker/proxyGuard.ts")).to.equal("node dist/run/platform/docker/proxyGuard.js");
        expect(fs.existsSync(path.join(ROOT, "dist", "run", "contracts", "proxyGuardContract.js"))).to.equal(true);
    });
});
