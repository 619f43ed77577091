// The test command's runner: a failed step skips only the later steps of its own
// suite, with a message, and a run that executes fewer tests than it declares fails.
import { expect } from "chai";
import * as path from "path";
import { run } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");

describe("test runner", function () {
    this.timeout(120_000);

    it("skips only the later steps of a broken suite, says why, and fails the run listing what did not run", async () => {
        const r = await run("node", ["-r", "ts-node/register/transpile-only", "test/run.ts", "test/fixtures/runner"], { cwd: ROOT });
        const out = r.stdout + r.stderr;
        expect(r.code, out).to.equal(1);
        expect(out).to.match(/✔ step one passes/);
        expect(out).to.match(/\d+\) step two fails/);
        expect(out).to.include('step three builds on step two [skipped: the earlier step "step two fails" failed]');
        expect(out).to.match(/✔ still runs/);
        expect(out).to.include("tests: 3 of 5 executed, 2 failed, from 1 files");
        expect(out).to.include("NOT RUN (2)");
        expect(out).to.include("a step-by-step suite step three builds on step two");
        expect(out).to.include("a suite whose before hook fails is never reached (never reached: a hook of its suite failed)");
    });

    it("passes a run in which every declared test executed", async () => {
        const r = await run(
            "node",
            ["-r", "ts-node/register/transpile-only", "test/run.ts", "test/fixtures/runner", "--grep", "still runs"],
            { cwd: ROOT },
        );
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include('tests: 1 of 1 executed (selected by --grep "still runs" from 5), 0 failed');
    });

    it("runs files in lanes side by side, each line marked with its lane, and adds up their accounts", async () => {
        const r = await run("node", ["-r", "ts-node/register/transpile-only", "test/run.ts", "test/fixtures/lanes", "--lanes", "2"], {
            cwd: ROOT,
        });
        const out = r.stdout + r.stderr;
        expect(r.code, out).to.equal(1);
        expect(out).to.match(/^\[\d\] +✔ passes here$/m);
        expect(out).to.match(/^\[\d\] +\d+\) fails in its own lane$/m);
        expect(new Set(out.match(/^\[(\d)\]/gm))).to.deep.equal(new Set(["[1]", "[2]"]));
        expect(out).to.include("tests: 3 of 3 executed, 1 failed, from 2 files");
    });
});
