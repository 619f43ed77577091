// The users' CI workflow, read: valid and in step with the commands the README and
// .ci/run use. test/integration/workflow.test.ts runs it for real with nektos/act.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const workflow = parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "release.yml"), "utf8"));
const runs = (job: string): string => workflow.jobs[job].steps.map((s: { run?: string }) => s.run ?? "").join("\n");

describe("CI workflow (.github/workflows/release.yml)", () => {
    it("tests and previews every environment with the policy pack on pull requests", () => {
        expect(workflow.on).to.have.keys("pull_request", "push");
        expect(runs("test")).to.include(".ci/run");
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        expect(ci).to.include("npm test");
        expect(ci).to.match(/\nscripts\/demo /);
        expect(ci).to.match(/ZDT_HOME=\$\(mktemp -d/); // a new state home for every run
        expect(ci).to.include("unset PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE");
        expect(workflow.jobs.preview.strategy.matrix.stack).to.deep.equal(["dev", "prod"]);
        expect(runs("preview")).to.match(
            /pulumi preview --stack \$\{\{ matrix\.stack \}\}.*\n?.*--policy-pack policies --policy-pack-config policies\/config\/\$\{\{ matrix\.stack \}\}\.json/,
        );
        for (const stack of workflow.jobs.preview.strategy.matrix.stack) {
            expect(fs.existsSync(path.join(ROOT, "policies", "config", `${stack}.json`)), `policies/config/${stack}.json`).to.equal(true);
            expect(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)), `Pulumi.${stack}.yaml`).to.equal(true);
        }
    });

    it("on main: tests, builds and pushes the image, releases dev, then prod by the pushed digest; never cancels an update", () => {
        expect(workflow.on.push.branches).to.deep.equal(["main"]);
        expect(workflow.jobs.build.needs).to.equal("test");
        expect(runs("build")).to.match(/digest=\$\(scripts\/publish --image "\$image" --version "\$version"\)/);
        expect(workflow.jobs["deploy-dev"].needs).to.equal("build");
        expect(workflow.jobs["deploy-prod"].needs).to.deep.equal(["build", "deploy-dev"]);
        expect(runs("deploy-dev")).to.include("npm run release -- --stack dev");
        expect(runs("deploy-prod")).to.include('npm run release -- "$VERSION" --stack prod --digest "$DIGEST"');
        // Job outputs reach the script through env, never pasted into it (script injection).
        expect(workflow.jobs["deploy-prod"].steps.at(-1).env).to.deep.equal({
            VERSION: "${{ needs.build.outputs.version }}",
            DIGEST: "${{ needs.build.outputs.digest }}",
        });
        // A failed test or build stops the pipeline; act (which runs this workflow in the tests) skips only the test job.
        for (const job of ["build", "deploy-dev", "deploy-prod"]) expect(workflow.jobs[job].if).to.include("!failure() && !cancelled()");
        expect(workflow.jobs.test.if).to.equal("github.actor != 'nektos/act'");
        expect(workflow.concurrency["cancel-in-progress"]).to.equal(false);
    });

    it("only runs scripts that exist", () => {
        const all = Object.keys(workflow.jobs).map(runs).join("\n");
        for (const script of new Set(all.match(/(scripts\/|\.ci\/)[\w.-]+/g) ?? [])) {
            expect(fs.existsSync(path.join(ROOT, script)), script).to.equal(true);
        }
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        for (const m of all.matchAll(/npm run (\S+)/g)) expect(pkg.scripts, m[1]).to.have.property(m[1]);
    });
});
