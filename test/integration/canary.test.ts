// Canary releases with the real engine, Docker and HAProxy, under a load of many
// concurrent multi-turn conversations plus short requests and streams (load/profile.ts,
// canaryLoad). Each step reports requests failed, streams truncated and conversations
// broken (a conversation that changed release other than by an abort).
import { expect } from "chai";
import * as path from "path";
import { LoadGenerator, LoadReport } from "../../load/client";
import { stepShares } from "../../load/cohorts";
import { canaryLoad } from "../../load/profile";
import { CANARY_FILE } from "../../haproxy/canaryControl";
import { agentStack, TestStack, freePort, run, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { underLoad as loadAround } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STEPS = [
    { weight: 5, pauseSeconds: 12 },
    { weight: 25, pauseSeconds: 12 },
    { weight: 50, pauseSeconds: 12 },
    { weight: 100, pauseSeconds: 0 },
];

describe("canary release under load (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep(); // each step builds on the state the previous one left
    const app = uniqueName("zc");
    const stack = new TestStack(ROOT, app);
    let url = "";

    /** Runs `fn` with the canary load on the proxy, before, during and after it. */
    function underLoad<T>(fn: (load: LoadGenerator) => Promise<T>): Promise<{ result: T; report: LoadReport }> {
        return loadAround(canaryLoad(url), fn);
    }

    async function servedRelease(): Promise<string> {
        const res = await fetch(`${url}/version`);
        return ((await res.json()) as { releaseId: string }).releaseId;
    }

    /** The step the proxy's canary file names, if a canary is under way. */
    async function canaryStep(): Promise<number | undefined> {
        const r = await run("docker", ["exec", (await stack.outputs()).proxyContainer, "cat", CANARY_FILE]);
        return r.code === 0 ? (JSON.parse(r.stdout) as { step: number }).step : undefined;
    }

    function print(what: string, report: LoadReport, extra = ""): void {
        console.log(
            `      ${what}: ${report.requests} requests (${report.failed} failed: ${JSON.stringify(report.failuresByRelease)}), ` +
                `${report.streamsTruncated} streams truncated, ${report.conversationLog.length} conversations ` +
                `(${report.conversationsBroken} broken; hops ${JSON.stringify(report.conversationHops)})${extra}`,
        );
    }

    before(async () => {
        const port = await freePort();
        url = `http://127.0.0.1:${port}`;
        const steps = Object.fromEntries(
            STEPS.flatMap((s, i) => [
                [`release.canary.steps[${i}].weight`, String(s.weight)],
                [`release.canary.steps[${i}].pauseSeconds`, String(s.pauseSeconds)],
            ]),
        );
        await stack.init(
            agentStack(app, port, {
                // A conversation idle timeout of 5 s (10 min in production), so the conversation
                // drain after the last step ends within the suite's drain: a conversation begun on
                // the live release just before the last flip talks for about 9 s (4 turns 2.5 s
                // apart) and 5 s more until it is quiet, longer when the machine is loaded (a CI
                // rehearsal with a 12 s drain moved 8 of 627 while they still talked).
                "proxy.conversations.idleTimeoutSeconds": "5",
                "release.strategy": "canary",
                ...steps,
                "release.verifyWindowSeconds": "5",
                "release.healthGateTimeoutSeconds": "30",
                "release.drainTimeoutSeconds": "20",
            }),
        );
    });

    after(async () => {
        await stack.remove();
    });

    step("first deploy (nothing to compare with) takes the traffic at once", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        expect(out.liveVersion).to.equal("1.0.0");
        expect(out.releaseReport.canarySteps).to.equal(null);
        expect(await servedRelease()).to.equal(out.liveRelease);
    });

    step("canary 5 -> 25 -> 50 -> 100 %: 0 failed, 0 broken, each step's new conversations on the canary near its weight", async () => {
        const v1 = (await stack.outputs()).liveRelease as string;
        await stack.setConfig("agent.version", "2.0.0");
        // The plan reads like a blue/green one: a new release beside the live one, the switch updated.
        const preview = await stack.preview();
        expect(preview.code, preview.stdout + preview.stderr).to.equal(0);
        expect(preview.stdout).to.match(/zdt:agents:AgentRelease\s+agent-2-0-0-[0-9a-f]+\s+create/);
        expect(preview.stdout).to.match(/command:local:Command\s+traffic-switch\s+update/);
        const { result: up, report } = await underLoad(() => stack.up());
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        const v2 = out.liveRelease as string;
        expect(out.liveVersion).to.equal("2.0.0");
        expect(out.releaseStrategy).to.equal("canary");
        expect(out.weights).to.deep.equal({ [out.liveColor]: 100, [out.liveColor === "blue" ? "green" : "blue"]: 0 });
        const steps = out.releaseReport.canarySteps as { weight: number; startedAt: number; canary: { requests: number } }[];
        expect(steps.map((s) => s.weight)).to.deep.equal([5, 25, 50, 100]);
        expect(steps.every((s, i) => i === 0 || s.startedAt > steps[i - 1].startedAt)).to.equal(true);

        const shares = stepShares(report.conversationLog, steps, v2);
        print("canary v1 -> v2", report);
        for (const s of shares)
            console.log(
                `      step ${s.weight}%: ${s.onCanary} of ${s.conversations} new conversations on the canary = ${s.sharePercent}% (tolerance ±${s.tolerancePercent})`,
            );
        expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
        expect(report.streamsTruncated).to.equal(0);
        // A hop: the switch's word on its conversation drain (how long it waited, how many it moved while talking).
        const drained = (up.stdout + up.stderr).split("\n").filter((l) => /conversation drain|waiting for \d+/.test(l));
        expect(report.conversationsBroken, `${JSON.stringify(report.conversationHops)}\n${drained.join("\n")}`).to.equal(0);
        for (const s of shares) {
            expect(s.conversations, `step ${s.weight}%`).to.be.greaterThan(20);
            expect(
                s.withinTolerance,
                `step ${s.weight}%: ${s.sharePercent}% of new conversations, tolerance ±${s.tolerancePercent}`,
            ).to.equal(true);
        }
        // Both releases finished conversations; v1's began before the last step, none after it.
        const onV1 = report.conversationLog.filter((c) => c.release === v1);
        expect(onV1.length).to.be.greaterThan(0);
        expect(Math.max(...onV1.map((c) => c.startedAt))).to.be.lessThan(steps[3].startedAt + 300);
        expect(report.conversationLog.filter((c) => c.release === v2).length).to.be.greaterThan(0);
        expect(await servedRelease()).to.equal(v2);
    });

    step(
        "a canary with an injected 5xx rate is aborted at 5 %: only its cohort saw errors, weight 0 at once, v2 keeps serving",
        async () => {
            const v2 = (await stack.outputs()).liveRelease as string;
            await stack.setConfig("agent.version", "3.0.0");
            await stack.setConfig("agent.faults.errorRate", "0.2");
            let upEndedAt = 0;
            const { result: up, report } = await underLoad(async () => {
                const r = await stack.up();
                upEndedAt = Date.now();
                return r;
            });
            const said = up.stdout + up.stderr;
            expect(up.code, said).to.not.equal(0);
            const m =
                /canary aborted at step 1 \(5%\): 5xx rate [\d.]+% \(\d+ of \d+ requests\) exceeds threshold 1%.*?Canary weight 0 in (\d+) ms of the breach; (\d+) conversations? pinned to it \((\d+) with more than one message\) moved to stable/.exec(
                    said,
                );
            expect(m, said).to.not.equal(null);
            const [weightZeroMs, moved] = [Number(m![1]), Number(m![2])];
            print(
                "canary v3 (20% 5xx) aborted",
                report,
                `; weight 0 in ${weightZeroMs} ms of the breach, ${moved} pinned conversations moved`,
            );
            // The time to weight 0 is a figure (printed above, kept in docs/measurements.md), not an
            // assertion: a loaded 2-core machine may take longer than the second we aim for.
            // Only the canary's own cohort saw errors: every failed request was answered by v3.
            const failedBy = Object.keys(report.failuresByRelease);
            expect(failedBy.length, JSON.stringify(report.failuresByRelease)).to.equal(1);
            const v3 = failedBy[0];
            expect(v3).to.match(/^3-0-0-/);
            expect(report.streamsTruncated).to.equal(0);
            // Conversations changed release only by the abort, from v3 to v2.
            expect(
                Object.keys(report.conversationHops).every((h) => h === `${v3} -> ${v2}`),
                JSON.stringify(report.conversationHops),
            ).to.equal(true);
            expect(report.conversationsBroken).to.equal(report.conversationHops[`${v3} -> ${v2}`] ?? 0);
            // No conversation began on the canary once the update had failed.
            expect(report.conversationLog.filter((c) => c.release === v3 && c.startedAt > upEndedAt)).to.deep.equal([]);
            const out = await stack.outputs();
            expect(out.liveVersion).to.equal("2.0.0");
            expect(await servedRelease()).to.equal(v2);
        },
    );

    step(
        "an abort by hand mid-step (npm run abort): weight 0 at once, the canary's conversations move to stable and are counted",
        async () => {
            const v2 = (await stack.outputs()).liveRelease as string;
            await stack.rmConfig("agent.faults.errorRate");
            await stack.setConfig("agent.version", "4.0.0");
            let abortedAt = 0;
            let commandAt = 0;
            let aborted = { code: -1, stdout: "", stderr: "" };
            const { result: up, report } = await underLoad(async (load) => {
                const upRun = stack.up();
                // In the 25 % step, once the canary has conversations under way.
                const deadline = Date.now() + 300_000;
                while ((await canaryStep()) !== 2) {
                    if (Date.now() > deadline) throw new Error("the canary never reached its second step");
                    await sleep(200);
                }
                const v4 = () => Object.keys(load.snapshot().releases).find((r) => r.startsWith("4-0-0-"));
                while (!v4() || load.snapshot().releases[v4()!].answers < 40) {
                    if (Date.now() > deadline) throw new Error("the canary answered no conversations in its second step");
                    await sleep(200);
                }
                commandAt = Date.now();
                aborted = await run(
                    "npm",
                    ["run", "--silent", "abort", "--", "--stack", app, "--reason", "drill: answers in the wrong language"],
                    {
                        cwd: ROOT,
                    },
                );
                abortedAt = Date.now();
                return upRun;
            });
            expect(aborted.code, aborted.stdout + aborted.stderr).to.equal(0);
            const m =
                /aborted at step 2 of 4 \(25%\): weight 0 in (\d+) ms \(\d+ ms after the command started, at (\d+)\); (\d+) conversations? pinned to it \((\d+) with more than one message\) moved to stable/.exec(
                    aborted.stdout,
                );
            expect(m, aborted.stdout).to.not.equal(null);
            const said = up.stdout + up.stderr;
            expect(up.code, said).to.not.equal(0);
            expect(said).to.match(
                /canary aborted at step 2 \(25%\): aborted by hand: drill: answers in the wrong language\. Canary weight 0 in \d+ ms \(by the abort command\)/,
            );
            const v4 = Object.keys(report.releases).find((r) => r.startsWith("4-0-0-"))!;
            const hops = report.conversationHops[`${v4} -> ${v2}`] ?? 0;
            const [weightZeroMs, moved, underWay] = [Number(m![1]), Number(m![3]), Number(m![4])];
            // End to end: from spawning `npm run abort` (npm, node, the proxy found by label) to weight 0.
            const endToEndMs = Number(m![2]) - commandAt;
            expect(endToEndMs).to.be.greaterThan(weightZeroMs);
            print(
                "canary v4 aborted by hand",
                report,
                `; weight 0 ${endToEndMs} ms after npm run abort started (${weightZeroMs} ms in the abort itself), ${moved} pinned (${underWay} under way) moved, ${hops} seen to hop`,
            );
            expect(report.failed, JSON.stringify(report.failures)).to.equal(0);
            expect(report.streamsTruncated).to.equal(0);
            // The moved conversations are the only ones that changed release, and there were some.
            expect(Object.keys(report.conversationHops), JSON.stringify(report.conversationHops)).to.deep.equal([`${v4} -> ${v2}`]);
            expect(hops).to.be.greaterThan(0);
            expect(hops).to.be.at.most(moved);
            expect(report.conversationsBroken).to.equal(hops);
            // No conversation began on the canary after the abort.
            expect(report.conversationLog.filter((c) => c.release === v4 && c.startedAt > abortedAt)).to.deep.equal([]);
            expect(await servedRelease()).to.equal(v2);
            expect(await canaryStep()).to.equal(undefined);
        },
    );
});
