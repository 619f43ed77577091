// Releases with the real engine, the real Docker engine and HAProxy, with a strict
// client loading the proxy the whole time (see test/support/load.ts).
import { ADMIN_SESSION } from "../../haproxy/admin";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoadGenerator, LoadReport } from "../../load/client";
import { standardLoad } from "../../load/profile";
import { release, ReleaseReport } from "../../ops/release";
import { servingProxy } from "../../docker/servingProxy";
import { PROXY_INTERNAL_PORT } from "../../core/proxyNames";
import { compiledPath } from "../../components/compiledPrograms";
import { SWITCH_PROGRAM } from "../../components/trafficSwitch";
import { getOnce } from "../support/http";
import { agentStack, TestStack, freePort, mustRun, run, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { answered, underLoad as loadAround } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("blue/green release under load (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const app = uniqueName("zt");
    const stack = new TestStack(ROOT, app);
    let url = "";

    /** Docker's state (running, exited, ...) of each agent container of this app, by name. */
    async function agentStatuses(): Promise<Record<string, string>> {
        const r = await mustRun("docker", [
            "ps",
            "-a",
            "--format",
            "{{.Names}} {{.State}}",
            "--filter",
            `label=zdt.app=${app}`,
            "--filter",
            "label=zdt.role=agent",
        ]);
        return Object.fromEntries(
            r.stdout
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split(" ")),
        );
    }

    async function agentContainers(): Promise<string[]> {
        return Object.keys(await agentStatuses()).sort();
    }

    async function servedRelease(): Promise<string> {
        const res = await getOnce(`${url}/version`);
        return (JSON.parse(res.body) as { releaseId: string }).releaseId;
    }

    /** Runs `fn` with the strict client loading the proxy (>= 100 short requests/s plus streams) before, during and after it. */
    async function underLoad(fn: (load: LoadGenerator) => Promise<void>): Promise<LoadReport> {
        return (await loadAround(standardLoad(url), fn)).report;
    }

    /** `pulumi up` with the strict client running before, during and after it. */
    async function upUnderLoad(): Promise<{ up: Awaited<ReturnType<TestStack["up"]>>; report: LoadReport }> {
        let up = { code: -1, stdout: "", stderr: "" };
        const report = await underLoad(async () => {
            up = await stack.up();
        });
        return { up, report };
    }

    /** The stack serves `version` (after `previous`) from exactly one agent container. */
    async function expectConverged(version: string, previous: string): Promise<Record<string, any>> {
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal(version);
        expect(out.previousVersion).to.equal(previous);
        expect(await agentContainers()).to.deep.equal([`${app}-agent-${out.liveRelease}`]);
        return out;
    }

    /** Traffic-switch processes acting on this stack's proxy (read from /proc). */
    function switchProcesses(): number[] {
        return fs
            .readdirSync("/proc")
            .filter((d) => /^\d+$/.test(d))
            .map(Number)
            .filter((pid) => {
                try {
                    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
                    return cmd.includes(compiledPath(SWITCH_PROGRAM)) && env.some((e) => e.startsWith(`PROXY_CONTAINER=${app}-proxy-`));
                } catch {
                    return false; // gone meanwhile
                }
            });
    }

    /** Waits until `done()` holds, bounded by `ms`. */
    async function until(done: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
        const deadline = Date.now() + ms;
        while (!(await done())) {
            if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms / 1000}s`);
            await sleep(200);
        }
    }

    /** Starts `pulumi up` detached and kills its process group once `ready()` holds. */
    async function killUpWhen(ready: () => Promise<boolean>, what: string): Promise<void> {
        const child = stack.upDetached();
        const deadline = Date.now() + 240_000;
        while (!(await ready())) {
            if (Date.now() > deadline) throw new Error(`${what} never happened`);
            await sleep(200);
        }
        process.kill(-child.pid!, "SIGKILL");
    }

    function expectNoFailures(report: LoadReport): void {
        expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
        expect(report.streamsTruncated).to.equal(0);
        expect(report.streamsRetired).to.equal(0); // every stream finished within the drain
        expect(report.ok).to.be.greaterThan(100);
        expect(report.streamsCompleted).to.be.greaterThan(0);
        // Every conversation kept its release and its turns: none hopped mid-conversation.
        expect(report.conversationsBroken).to.equal(0);
        expect(report.conversationsCompleted).to.be.greaterThan(0);
    }

    // HAProxy's config template, a copy this suite may change.
    const templateDir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-proxy-cfg-"));
    const template = path.join(templateDir, "haproxy.cfg.tmpl");

    before(async () => {
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        fs.copyFileSync(path.join(ROOT, "proxy", "haproxy.cfg.tmpl"), template);
        await stack.init(
            agentStack(app, port, {
                "proxy.configTemplate": template,
                // A conversation idle timeout of 5 s (10 min in production), so each release's
                // conversation drain ends within the suite's drain.
                "proxy.conversations.idleTimeoutSeconds": "5",
                "agent.env.STREAM_TOKEN_DELAY_MS": "120",
                "release.verifyWindowSeconds": "6",
                "release.healthGateTimeoutSeconds": "30",
                "release.drainTimeoutSeconds": "10",
            }),
        );
    });

    after(async () => {
        await stack.remove();
        fs.rmSync(templateDir, { recursive: true, force: true });
        await run("docker", ["rmi", "zdt-test-proxy-base:1"]); // the maintenance step's base image
    });

    step("first deploy serves v1 through the proxy", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("1.0.0");
        expect(out.previousVersion).to.equal(null);
        expect(await servedRelease()).to.equal(out.liveRelease);
        expect(out.adminTokenValue).to.equal("[secret]");
    });

    step("releases v1 -> v2 with zero failed requests and zero truncated streams", async () => {
        const before = await stack.outputs();
        await stack.setConfig("agent.version", "2.0.0");
        const { up, report } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expectNoFailures(report);
        const after = await stack.outputs();
        expect(after.liveVersion).to.equal("2.0.0");
        expect(after.previousVersion).to.equal("1.0.0");
        expect(after.liveColor).to.not.equal(before.liveColor);
        // A release does not run the knowledge reindex (the new release indexed at start).
        expect(up.stdout).to.not.include("knowledge-reindex");
        // Right after a release, a preview plans nothing: no perpetual diff on any resource.
        const preview = await stack.preview();
        expect(preview.code, preview.stdout + preview.stderr).to.equal(0);
        expect(preview.stdout).to.not.match(/to (create|update|replace|delete)/);
        // Both releases answered during the run; streams begun on v1 finished after v2 took over.
        const v1 = report.releases[before.liveRelease];
        const v2 = report.releases[after.liveRelease];
        expect(v1.answers).to.be.greaterThan(0);
        expect(v2.answers).to.be.greaterThan(0);
        // Conversations begun on v1 finished there: v1 answered later turns more than a turn's
        // pause (1 s) after v2 began taking new conversations, and none hopped (0 broken).
        expect(report.lastLaterTurnMs[before.liveRelease]).to.be.greaterThan(v2.firstMs + 1000);
        expect(await agentContainers()).to.deep.equal([`${app}-agent-${after.liveRelease}`]);
    });

    step(
        "an unhealthy v3 never gets traffic: the update fails naming the failed check and quoting its logs, v2 keeps serving",
        async () => {
            const live = await stack.outputs();
            await stack.setConfig("agent.version", "3.0.0");
            await stack.setConfig("agent.faults.failHealth", "true");
            await stack.setConfig("release.healthGateTimeoutSeconds", "8");
            const { up, report } = await upUnderLoad();
            expect(up.code).to.not.equal(0);
            expect(up.stdout + up.stderr)
                .to.match(/health gate: 3-0-0-\S+ did not pass \/health through the proxy within 8s/)
                .and.to.match(/fault.*FAULT_HEALTH=fail/)
                .and.to.match(/Last 15 log lines of \S+-agent-3-0-0-\S+:\n[\s\S]*\| agent 3\.0\.0 \(3-0-0-/);
            expectNoFailures(report);
            expect(Object.keys(report.releases)).to.deep.equal([live.liveRelease]);
            expect(await servedRelease()).to.equal(live.liveRelease);
            // The failed release stays declared (its container is in the state, as with the
            // official provider) but stopped, so it does not crash-loop or hold memory.
            const statuses = await agentStatuses();
            expect(statuses[`${app}-agent-${live.liveRelease}`]).to.equal("running");
            expect(
                Object.entries(statuses)
                    .filter(([n]) => n.includes("-agent-3-0-0-"))
                    .map(([, s]) => s),
            ).to.deep.equal(["exited"]);
        },
    );

    step("a crashing v3 fails at its first crash, not at the gate timeout, and quotes its logs", async () => {
        const live = await stack.outputs();
        await stack.rmConfig("agent.faults.failHealth");
        await stack.setConfig("agent.faults.crashAtStart", "true");
        await stack.setConfig("agent.version", "3.0.2");
        await stack.setConfig("release.healthGateTimeoutSeconds", "600");
        const { up, report } = await upUnderLoad();
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr, up.stdout + up.stderr)
            .to.match(/health gate: 3-0-2-\S+ its container (crashed|exited)/)
            .and.to.match(/\| fault: FAULT_CRASH_AT_START=1, exiting with code 3/);
        expect(up.stdout + up.stderr).to.not.match(/within 600s/);
        expectNoFailures(report);
        expect(await servedRelease()).to.equal(live.liveRelease);
        await stack.rmConfig("agent.faults.crashAtStart");
        await stack.setConfig("release.healthGateTimeoutSeconds", "30");
    });

    step("a v3 over the 5xx threshold is flipped back automatically and the update fails clearly", async () => {
        const live = await stack.outputs();
        await stack.setConfig("agent.version", "3.0.1");
        await stack.setConfig("agent.faults.errorRate", "0.5");
        const { up, report } = await upUnderLoad();
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr, up.stdout + up.stderr).to.match(/5xx rate [\d.]+% \(\d+ of \d+ requests\) exceeds threshold 1% by/);
        expect(up.stdout + up.stderr).to.match(/flipped back to (blue|green)/);
        // The only failures are the faulty release's own 500s, during the verification window.
        expect(Object.keys(report.failures)).to.deep.equal(["HTTP 500"]);
        expect(report.streamsTruncated).to.equal(0);
        expect(await servedRelease()).to.equal(live.liveRelease);
        // After the flip-back, every answer comes from v2 again.
        const after = await underLoad((load) => answered(load, 240, 60_000));
        expectNoFailures(after);
        expect(Object.keys(after.releases)).to.deep.equal([live.liveRelease]);
    });

    step("the next good release converges", async () => {
        await stack.rmConfig("agent.faults");
        await stack.setConfig("agent.version", "3.1.0");
        const { up, report } = await upUnderLoad();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expectNoFailures(report);
        await expectConverged("3.1.0", "2.0.0");
        // Retired images: v2's (the previous release) is kept for a roll back, v1's is gone.
        const images = await mustRun("docker", ["image", "ls", "--format", "{{.Tag}}", "--filter", `reference=${app}-agent`]);
        const tags = images.stdout.split("\n").filter(Boolean);
        expect(tags).to.include.members(["3.1.0", "2.0.0"]);
        expect(tags).to.not.include("1.0.0");
        expect(up.stdout, up.stdout).to.match(/removed image \S+-agent:1\.0\.0/);
    });

    step("a release whose `pulumi up` is killed keeps serving, and the next `pulumi up` converges", async () => {
        await stack.setConfig("agent.version", "4.0.0");
        await stack.setConfig("release.verifyWindowSeconds", "15");
        const report = await underLoad(async (load) => {
            // Kill it once the new release serves (during the verification window).
            let switchSeen = false;
            await killUpWhen(async () => {
                switchSeen ||= switchProcesses().length > 0;
                return switchSeen && (await servedRelease().catch(() => "")).startsWith("4-0-0");
            }, "release 4.0.0 serving");
            // The orphaned switch notices that its caller is gone and stops; it never runs
            // beside the repair `pulumi up` below.
            await until(() => switchProcesses().length === 0, 20_000, "the orphaned traffic switch stopping");
            // Traffic goes on while nothing runs the switch (about 3 s of the profile's rate).
            await answered(load, 360, 60_000);
            expect((await getOnce(`${url}/version`)).status).to.equal(200);
            await mustRun("pulumi", ["cancel", "--yes", "--stack", app, "--non-interactive"], { cwd: ROOT });
            const up = await stack.up();
            expect(up.code, up.stdout + up.stderr).to.equal(0);
        });
        expectNoFailures(report);
        await expectConverged("4.0.0", "3.1.0");
    });

    step(
        "a `pulumi up` killed between creating a container and recording it leaves nothing in the way: the release helper converges",
        async () => {
            const live = await stack.outputs();
            await stack.setConfig("release.verifyWindowSeconds", "4");
            await stack.setConfig("agent.faults.startDelayMs", "8000");
            await stack.setConfig("agent.version", "5.0.0");
            let result: ReleaseReport | undefined;
            const helperLog: string[] = [];
            const report = await underLoad(async () => {
                await killUpWhen(
                    async () => (await agentContainers()).some((n) => n.includes("-agent-5-0-0-")),
                    "the 5.0.0 container appearing",
                );
                await until(() => switchProcesses().length === 0, 20_000, "the orphaned traffic switch stopping");
                expect(await servedRelease()).to.equal(live.liveRelease);
                // A kill can land between `docker create` and the engine recording the container
                // (with any provider; the window is short). If this kill landed after it, take the
                // record out again, which leaves the state exactly as such a kill does.
                await run("pulumi", ["cancel", "--yes", "--stack", app, "--non-interactive"], { cwd: ROOT });
                const exported = JSON.parse((await mustRun("pulumi", ["stack", "export", "--stack", app], { cwd: ROOT })).stdout) as {
                    deployment: { resources?: { urn: string; type: string; outputs?: { name?: string } }[] };
                };
                const recorded = (exported.deployment.resources ?? []).find(
                    (r) => r.type === "docker:index/container:Container" && r.outputs?.name?.includes("-agent-5-0-0-"),
                );
                if (recorded) await mustRun("pulumi", ["state", "delete", recorded.urn, "--yes", "--stack", app], { cwd: ROOT });
                result = await release(stack.name, undefined, (line) => helperLog.push(line));
            });
            expect(result!.ok, result!.error).to.equal(true);
            expect(helperLog.join("\n")).to.match(/removed \S+-agent-5-0-0-\S+: created by an interrupted update/);
            expectNoFailures(report);
            await expectConverged("5.0.0", "4.0.0");
        },
    );

    const containerId = async (name: string) => (await mustRun("docker", ["inspect", "--format", "{{.Id}}", name])).stdout.trim();

    step("a proxy config change reloads HAProxy in place: same container, zero failed requests", async () => {
        const live = await stack.outputs();
        const proxy = await servingProxy(app);
        const idBefore = await containerId(proxy);
        fs.writeFileSync(template, fs.readFileSync(template, "utf8").replace("timeout http-request 10s", "timeout http-request 11s"));
        const preview = await stack.preview();
        expect(preview.stdout, preview.stdout).to.match(/~\s+command:local:Command proxy-config update/);
        expect(preview.stdout, preview.stdout).to.match(/~ 1 to update/);
        let up = { code: -1, stdout: "", stderr: "" };
        const report = await underLoad(async () => {
            up = await stack.up();
        });
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout + up.stderr).to.match(/reloaded: worker \d+ -> \d+/);
        expectNoFailures(report);
        expect(await servingProxy(app)).to.equal(proxy);
        expect(await containerId(proxy)).to.equal(idBefore);
        const cfg = await mustRun("docker", ["exec", proxy, "cat", "/etc/haproxy/haproxy.cfg"]);
        expect(cfg.stdout).to.include("timeout http-request 11s");
        expect(await servedRelease()).to.equal(live.liveRelease);
        // Reloads under requests that each open a connection of their own (curl in the proxy's
        // namespace, as a webhook delivery comes), plain and pinned to the live slot (the
        // switch's and the status view's probes): a new worker serves from its first request
        // (it starts from the servers' saved state), never a 503 while Docker's DNS has not
        // answered it yet. Before that, 5 of 3,000 such requests got a 503 over 8 reloads.
        const slots = await mustRun("docker", ["exec", proxy, "cat", "/var/lib/zdt/slots"]);
        const liveSlot = slots.stdout
            .split("\n")
            .find((l) => / ready/.test(l) && !/^\S+ \S+ 0 /.test(l))!
            .split(" ")[0];
        const stop = `/tmp/zdt-test-stop-${process.pid}`;
        const loop = (pin: string) =>
            mustRun("docker", [
                "exec",
                proxy,
                "sh",
                "-c",
                `while [ ! -e ${stop} ]; do curl -s -o /dev/null -w "%{http_code}\\n" --max-time 5 ${pin} http://127.0.0.1:${PROXY_INTERNAL_PORT}/health; done | sort | uniq -c`,
            ]);
        const loops = [loop(""), loop(`-H "x-zdt-slot: ${liveSlot}"`)];
        for (let i = 0; i < 6; i++) expect((await mustRun("docker", ["exec", proxy, "start-proxy", "reload"])).stdout).to.match(/reloaded/);
        await mustRun("docker", ["exec", proxy, "touch", stop]);
        const [plain, pinned] = (await Promise.all(loops)).map((r) => r.stdout.trim());
        console.log(
            `      6 reloads under new connections: plain ${plain.replace(/\s+/g, " ")}; pinned to ${liveSlot} ${pinned.replace(/\s+/g, " ")}`,
        );
        for (const counts of [plain, pinned]) expect(counts, counts).to.match(/^\d+ 200$/);
        await mustRun("docker", ["exec", proxy, "rm", "-f", stop]);
    });

    step("a new proxy image takes over from the old proxy under load: no failed request, no broken conversation", async () => {
        const live = await stack.outputs();
        const before = await servingProxy(app);
        const holderId = await containerId(`${app}-proxy-port`);
        // A changed base image reaches the proxy: a new image, hence a new proxy container.
        await mustRun("docker", ["tag", "debian:bookworm-slim", "zdt-test-proxy-base:1"]);
        await stack.setConfig("proxy.baseImage", "zdt-test-proxy-base:1");
        const preview = await stack.preview();
        expect(preview.stdout, preview.stdout).to.match(/\+-\s+docker:index:Container proxy-container replace/);
        expect(preview.stdout).to.not.match(/proxy-port (replace|update)|knowledge-reindex/);
        let up = { code: -1, stdout: "", stderr: "" };
        const report = await underLoad(async () => {
            up = await stack.up();
        });
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const after = await servingProxy(app);
        expect(after).to.not.equal(before);
        expect(up.stdout + up.stderr).to.include(`${before} handed over to ${after}`);
        console.log(
            `      proxy handed over ${before} -> ${after}: ${report.failed} of ${report.requests} requests failed, ` +
                `${report.streamsCompleted} streams, ${report.conversationsCompleted} conversations, ${report.conversationsBroken} broken`,
        );
        expectNoFailures(report);
        // The port holder stayed; the old proxy is gone; the stack knows the new one.
        expect(await containerId(`${app}-proxy-port`)).to.equal(holderId);
        expect((await run("docker", ["inspect", before])).code).to.not.equal(0);
        const out = await stack.outputs();
        expect(out.proxyContainer).to.equal(after);
        expect(out.liveRelease).to.equal(live.liveRelease);
        expect(await servedRelease()).to.equal(live.liveRelease);
        // The pinned conversations came along (the stick table is handed over with the sockets).
        const table = await mustRun("docker", ["exec", after, "sh", "-c", `echo 'show table agents' | ${ADMIN_SESSION.join(" ")}`]);
        expect(Number(/used:(\d+)/.exec(table.stdout)?.[1] ?? 0)).to.be.greaterThan(0);
        // And a plain update after it plans nothing.
        const again = await stack.preview();
        expect(again.stdout).to.not.match(/to (create|update|replace|delete)/);
    });

    step("a change that would replace the port holder fails `pulumi up` before anything changes", async () => {
        const live = await stack.outputs();
        const proxy = await servingProxy(app);
        const ids = [await containerId(proxy), await containerId(`${app}-proxy-port`)];
        await stack.setConfig("proxy.port", String(await freePort()));
        let up = { code: -1, stdout: "", stderr: "" };
        const report = await underLoad(async () => {
            up = await stack.up();
        });
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr).to.match(
            /this update replaces the container publishing the proxy's port \(proxy\.port \d+ -> \d+\).*Nothing was changed/,
        );
        expectNoFailures(report);
        expect([await containerId(proxy), await containerId(`${app}-proxy-port`)]).to.deep.equal(ids);
        expect(await servedRelease()).to.equal(live.liveRelease);
    });

    step("in a maintenance window a new port replaces the port holder, and the live release serves there", async () => {
        const live = await stack.outputs();
        await stack.setConfig("proxy.allowRestart", "true");
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const port = (await stack.outputs()).proxyUrl.split(":").pop();
        expect(port).to.not.equal(new URL(url).port);
        const oldUrl = url;
        url = `http://127.0.0.1:${port}`;
        expect(await servedRelease()).to.equal(live.liveRelease);
        expect((await getOnce(`${oldUrl}/version`).catch(() => undefined))?.status).to.equal(undefined);
        // The window closes; the suite goes on on the new port, and a plain update plans
        // nothing for the proxy.
        await stack.rmConfig("proxy.allowRestart");
        const proxy = await containerId(await servingProxy(app));
        const report = await underLoad(async () => {
            const again = await stack.up();
            expect(again.code, again.stdout + again.stderr).to.equal(0);
        });
        expectNoFailures(report);
        expect(await servedRelease()).to.equal(live.liveRelease);
        expect(await containerId(await servingProxy(app))).to.equal(proxy);
    });

    step("streams that outlive the drain end with the documented 'retired' event, and the release counts them", async () => {
        // Long answers on the live release (one token every 3 s: over a minute, longer than
        // any release takes to reach its retirement), then a fast release with a 2 s drain:
        // every stream open on the old release when the load starts is still open at its
        // retirement, whatever the machine's speed.
        await stack.setConfig("agent.env.STREAM_TOKEN_DELAY_MS", "3000");
        await stack.setConfig("agent.version", "6.0.0");
        const slow = await stack.up();
        expect(slow.code, slow.stdout + slow.stderr).to.equal(0);
        await stack.setConfig("release.drainTimeoutSeconds", "2");
        await stack.setConfig("agent.env.STREAM_TOKEN_DELAY_MS", "120");
        await stack.setConfig("agent.version", "6.1.0");
        let up = { code: -1, stdout: "", stderr: "" };
        const report = await underLoad(async () => {
            up = await stack.up();
        });
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        const retirement = out.releaseReport.retirement as { drainMs: number; streamsCut: number };
        expect(retirement.drainMs).to.equal(2000); // this run's drain, not the retiring release's 10 s
        expect(retirement.streamsCut).to.be.greaterThan(0);
        // Every stream the retirement cut ended with the event; none ended silently.
        expect(report.streamsRetired).to.equal(retirement.streamsCut);
        expect(report.streamsTruncated).to.equal(0);
        expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
        expect(up.stdout).to.match(/streams outlived the drain and got a final 'retired' event/);
    });
});
