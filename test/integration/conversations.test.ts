// The proxy's conversation table with the real engine and HAProxy (issue 23): a release with
// a table of several hundred thousand entries, whose counts the switch and the status view
// read from one header line per table; a flood of keyless messages at several times the
// table's capacity during a release, which pins nothing and unpins no one; and the same
// flood with keyless pinning on, which fills the table, where the status view and the
// release report say that HAProxy evicts pins.
import { expect } from "chai";
import * as path from "path";
import { LoadGenerator, type LoadOptions, type LoadReport } from "../../load/client";
import { parseTableSummaries, type TableSummary } from "../../core/conversationTables";
import { containerExec } from "../../docker/cli";
import { HaproxyAdmin } from "../../haproxy/admin";
import { servingProxy } from "../../docker/servingProxy";
import { agentStack, mustRun, run, TestStack, freePort, uniqueName, type RunResult } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { answered, underLoad } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIG = 300_000;

describe("the conversation table at scale and under a flood (real engine)", function () {
    this.timeout(1_200_000);
    const step = stepByStep();
    const app = uniqueName("ztf");
    const stack = new TestStack(ROOT, app);
    let url = "";

    const tables = async (): Promise<Map<string, TableSummary>> =>
        parseTableSummaries(await new HaproxyAdmin(containerExec(await servingProxy(app)), app).send("show table"));

    /** `npm run status -- --once` for the stack (it follows the serving proxy, also through a hand-over). */
    const status = async (): Promise<RunResult & { ms: number }> => {
        const t0 = Date.now();
        const r = await run("npm", ["run", "--silent", "status", "--", "--stack", app, "--once", "--interval", "2"], {
            cwd: ROOT,
            timeoutMs: 120_000,
        });
        return { ...r, ms: Date.now() - t0 };
    };

    /** `pulumi up` under `load`; the status view read once while the update runs, and the table sampled every second. */
    async function upUnderLoad(
        load: LoadOptions,
    ): Promise<{ up: RunResult; report: LoadReport; during: RunResult & { ms: number }; maxUsed: number }> {
        let maxUsed = 0;
        let sampling = true;
        const sampler = (async () => {
            while (sampling) {
                const used = (await tables().catch(() => undefined))?.get("agents")?.used ?? 0;
                maxUsed = Math.max(maxUsed, used);
                await sleep(1000); // the sampling interval
            }
        })();
        try {
            const { result, report } = await underLoad(
                load,
                async (gen) => {
                    const upRun = stack.up();
                    // The status view, read once while the update runs under the load.
                    await answered(gen, load.shortRps * 5, 120_000);
                    const during = await status();
                    return { up: await upRun, during };
                },
                { beforeSeconds: 3, afterSeconds: 1 },
            );
            return { ...result, report, maxUsed };
        } finally {
            sampling = false;
            await sampler;
        }
    }

    function print(what: string, report: LoadReport, extra: string): void {
        console.log(
            `      ${what}: ${report.requests} requests (${report.failed} failed), ${report.conversationLog.length} conversations ` +
                `(${report.conversationsBroken} broken, ${report.conversationsCompleted} completed)${extra}`,
        );
    }

    before(async () => {
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        await stack.init(
            agentStack(app, port, {
                "proxy.conversations.tableSize": "400000",
                "release.verifyWindowSeconds": "6",
                "release.healthGateTimeoutSeconds": "30",
                // The load's customers answer within 1 s: an exchange ends after 3 s of quiet.
                "proxy.conversations.quietSeconds": "3",
                "release.drainTimeoutSeconds": "20",
            }),
        );
    });

    after(async () => {
        await stack.remove();
    });

    step("first deploy", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
    });

    step(
        `a release with ${BIG} conversations pinned to the live release: counted from the tables' headers, released, unpinned, and the status view answers`,
        async () => {
            const proxy = await servingProxy(app);
            const admin = new HaproxyAdmin(containerExec(proxy), proxy);
            const live = (await stack.outputs()).liveColor as "blue" | "green";
            const { id } = (await admin.slots())[live];
            // Pinned and active conversations, written through the admin socket as the proxy
            // would have recorded them (an interactive session: one command a line).
            const lines = ["prompt"];
            for (let n = 0; n < BIG; n++) {
                const key = `big-${n}`;
                lines.push(`set table agents key ${key} data.server_id ${id}`, `set table zdt_pinned_${live} key ${key} data.gpc0 1`);
                lines.push(`set table zdt_active_${live} key ${key}`);
            }
            lines.push("quit", "");
            const t0 = Date.now();
            await mustRun("docker", ["exec", "-i", proxy, "socat", "-t", "300", "-", "UNIX-CONNECT:/run/haproxy/admin.sock"], {
                input: lines.join("\n"),
                timeoutMs: 600_000,
            });
            const filledMs = Date.now() - t0;
            const before = await tables();
            expect(before.get("agents")!.used).to.be.at.least(BIG);
            expect(before.get(`zdt_pinned_${live}`)!.used).to.be.at.least(BIG);
            // One reading of every count: a few hundred bytes, whatever the table holds.
            const reading = await admin.send("show table");
            expect(reading.length).to.be.below(1000);
            const t1 = Date.now();
            expect((await admin.pinned(live)).count).to.be.at.least(BIG);
            const readMs = Date.now() - t1;

            await stack.setConfig("agent.version", "2.0.0");
            // Conversations of 12 turns a second apart outlast the 6 s window: at the drain some
            // are still talking on the old release, and it waits for their last answer.
            const { up, report, during } = await upUnderLoad({
                url,
                shortRps: 60,
                shortLoops: 4,
                streams: 2,
                conversations: { concurrent: 6, turns: 12, pauseMs: 1000 },
            });
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
            expect(report.conversationsBroken).to.equal(0);
            expect(during.code, during.stdout + during.stderr).to.equal(0);
            expect(during.stdout).to.match(/conversation table: \d+ of 400000 entries \([\d.]+ %\) {2}OK/);
            const result = (await stack.outputs()).releaseReport;
            // The written conversations never talked (no answer within quietSeconds): they do
            // not hold the drain. The load's still talking did, until their exchange ended; then
            // the drain ended on its rule, before its limit, unpinned them all and moved none
            // mid-exchange (nor broke one: above).
            const drain = result.retirement.conversations;
            expect(drain.moved).to.be.at.least(BIG);
            expect(drain.movedTalking).to.equal(0);
            expect(drain.waitedMs).to.be.above(0).and.below(20_000);
            expect(result.conversationTable.used).to.be.at.least(BIG);
            expect(result.conversationTable.warning).to.equal(null);
            expect((await tables()).get("agents")!.used).to.be.below(1000);
            print(
                `${BIG} pinned`,
                report,
                `; filled in ${(filledMs / 1000).toFixed(1)} s, counts read in ${readMs} ms (${reading.length} bytes), ` +
                    `status view ${(during.ms / 1000).toFixed(1)} s, drain ${(drain.waitedMs / 1000).toFixed(1)} s of 20, ${drain.moved} unpinned at its end, ` +
                    `switch phases ${JSON.stringify(result.phases)}`,
            );
        },
    );

    // 1,000 entries that expire after 10 s idle hold 100 new conversations a second; the
    // flood sends 300 keyless messages a second beside 20 keyed conversations.
    const flood = (): LoadOptions => ({
        url,
        shortRps: 300,
        shortLoops: 10,
        // 60 a second each on a new connection: a reload's new worker is reached at once.
        freshConnectionLoops: 2,
        streams: 0,
        conversations: { concurrent: 20, turns: 4, pauseMs: 1000 },
    });

    step(
        "a flood of keyless messages at 3x the table's capacity during a release: no entry for them, no pin lost, the status view stays up",
        async () => {
            await stack.setConfig("proxy.conversations.tableSize", "1000");
            await stack.setConfig("proxy.conversations.idleTimeoutSeconds", "10");
            await stack.setConfig("agent.version", "3.0.0");
            const { up, report, during, maxUsed } = await upUnderLoad(flood());
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
            expect(report.conversationsCompleted).to.be.greaterThan(0);
            expect(report.conversationsBroken, JSON.stringify(report.conversationHops)).to.equal(0);
            expect(during.code, during.stdout + during.stderr).to.equal(0);
            // Only the keyed conversations took entries: never near the size, nothing evicted.
            expect(maxUsed).to.be.below(900);
            const result = (await stack.outputs()).releaseReport;
            expect(result.conversationTable.warning).to.equal(null);
            print("keyless flood", report, `; table at most ${maxUsed} of 1000 entries; status view ${(during.ms / 1000).toFixed(1)} s`);
        },
    );

    step("the same flood with proxy.conversations.pinKeyless fills the table: the status view alerts that it evicts pins", async () => {
        await stack.setConfig("proxy.conversations.pinKeyless", "true");
        const gen = new LoadGenerator(flood());
        gen.start();
        try {
            const up = await stack.up(); // a reload of the proxy's config, no release
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            // Bounded by a condition: the table fills within seconds at 300 keyless messages a second.
            const deadline = Date.now() + 60_000;
            while ((await tables()).get("agents")!.used < 996 && Date.now() < deadline) await sleep(500);
            const view = await status();
            // Full: HAProxy evicts a batch of size/256 + 1 when a new entry does not fit, so 996 to 1000.
            expect(view.code, view.stdout + view.stderr).to.equal(2);
            expect(view.stdout).to.match(
                /conversation table: (99[6-9]|1000) of 1000 entries \([\d.]+ %\), full: HAProxy is evicting the oldest pins.*ALERT/,
            );
            console.log(`      keyless pinning under the flood: ${view.stdout.split("\n").find((l) => l.includes("conversation table"))}`);
        } finally {
            print("keyless pinning under the flood", await gen.stop(), "");
        }
    });
});
