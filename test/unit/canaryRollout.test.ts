// A canary release step by step against the fake proxy: the weights of each step, the
// abort on a breach (absolute or against stable), and the conversations it moves.
import { expect } from "chai";
import { CanaryAborted, runCanary, type CanaryRun } from "../../engine/canaryRollout";
import { HaproxyAdmin } from "../../haproxy/admin";
import { FakeContainers } from "../support/fakeContainers";
import { rejection } from "../support/rejection";
import { MemoryCanaryControl } from "../support/memoryCanaryControl";
import { FakeAgent, FakeProxy } from "../support/fakeProxy";
import { switchInput } from "../support/switchInput";
import { CurlProbes } from "../../haproxy/probes";

const STABLE = "app-agent-1-0-0-aaaaaaaa";
const CANARY = "app-agent-2-0-0-bbbbbbbb";
const V1: FakeAgent = { release: "1-0-0-aaaaaaaa", version: "1.0.0" };
const V2: FakeAgent = { release: "2-0-0-bbbbbbbb", version: "2.0.0" };
const steps = [5, 25, 50, 100].map((weight) => ({ weight, pauseSeconds: 30 }));

async function canaryRun(proxy: FakeProxy, lines: string[] = [], control = new MemoryCanaryControl()): Promise<CanaryRun> {
    const admin = new HaproxyAdmin(proxy.exec, "app-proxy");
    await admin.assign("green", CANARY);
    const input = switchInput({});
    return {
        admin,
        control,
        containers: new FakeContainers(),
        probes: new CurlProbes(proxy.exec, 8080),
        clock: proxy.clock,
        log: (l) => lines.push(l),
        checkpoint: () => undefined,
        canary: { slot: "green", fqdn: CANARY, release: V2.release },
        stable: { slot: "blue", fqdn: STABLE },
        steps,
        thresholds: input.thresholds,
        comparison: { maxErrorRateDeltaPercent: 1, maxLatencyRatio: 2 },
        probeIntervalMs: 1000,
        probeRequestsPerTick: 50,
    };
}

const aborted = (p: Promise<unknown>) => rejection(p, "the canary to abort");

describe("canary rollout (fake proxy)", () => {
    it("steps the canary through 5, 25, 50 and 100 % of new traffic, judging each step", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, V1).set(CANARY, V2);
        const lines: string[] = [];
        const reports = await runCanary(await canaryRun(proxy, lines));
        const weights = proxy.setCommands().filter((c) => c.includes("weight") && !c.endsWith("green weight 0"));
        expect(weights).to.deep.equal([
            "set server agents/green weight 5",
            "set server agents/blue weight 95",
            "set server agents/green weight 25",
            "set server agents/blue weight 75",
            "set server agents/green weight 50",
            "set server agents/blue weight 50",
            "set server agents/green weight 100",
            "set server agents/blue weight 0",
        ]);
        expect(reports.map((r) => r.weight)).to.deep.equal([5, 25, 50, 100]);
        // Each step judged the canary on its own traffic, at about its share.
        const share = reports[0].canary.requests / (reports[0].canary.requests + reports[0].stable.requests);
        expect(share).to.be.closeTo(0.05, 0.01);
        expect(reports.every((r) => r.tookMs >= 30_000)).to.equal(true);
        expect(proxy.persisted.at(-1)).to.equal(`blue ${STABLE} 0 ready 8080\ngreen ${CANARY} 100 ready 8080\n`);
        expect(lines[0]).to.equal("canary step 1 of 4: 5% of new conversations (stable 95%) for 30s");
    });

    it("an answer signal (release.canary.answerSignal): a canary that falls back far more than stable is aborted, naming both rates", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        let fallbacks = 0;
        // The canary's counter grows at every reading (it lost what customers ask about); stable's stays.
        const counter = (n: number) => `# TYPE agent_fallback_answers_total counter\nagent_fallback_answers_total{reason="none"} ${n}\n`;
        proxy.agents.set(STABLE, { ...V1, metrics: () => counter(2) }).set(CANARY, { ...V2, metrics: () => counter((fallbacks += 10)) });
        const run = { ...(await canaryRun(proxy)), answerSignal: { metric: "agent_fallback_answers_total", maxDeltaPercent: 5 } };
        const err = await aborted(runCanary(run));
        expect(err.message).to.match(
            /^canary aborted at step 1 \(5%\): canary agent_fallback_answers_total [\d.]+ per 100 requests \(\d+ in \d+\), stable 0\.0 \(0 in \d+\): [\d.]+ above \(allowed: 5\)/,
        );
        expect(proxy.serving()).to.equal("blue");
    });

    it("an answer signal the releases do not export (no data) is no breach and does not hold the canary back", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, V1).set(CANARY, V2);
        const run = { ...(await canaryRun(proxy)), answerSignal: { metric: "agent_fallback_answers_total", maxDeltaPercent: 5 } };
        const reports = await runCanary(run);
        expect(reports.map((r) => r.weight)).to.deep.equal([5, 25, 50, 100]);
    });

    it("a canary over the 5xx threshold is aborted at its first step: weight 0, its conversations back on stable", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, V1).set(CANARY, { ...V2, errorRate: 0.5 });
        proxy.pinned.green = 7;
        const err = await aborted(runCanary(await canaryRun(proxy)));
        expect(err).to.be.instanceOf(CanaryAborted);
        expect(err.message).to.match(
            /^canary aborted at step 1 \(5%\): 5xx rate 5\d\.\d% \(\d+ of \d+ requests\) exceeds threshold 1% by .* Canary weight 0 in \d+ ms of the breach; 7 conversations pinned to it \(3 with more than one message\) moved to stable \(blue\)/,
        );
        expect(proxy.serving()).to.equal("blue");
        expect(proxy.pinned.green).to.equal(0);
        expect(proxy.persisted.at(-1)).to.equal(`blue ${STABLE} 100 ready 8080\ngreen ${CANARY} 0 maint 8080\n`);
    });

    it("a canary much slower than stable is aborted even under the absolute latency limit", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, { ...V1, rtimeMs: 300 }).set(CANARY, { ...V2, rtimeMs: 900 });
        const err = await aborted(runCanary(await canaryRun(proxy)));
        expect(err.message).to.match(/^canary aborted at step 1 \(5%\): canary average response time 900 ms is 3\.0 x stable's 300 ms/);
    });

    it("announces each step in the control file and removes it when the canary is over", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, V1).set(CANARY, V2);
        const control = new MemoryCanaryControl();
        const reports = await runCanary(await canaryRun(proxy, [], control));
        expect(control.steps.map((s) => [s.step, s.of, s.weight, s.canarySlot, s.stableSlot])).to.deep.equal([
            [1, 4, 5, "green", "blue"],
            [2, 4, 25, "green", "blue"],
            [3, 4, 50, "green", "blue"],
            [4, 4, 100, "green", "blue"],
        ]);
        expect(control.steps.map((s) => s.startedAt)).to.deep.equal(reports.map((r) => r.startedAt));
        expect(control.ends).to.equal(1);
    });

    it("an abort by hand mid-step stops the canary at its next check: stable 100, the canary out of service, the reason in the error", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: STABLE });
        proxy.agents.set(STABLE, V1).set(CANARY, V2);
        const control = new MemoryCanaryControl();
        const run = await canaryRun(proxy, [], control);
        control.onStep = async (state) => {
            if (state.step !== 2) return;
            // What `npm run abort` does: weights first, then the canary's conversations, then the request.
            await run.admin.setWeights(["blue", 100], ["green", 0]);
            proxy.pinned.green = 4;
            const { count: moved } = await run.admin.unpinConversations("green");
            control.pending = { at: proxy.clock.now(), reason: "operator saw bad answers", weightZeroMs: 240, moved, movedUnderWay: 2 };
        };
        const err = await aborted(runCanary(run));
        expect(err.message).to.match(
            /^canary aborted at step 2 \(25%\): aborted by hand: operator saw bad answers\. Canary weight 0 in 240 ms \(by the abort command\); 4 conversations pinned to it \(2 with more than one message\) moved to stable \(blue\)/,
        );
        // The step's weights were undone at once, and not raised again.
        const weights = proxy.setCommands().filter((c) => c.includes("weight"));
        expect(weights.slice(-2)).to.deep.equal(["set server agents/blue weight 100", "set server agents/green weight 0"]);
        expect(weights).to.not.include("set server agents/green weight 50");
        expect(proxy.persisted.at(-1)).to.equal(`blue ${STABLE} 100 ready 8080\ngreen ${CANARY} 0 maint 8080\n`);
        expect(control.ends).to.equal(1);
    });
});
