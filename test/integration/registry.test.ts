// The production path with a real registry (Debian's docker-registry, started by
// scripts/registry): scripts/publish builds and pushes each version and prints its
// digest; a prod-like stack (the shape of Pulumi.prod.yaml: image from the registry,
// pinned by digest, the policy pack's prod rules) pulls it and releases it under load.
// A version the registry lacks, and a registry that is down, fail the update before
// anything changes while the live release keeps serving.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LoadReport } from "../../load/client";
import { standardLoad } from "../../load/profile";
import { TestStack, freePort, mustRun, run, uniqueName } from "../support/pulumi";
import { LocalRegistry } from "../support/registry";
import { agentContainers } from "../support/containers";
import { stepByStep } from "../support/steps";
import { underLoad } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const POLICIES = path.join(ROOT, "policies");

describe("registry path: publish, pull by digest, release (real engine, real registry)", function () {
    this.timeout(900_000);
    const step = stepByStep();
    const app = uniqueName("zr");
    const stack = new TestStack(ROOT, app);
    const registry = new LocalRegistry();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-registry-suite-"));
    const repository = `${app}-agent`;
    const digests: Record<string, string> = {};
    let url = "";
    let image = "";

    // The prod policy config with this suite's short verification window: requireDigest
    // and every other prod rule as shipped.
    const policyConfig = path.join(work, "prod-like.json");
    const upWithPolicies = () => stack.up(undefined, undefined, ["--policy-pack", POLICIES, "--policy-pack-config", policyConfig]);

    async function servedRelease(): Promise<string> {
        return ((await (await fetch(`${url}/version`)).json()) as { releaseId: string }).releaseId;
    }

    /** `pulumi up` (with the prod policy pack) while the strict client loads the proxy. */
    async function upUnderLoad(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; report: LoadReport }> {
        const { result: up, report } = await underLoad(standardLoad(url), () => upWithPolicies());
        return { up, report };
    }

    function expectNothingLost(report: LoadReport): void {
        expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
        expect(report.streamsTruncated).to.equal(0);
        expect(report.conversationsBroken).to.equal(0);
        expect(report.ok).to.be.greaterThan(100);
        expect(report.conversationsCompleted).to.be.greaterThan(0);
    }

    /** Local copies go, so a release must pull from the registry. */
    async function forgetLocally(version: string): Promise<void> {
        await run("docker", ["image", "rm", `${image}:${version}`, `${image}@${digests[version]}`]);
        expect((await run("docker", ["image", "inspect", `${image}@${digests[version]}`])).code).to.not.equal(0);
    }

    before(async () => {
        await registry.start();
        image = `${registry.host}/${repository}`;
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        const prod = JSON.parse(fs.readFileSync(path.join(POLICIES, "config", "prod.json"), "utf8"));
        expect(prod["images-pinned"]).to.deep.equal({ requireDigest: true });
        prod["release-verification-window"].minVerifyWindowSeconds = 6;
        fs.writeFileSync(policyConfig, JSON.stringify(prod));
        // Pulumi.prod.yaml's shape: a registry image (no build context), pinned by digest.
        await stack.init({
            app,
            "agent.image": image,
            "agent.version": "1.0.0",
            "agent.memoryMb": "256",
            "proxy.port": String(port),
            "proxy.listenAddress": "127.0.0.1",
            // A conversation idle timeout of 5 s (10 min in production), so each release's
            // conversation drain ends within the suite's drain.
            "proxy.conversations.idleTimeoutSeconds": "5",
            "release.verifyWindowSeconds": "6",
            "release.healthGateTimeoutSeconds": "30",
            "release.drainTimeoutSeconds": "10",
        });
    });

    after(async () => {
        await stack.remove();
        await registry.remove();
        const left = await run("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=${image}`]);
        const names = left.stdout.split("\n").filter((t) => t && !t.endsWith(":<none>"));
        if (names.length) await run("docker", ["image", "rm", ...names]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    step("scripts/publish pushes a version once and prints the registry's digest; publishing it again changes nothing", async () => {
        for (const version of ["1.0.0", "2.0.0"]) digests[version] = await registry.publish(repository, version);
        expect(digests["1.0.0"]).to.match(/^sha256:[0-9a-f]{64}$/);
        expect(digests["2.0.0"])
            .to.match(/^sha256:[0-9a-f]{64}$/)
            .and.to.not.equal(digests["1.0.0"]);
        expect(await registry.tags(repository)).to.deep.equal(["1.0.0", "2.0.0"]);
        expect(await registry.publish(repository, "1.0.0")).to.equal(digests["1.0.0"]);
        await forgetLocally("1.0.0");
        await forgetLocally("2.0.0");
    });

    step("the first release pulls 1.0.0 by digest, and passes the prod policy pack", async () => {
        await stack.setConfig("agent.digest", digests["1.0.0"]);
        const up = await upWithPolicies();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout).to.not.match(/\[(mandatory|advisory)\]/);
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("1.0.0");
        expect(await servedRelease()).to.equal(out.liveRelease);
        const ran = await mustRun("docker", ["inspect", "--format", "{{.Config.Image}}", `${app}-agent-${out.liveRelease}`]);
        expect(ran.stdout.trim()).to.equal(`${image}:1.0.0@${digests["1.0.0"]}`);
    });

    step("the prod policy pack refuses a registry image pinned by tag only, before anything changes", async () => {
        const live = (await stack.outputs()).liveRelease;
        await stack.rmConfig("agent.digest");
        const preview = await stack.preview(["--policy-pack", POLICIES, "--policy-pack-config", policyConfig]);
        const out = preview.stdout + preview.stderr;
        expect(preview.code, out).to.not.equal(0);
        expect(out, out).to.match(/\[mandatory\]\s+images-pinned/);
        expect(out, out).to.include("pinned by tag only; this stack requires a digest");
        expect(await servedRelease()).to.equal(live);
        await stack.setConfig("agent.digest", digests["1.0.0"]);
    });

    step("2.0.0 pulled by digest under load: 0 failed requests, 0 truncated streams, 0 broken conversations", async () => {
        await stack.setConfig("agent.version", "2.0.0");
        await stack.setConfig("agent.digest", digests["2.0.0"]);
        const { up, report } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expectNothingLost(report);
        const out = await stack.outputs();
        expect([out.liveVersion, out.previousVersion]).to.deep.equal(["2.0.0", "1.0.0"]);
        expect(await agentContainers(app, true)).to.deep.equal([`${app}-agent-${out.liveRelease}`]);
        console.log(
            `      2.0.0 from the registry: ${report.requests} requests, ${report.failed} failed, ${report.conversationsCompleted} conversations`,
        );
    });

    step("a version the registry lacks fails before anything changes, naming agent.version; 2.0.0 keeps serving", async () => {
        const live = await stack.outputs();
        const containers = await agentContainers(app, true);
        await stack.setConfig("agent.version", "9.9.9");
        await stack.rmConfig("agent.digest");
        const { up, report } = await upUnderLoad();
        expect(up.code).to.not.equal(0);
        const out = up.stdout + up.stderr;
        expect(out).to.include("invalid stack configuration (nothing was changed)");
        expect(out).to.include(`agent.version: the Docker engine has no image "${image}:9.9.9" and cannot pull it`);
        expectNothingLost(report);
        expect(await servedRelease()).to.equal(live.liveRelease);
        expect(await agentContainers(app, true)).to.deep.equal(containers);
        expect((await stack.outputs()).liveRelease).to.equal(live.liveRelease);
    });

    step("registry down: a release of 3.0.0 fails clearly and 2.0.0 keeps serving; with the registry back it goes through", async () => {
        const live = await stack.outputs();
        digests["3.0.0"] = await registry.publish(repository, "3.0.0");
        await forgetLocally("3.0.0");
        await stack.setConfig("agent.version", "3.0.0");
        await stack.setConfig("agent.digest", digests["3.0.0"]);
        await registry.stop();
        try {
            const { up, report } = await upUnderLoad();
            expect(up.code).to.not.equal(0);
            expect(up.stdout + up.stderr).to.include(
                `agent.version / agent.digest: the Docker engine has no image "${image}:3.0.0@${digests["3.0.0"]}" and cannot pull it`,
            );
            expectNothingLost(report);
            expect(await servedRelease()).to.equal(live.liveRelease);
        } finally {
            await registry.start();
        }
        const { up, report } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expectNothingLost(report);
        expect((await stack.outputs()).liveVersion).to.equal("3.0.0");
    });
});
