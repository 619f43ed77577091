// Drill: the Docker daemon restarts in the middle of a release's verification window,
// under load. It restarts the local engine, so it is not part of `npm test`: run it
// with `npm run drills` on a machine whose engine setup manages (CI does).
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { FAILURE_LOG_LIMIT, LoadGenerator } from "../../load/client";
import { standardLoad } from "../../load/profile";
import { agentStack, freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The local dockerd's pid and its command line, to start it again the same way. */
async function localDaemon(): Promise<{ pid: number; argv: string[] }> {
    if (process.env.DOCKER_HOST) throw new Error(`the daemon drill restarts the local engine; DOCKER_HOST is ${process.env.DOCKER_HOST}`);
    const pid = Number((await mustRun("pidof", ["dockerd"])).stdout.trim().split(" ")[0]);
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return { pid, argv };
}

/**
 * Stops the local dockerd, keeps it down until `met()` says the release ran into the outage
 * (at most 15 s: a quick restart could fall between two of the switch's commands, and the
 * drill would test nothing), then starts it again the same way. Resolves to when it was
 * stopped and when it answered again (epoch ms).
 */
async function restartDaemon(met: () => boolean): Promise<{ stoppedAt: number; answeredAt: number }> {
    const { pid, argv } = await localDaemon();
    const stoppedAt = Date.now();
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 300; i++) {
        try {
            process.kill(pid, 0);
            await sleep(100);
        } catch {
            break;
        }
    }
    for (let i = 0; i < 150 && !met(); i++) await sleep(100);
    const log = fs.openSync(path.join(process.env.ZDT_CACHE ?? "/tmp", "dockerd.log"), "a");
    spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] }).unref();
    for (let i = 0; i < 300; i++) {
        if ((await run("docker", ["info"])).code === 0) return { stoppedAt, answeredAt: Date.now() };
        await sleep(100);
    }
    throw new Error("dockerd did not come back within 30 s");
}

/** How far after the engine answers again a refused connection is still its restart's (the poll's step, and the connect's own time on a loaded machine). */
const RESTART_MARGIN_MS = 2_000;

describe("drill: Docker daemon restart during a release", function () {
    this.timeout(600_000);
    const app = uniqueName("ztdd");
    const stack = new TestStack(ROOT, app);
    let url = "";

    before(async () => {
        const info = await mustRun("docker", ["info", "--format", "{{.LiveRestoreEnabled}}"]);
        expect(info.stdout.trim(), "the engine's live restore must be on (setup turns it on where it manages the engine)").to.equal("true");
        const { argv } = await localDaemon();
        expect(argv, "the engine must run without the userland proxy").to.include("--userland-proxy=false");
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        await stack.init(
            agentStack(app, port, {
                "agent.env.STREAM_TOKEN_DELAY_MS": "120",
                "release.verifyWindowSeconds": "20",
                "release.drainTimeoutSeconds": "10",
            }),
        );
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
    });

    after(async () => {
        await stack.remove();
    });

    // Docker's bridge driver rebuilds its NAT rules as the engine starts (it flushes the
    // DOCKER chain and adds the restored containers' rules again): in between, a new
    // connection to a published port is refused before a byte is sent (the channel's
    // delivery is retried by its sender). Connections already open, and the containers, live on.
    it("loses no request on an open connection, refuses new ones only while the engine starts, and the release completes", async () => {
        await stack.setConfig("agent.version", "2.0.0");
        const load = new LoadGenerator(standardLoad(url));
        load.start();
        await sleep(1500);
        let out = "";
        const up = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", app, "--non-interactive"], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
        });
        up.stdout.on("data", (d) => (out += d));
        up.stderr.on("data", (d) => (out += d));
        const code = new Promise<number>((r) => up.on("close", (c) => r(c ?? -1)));
        const deadline = Date.now() + 240_000;
        while (!/verifying 2-0-0/.test(out)) {
            if (Date.now() > deadline) throw new Error(`the release never reached its verification window:\n${out}`);
            await sleep(200);
        }
        await sleep(3000);
        const restart = await restartDaemon(() => /docker daemon unreachable, retrying/.test(out));
        console.log(`      dockerd restarted in ${restart.answeredAt - restart.stoppedAt} ms during the verification window`);
        expect(await code, out).to.equal(0);
        await sleep(1500);
        const report = await load.stop();
        const refused = report.failureLog.filter((f) => /ECONNREFUSED/.test(f.reason));
        const refusedFrom = refused.length ? Math.min(...refused.map((f) => f.failedAt)) - restart.stoppedAt : 0;
        const refusedTo = refused.length ? Math.max(...refused.map((f) => f.failedAt)) - restart.stoppedAt : 0;
        console.log(
            `      ${report.requests} requests, ${report.failed} failed (${refused.length} new connections refused, ${refusedFrom} to ${refusedTo} ms after the stop), ${report.streamsCompleted} streams and ${report.conversationsCompleted} conversations completed, ${report.conversationsBroken} broken`,
        );
        // Every failure is a refused connect while the engine was down or starting: none on
        // an open connection, none after the engine answered.
        expect(report.failed, "more failures than the log holds").to.be.at.most(FAILURE_LOG_LIMIT);
        expect(refused.length, JSON.stringify(report.failures)).to.equal(report.failed);
        for (const f of refused) {
            expect(f.failedAt, "a connection refused before the engine's stop").to.be.at.least(restart.stoppedAt);
            expect(f.failedAt, "a connection refused after the engine answered again").to.be.at.most(
                restart.answeredAt + RESTART_MARGIN_MS,
            );
        }
        expect(report.conversationsBroken).to.equal(0);
        expect(report.streamsTruncated).to.equal(0);
        expect(report.streamsCompleted).to.be.greaterThan(0);
        if (!/docker daemon unreachable, retrying/.test(out))
            console.log(
                out
                    .split("\n")
                    .filter((l) => /switch|daemon|verif/i.test(l))
                    .join("\n"),
            );
        expect(out).to.match(/docker daemon unreachable, retrying/); // the switch did meet the outage
        expect((await stack.outputs()).liveVersion).to.equal("2.0.0");
    });
});
