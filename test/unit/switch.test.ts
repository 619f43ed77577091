// The switch's decisions without Docker: the admin commands a first deploy, a flip, a
// flip-back, a failed gate and an interrupted run send, against a fake proxy that
// answers in HAProxy's own formats.
import { expect } from "chai";
import { overallTimeoutMs } from "../../engine/switchRunner";
import { runSwitch, SwitchDeps, SwitchError } from "../../engine/switch";
import type { SwitchResult } from "../../contracts/switchContract";
import { rejection } from "../support/rejection";
import { FakeContainers } from "../support/fakeContainers";
import { fakeSwitchDeps } from "../support/fakeSwitchDeps";
import { FakeAgent, FakeProxy } from "../support/fakeProxy";
import { switchInput, switchResult } from "../support/switchInput";
import { CurlProbes } from "../../haproxy/probes";
import { CONVERSATION_POLL_MS } from "../../engine/conversationDrain";
import { drainLine } from "../../ops/releaseReport";

const V1: FakeAgent = { release: "1-0-0-aaaaaaaa", version: "1.0.0" };
const V2: FakeAgent = { release: "2-0-0-bbbbbbbb", version: "2.0.0" };
const C1 = "app-agent-1-0-0-aaaaaaaa";
const C2 = "app-agent-2-0-0-bbbbbbbb";
const toV2 = switchInput({
    targetContainer: C2,
    targetRelease: V2.release,
    targetVersion: V2.version,
    verifyWindowSeconds: 30,
    probeIntervalMs: 1000,
});

function deps(
    proxy: FakeProxy,
    lastRun?: SwitchResult,
    containers = new FakeContainers(),
): SwitchDeps & { lines: string[]; retired: [string, number][]; containers: FakeContainers } {
    const retired: [string, number][] = [];
    return {
        ...fakeSwitchDeps(proxy, containers),
        lastRun,
        retire: async (container, drainMs) => {
            retired.push([container, drainMs]);
            return 2;
        },
        retired,
    };
}

const failure = (p: Promise<unknown>) => rejection(p, "the switch to fail");

describe("traffic switch (fake proxy)", () => {
    it("a first deploy points blue at the release, gates it, and gives it all traffic", async () => {
        const proxy = new FakeProxy();
        proxy.agents.set(C2, V2);
        const d = deps(proxy);
        const result = await runSwitch(toV2, d);
        expect(proxy.setCommands()).to.deep.equal([
            "set server agents/blue state maint",
            `set server agents/blue fqdn ${C2}`,
            "set server agents/blue weight 0",
            "set server agents/blue state ready",
            // after the gate: maintenance and back, nothing pooled to purge
            "set server agents/blue state maint",
            "set server agents/blue state ready",
            "set server agents/blue weight 100",
        ]);
        expect(proxy.persisted).to.deep.equal([`blue ${C2} 100 ready 8080\ngreen unassigned.invalid 0 maint 8080\n`]);
        expect(result).to.deep.include({
            liveColor: "blue",
            liveRelease: V2.release,
            liveVersion: "2.0.0",
            previousColor: null,
            previousRelease: null,
            previousVersion: null,
        });
        expect(result.phases.verifyMs).to.be.at.least(30_000);
        expect(result.verification.requests).to.be.greaterThan(100); // the synthetic probes, 5 a tick
        expect(d.retired).to.deep.equal([]); // nothing to retire
        expect(result.retirement).to.equal(null);
    });

    it("the idle slot's connections to the release it held before end before it gets any weight", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        // Streams still running on green's previous target, and connections in its pool
        // (maintenance closes these; the streams' go back to the pool when they end, as in
        // HAProxy 2.6). The fake refuses weight on a slot that still has any.
        proxy.connections.green = { used: 2, idle: 3, port: 8080 };
        const d = deps(proxy);
        await runSwitch(toV2, d);
        expect(proxy.setCommands().slice(4, 9)).to.deep.equal([
            "set server agents/green state maint",
            "set server agents/green addr 172.18.0.3 port 8081",
            "set server agents/green addr 172.18.0.3 port 8080",
            "set server agents/green state ready",
            "set server agents/green weight 100",
        ]);
        expect(d.lines.some((l) => /green: waited for 2 connections in use, purged 2 pooled connections/.test(l))).to.equal(true);
    });

    it("an agent that names no release (plain-text /health, no /version) is gated and confirmed by the proxy's word", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, { ...V1, plainHealth: true }).set(C2, { ...V2, plainHealth: true });
        const d = deps(proxy);
        const result = await runSwitch(toV2, d);
        expect(result).to.deep.include({ liveColor: "green", liveRelease: V2.release, previousColor: "blue" });
        expect(result.phases.healthGateMs).to.be.a("number");
        expect(result.phases.confirmMs).to.be.a("number");
    });

    it("the health endpoint is the agent's own (agent.health.path and expectStatus): a /healthz answering 204", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        const own = { plainHealth: true, healthPath: "/healthz", healthCode: 204 };
        proxy.agents.set(C1, { ...V1, ...own }).set(C2, { ...V2, ...own });
        const d = deps(proxy);
        d.probes = new CurlProbes(proxy.exec, 8080, "/healthz");
        const result = await runSwitch({ ...toV2, healthPath: "/healthz", healthStatus: 204 }, d);
        expect(result.liveColor).to.equal("green");
        expect(result.verification.gates.find((g) => g.metric === "health")).to.deep.include({
            status: "ok",
            message: "health check answers 204",
        });
        expect(result.judgedAgainst!.health).to.deep.equal({ path: "/healthz", expectStatus: 204 });
        // The same agent judged by the default endpoint never passes the gate (404 at /health).
        const proxy2 = new FakeProxy({ slot: "blue", agent: C1 });
        proxy2.agents.set(C1, { ...V1, ...own }).set(C2, { ...V2, ...own });
        const err = await failure(runSwitch({ ...toV2, healthGateTimeoutSeconds: 5 }, deps(proxy2)));
        expect(err.message).to.match(/did not pass \/health through the proxy within 5s \(last answer 404/);
    });

    it("the image's own HEALTHCHECK (agent.health.docker image) gates the release too: no traffic while Docker says starting, then on", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const d = deps(proxy);
        const containers = d.containers as FakeContainers;
        // Docker's check says starting for the first reads of the new release, then healthy.
        containers.onRead = (c, n) => (c === C2 ? { health: { status: n <= 4 ? "starting" : "healthy", lastOutput: "" } } : undefined);
        const result = await runSwitch({ ...toV2, gateOnDockerHealth: true }, d);
        expect(result.liveColor).to.equal("green");
        // Docker never says healthy: the gate fails, naming Docker's health, and traffic stays.
        const unhealthy = async (lastOutput: string) => {
            const p = new FakeProxy({ slot: "blue", agent: C1 });
            p.agents.set(C1, V1).set(C2, V2);
            const dd = deps(p);
            (dd.containers as FakeContainers).onRead = (c) => (c === C2 ? { health: { status: "unhealthy", lastOutput } } : undefined);
            const err = await failure(runSwitch({ ...toV2, gateOnDockerHealth: true, healthGateTimeoutSeconds: 5 }, dd));
            expect(p.setCommands().filter((c) => c.includes("weight") && !c.endsWith("weight 0"))).to.deep.equal([], "no weight given");
            return err.message;
        };
        const said = await unhealthy("exit 1");
        expect(said).to.match(/Docker's health check: unhealthy, last output exit 1/);
        expect(said).to.not.match(/counts the exec's set-up/);
        // Its check timing out while the agent answers the proxy (stop 48's CI run): the message says what to change.
        expect(await unhealthy("Health check exceeded timeout (2s)")).to.match(
            /last output Health check exceeded timeout \(2s\) \(a check that times out .* give the image's HEALTHCHECK --timeout more\)/,
        );
    });

    it("an agent without metrics (agent.metrics.path empty) gets no /metrics request; latency is judged on the proxy's figures", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, { ...V1, plainHealth: true }).set(C2, { ...V2, plainHealth: true });
        const d = deps(proxy);
        d.probes = new CurlProbes(proxy.exec, 8080, "/health", "");
        const result = await runSwitch({ ...toV2, scrapeMetrics: false }, d);
        expect(proxy.metricsRequests).to.equal(0);
        expect(result.verification.gates.find((g) => g.metric === "latency")!.message).to.match(
            /HAProxy's average response time judged instead/,
        );
        // With the default path, the switch asks for the metrics (and finds none here).
        const proxy2 = new FakeProxy({ slot: "blue", agent: C1 });
        proxy2.agents.set(C1, V1).set(C2, V2);
        await runSwitch(toV2, deps(proxy2));
        expect(proxy2.metricsRequests).to.be.greaterThan(0);
    });

    it("an answer the proxy says another server gave never passes the gate, and the error says whose it was", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, { ...V1, plainHealth: true }).set(C2, { ...V2, plainHealth: true });
        proxy.serverName = () => "blue"; // every answer named as blue's, green's too
        const err = await failure(runSwitch({ ...toV2, healthGateTimeoutSeconds: 5 }, deps(proxy)));
        expect(err.message).to.match(
            /health gate: 2-0-0-bbbbbbbb did not pass \/health .* \(last answer 200 \(answered by the proxy's server blue, not green\)/,
        );
        expect(proxy.setCommands()).to.not.include("set server agents/green weight 100");
    });

    it("a release brings the idle slot up at weight 0 and flips both weights in one admin session", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const d = deps(proxy);
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 5 }, d);
        const sets = proxy.sessions.filter((s) => s.startsWith("set "));
        expect(sets).to.deep.equal([
            `set server agents/green state maint;set server agents/green fqdn ${C2};set server agents/green weight 0;set server agents/green state ready`,
            // The pool emptied: in maintenance and back, each with the reading that follows it.
            "set server agents/green state maint;show servers conn agents",
            "set server agents/green state ready;show servers state agents",
            "set server agents/green weight 100;set server agents/blue weight 0",
        ]);
        expect(proxy.persisted).to.deep.equal([`blue ${C1} 0 ready 8080\ngreen ${C2} 100 ready 8080\n`]);
        expect(result).to.deep.include({
            liveColor: "green",
            previousColor: "blue",
            previousRelease: V1.release,
            previousVersion: "1.0.0",
        });
        // After the verification, the old release retires with this run's drain (5 s, not its own).
        expect(d.retired).to.deep.equal([[C1, 5000]]);
        expect(result.retirement).to.deep.equal({
            container: C1,
            drainMs: 5000,
            tookMs: 0,
            streamsCut: 2,
            conversations: { waitedMs: 0, moved: 0, movedUnderWay: 0, movedTalking: 0 },
        });
    });

    it("pinned conversations all between exchanges (none answered within quietSeconds): the old release retires at once, they move", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.pinned.blue = 40;
        proxy.talking = { blue: 0, green: 0 };
        const d = deps(proxy);
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 60 }, d);
        expect(result.retirement!.conversations).to.deep.equal({ waitedMs: 0, moved: 40, movedUnderWay: 20, movedTalking: 0 });
        expect(d.lines.join("\n")).not.to.match(/waiting for/);
        expect(proxy.pinned.blue).to.equal(0);
    });

    it("conversations talking on the old release hold its retirement until their exchange ends, not until their pins expire", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.pinned.blue = 40;
        proxy.talking = { blue: 3, green: 0 };
        let shows = 0;
        const d = deps(proxy);
        proxy.onShowTable = () => {
            // One exchange ends every few looks once the drain waits; the pins stay (10 minutes).
            const draining = d.lines.some((l) => l.includes("to end their exchange"));
            if (draining && ++shows % 3 === 0 && proxy.talking!.blue > 0) proxy.talking!.blue--;
        };
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 60 }, d);
        const c = result.retirement!.conversations;
        expect(c).to.deep.include({ moved: 40, movedTalking: 0 });
        expect(c.waitedMs)
            .to.be.at.least(2 * CONVERSATION_POLL_MS)
            .and.below(60_000);
        expect(d.lines.join("\n")).to.match(/waiting for 3 of the 40 conversations pinned to blue to end their exchange/);
        expect(d.lines.join("\n")).to.match(
            /40 still pinned \(they move to green; 20 of them had more than one message, 0 were still talking\)/,
        );
        expect(d.retired).to.deep.equal([[C1, 60_000]]);
    });

    it("conversations still talking at the drain's limit move mid-exchange, and are counted as such", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.pinned.blue = 6;
        proxy.talking = { blue: 2, green: 0 }; // never quiet
        const d = deps(proxy);
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 5 }, d);
        expect(result.retirement!.conversations).to.deep.include({ moved: 6, movedUnderWay: 3, movedTalking: 2 });
        expect(result.retirement!.conversations.waitedMs).to.be.at.least(5000);
        expect(proxy.talking.blue).to.equal(0);
        expect(proxy.sessions.some((x) => x.split(";").includes("clear table zdt_talking_blue"))).to.equal(true);
    });

    it("says the drain in the release report's words: none left, all moved between exchanges, or some cut mid-exchange", () => {
        expect(drainLine({ waitedMs: 2400, moved: 0, movedUnderWay: 0, movedTalking: 0 })).to.equal(
            "waited 2.4 s for the old release's conversations to end their exchange; none was left pinned to it",
        );
        expect(drainLine({ waitedMs: 0, moved: 40, movedUnderWay: 20, movedTalking: 0 })).to.match(
            /40 still pinned moved to the new release, all between exchanges; 20 had had more than one message$/,
        );
        expect(drainLine({ waitedMs: 5000, moved: 6, movedUnderWay: 3, movedTalking: 2 })).to.match(
            /6 still pinned .*, 2 of them mid-exchange \(the drain's limit cut them\)/,
        );
    });

    it("a proxy config of an earlier version (no talking table): retirement waits until the pinned conversations go idle", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.pinned.blue = 3;
        let shows = 0;
        const d = deps(proxy);
        proxy.onShowTable = () => {
            // One conversation goes idle every few looks once the drain waits for them.
            const draining = d.lines.some((l) => l.includes("to go idle"));
            if (draining && ++shows % 3 === 0 && proxy.pinned.blue > 0) proxy.pinned.blue--;
        };
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 60 }, d);
        expect(result.retirement!.conversations.moved).to.equal(0);
        expect(result.retirement!.conversations.waitedMs).to.be.greaterThan(0).and.below(60_000);
        expect(d.lines.join("\n")).to.match(
            /waiting for 3 conversations pinned to blue \(1 with more than one message\) to go idle \(at most 60s\)/,
        );
        expect(d.retired).to.deep.equal([[C1, 60_000]]); // only then does the old release retire
    });

    it("conversations still pinned at the drain deadline move to the new release, and are counted", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.pinned.blue = 2; // never go idle
        const d = deps(proxy);
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 5 }, d);
        expect(result.retirement!.conversations).to.deep.include({ moved: 2, movedUnderWay: 1 });
        expect(result.retirement!.conversations.waitedMs).to.be.at.least(5000);
        expect(d.lines.join("\n")).to.match(
            /2 still pinned \(they move to green; 1 of them had more than one message, 2 were still talking\)/,
        );
        // Unpinned at the deadline: the slot's next release starts with no one else's conversations.
        expect(proxy.pinned.blue).to.equal(0);
        expect(proxy.sessions.some((x) => x.split(";").includes("clear table zdt_pinned_blue"))).to.equal(true);
    });

    it("reads conversation counts from the tables' headers only, and reports a nearly full table before it evicts", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        proxy.tableSize = 1000;
        proxy.pinned.blue = 950; // the fake throws on any reading that would stream a table
        proxy.activeConversations = () => 900;
        const d = deps(proxy);
        const result = await runSwitch({ ...toV2, drainTimeoutSeconds: 5 }, d);
        expect(proxy.tableShows).to.be.greaterThan(0);
        expect(result.conversationTable).to.deep.include({ size: 1000, used: 950, percent: 95 });
        expect(result.conversationTable!.warning).to.match(/950 of 1000 entries \(95 %\), nearly full/);
        expect(d.lines.join("\n")).to.match(/warning: conversation table 950 of 1000 entries/);

        const roomy = new FakeProxy({ slot: "blue", agent: C1 });
        roomy.agents.set(C1, V1).set(C2, V2);
        roomy.pinned.blue = 10;
        const quiet = await runSwitch({ ...toV2, drainTimeoutSeconds: 5 }, deps(roomy));
        expect(quiet.conversationTable).to.deep.include({ used: 10, warning: null });
    });

    it("a breach during verification flips back at once, parks the new slot, and fails naming the threshold", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, errorRate: 0.5 });
        const d = deps(proxy);
        const err = await failure(runSwitch(toV2, d));
        expect(err).to.be.instanceOf(SwitchError);
        expect(d.retired).to.deep.equal([]); // the live release is never retired on a failure
        expect(err.message).to.match(
            /^verification failed: 5xx rate 5\d\.\d% \(\d+ of \d+ requests\) exceeds threshold 1% by 4\d\.\d points\. Traffic flipped back to blue/,
        );
        expect(proxy.setCommands().slice(-3)).to.deep.equal([
            "set server agents/blue weight 100",
            "set server agents/green weight 0",
            "set server agents/green state maint",
        ]);
        expect(proxy.serving()).to.equal("blue");
        expect(proxy.persisted.at(-1)).to.equal(`blue ${C1} 100 ready 8080\ngreen ${C2} 0 maint 8080\n`);
    });

    /** An agent's /metrics whose LLM histogram grows by `perRead` answers per read, all in the bucket up to `le` s. */
    function llmMetrics(le: string, perRead: number): () => string {
        let n = 0;
        const les = ["0.5", "1", "2", "5", "10", "+Inf"];
        return () => {
            n += perRead;
            const upTo = les.indexOf(le);
            return (
                les.map((l, i) => `agent_llm_latency_seconds_bucket{le="${l}"} ${i >= upTo ? n : 0}`).join("\n") +
                `\nagent_llm_latency_seconds_count ${n}`
            );
        };
    }

    it("an LLM p95 over the threshold (the agent's histogram) flips back naming it", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, metrics: llmMetrics("10", 10) });
        const err = await failure(runSwitch(toV2, deps(proxy)));
        expect(err.message).to.match(
            /^verification failed: LLM latency p95 \d+ ms \(\d+ answers\) exceeds threshold 5000 ms by \d+ ms\. Traffic flipped back to blue/,
        );
        expect(proxy.serving()).to.equal("blue");
    });

    it("memory over the threshold of the container's limit (the Docker engine) flips back naming it", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const containers = new FakeContainers();
        containers.memoryReadings.set(C2, { percent: 96.2, usedMb: 123, limitMb: 128 });
        const err = await failure(runSwitch(toV2, deps(proxy, undefined, containers)));
        expect(err.message).to.match(
            /^verification failed: memory 96\.2% \(123 MB of the 128 MB limit\) exceeds threshold 90% by 6\.2 points\. Traffic flipped back to blue/,
        );
    });

    it("active conversations dropping after the flip (a release turning new ones away) flip back naming the drop", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        // 200 active before the flip; then the new release answers no new conversation and the count decays.
        let reads = 0;
        proxy.activeConversations = () => (reads++ === 0 ? 200 : Math.max(0, 200 - 60 * (reads - 1)));
        const err = await failure(runSwitch(toV2, deps(proxy)));
        expect(err.message).to.match(
            /^verification failed: \d+ active conversations, 200 before the flip \(-\d+\.\d%\): a drop of \d+\.\d% exceeds threshold 20% by [\d.]+ points \(2 readings in a row\)\. Traffic flipped back to blue/,
        );
    });

    it("one low reading of active conversations is noise: the next one decides, past the window's end if need be", async () => {
        // Readings every CONVERSATION_READ_MS of the 30 s window; `low(t)`: a drop at t ms after the baseline.
        const run = async (low: (t: number) => boolean) => {
            const proxy = new FakeProxy({ slot: "blue", agent: C1 });
            proxy.agents.set(C1, V1).set(C2, V2);
            let baselineAt: number | undefined;
            proxy.activeConversations = () => {
                const now = proxy.clock.now();
                baselineAt ??= now;
                return low(now - baselineAt) ? 100 : 200;
            };
            const d = deps(proxy);
            return {
                d,
                outcome: await runSwitch(toV2, d).then(
                    (r) => r,
                    (e: Error) => e,
                ),
            };
        };
        const extension = /verification window over with a drop of active conversations in one reading: the next reading decides/;
        // One reading low in the middle of the window: it passes, and the window is not extended.
        const middle = await run((t) => t > 8_000 && t < 12_000);
        expect(middle.outcome).to.deep.include({ liveRelease: V2.release });
        expect(middle.d.lines.join("\n")).not.to.match(extension);
        // The last reading in the window low, the next one back up: one more reading, then it passes.
        const lastThenUp = await run((t) => t > 24_000 && t < 29_000);
        expect(lastThenUp.outcome).to.deep.include({ liveRelease: V2.release });
        expect(lastThenUp.d.lines.join("\n")).to.match(extension);
        // The last reading in the window low, and the next too: a breach, flipped back.
        const lastAndNext = await run((t) => t > 24_000);
        expect(lastAndNext.outcome).to.be.instanceOf(SwitchError);
        expect((lastAndNext.outcome as Error).message).to.match(
            /-50\.0%\): a drop of 50\.0% exceeds threshold 20% by 30\.0 points \(2 readings in a row\)\. Traffic flipped back to blue/,
        );
        expect(lastAndNext.d.lines.join("\n")).to.match(extension);
    });

    it("a healthy release passes with every gate measured, warnings and missing data in the report", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, metrics: llmMetrics("0.5", 10) });
        const containers = new FakeContainers();
        containers.memoryReadings.set(C2, { percent: 83, usedMb: 425, limitMb: 512 });
        proxy.activeConversations = () => 80;
        const result = await runSwitch(toV2, deps(proxy, undefined, containers));
        expect(result.verification.gates.map((g) => [g.metric, g.status])).to.deep.equal([
            ["health", "ok"],
            ["health-response-time", "ok"],
            ["error-rate", "ok"],
            ["latency", "ok"],
            ["memory", "warn"],
            ["conversations", "ok"],
        ]);
        expect(result.verification.gates.find((g) => g.metric === "latency")!.message).to.match(/^LLM latency p95 \d+ ms \(\d+ answers\)$/);
        // An agent without /metrics still releases; the report says what was judged instead.
        const bare = new FakeProxy({ slot: "blue", agent: C1 });
        bare.agents.set(C1, V1).set(C2, V2);
        const plain = await runSwitch(toV2, deps(bare));
        expect(plain.verification.gates.find((g) => g.metric === "latency")!.message).to.match(
            /\(the agent exposes no LLM latency histogram; HAProxy's average response time judged instead\)$/,
        );
        expect(plain.verification.gates.find((g) => g.metric === "memory")).to.deep.include({ status: "no-data" });
        expect(plain.verification.gates.find((g) => g.metric === "conversations")!.message).to.match(
            /the proxy does not count active conversations/,
        );
    });

    it("a flip-back moves the conversations that began on the failed release to the live one, and says how many", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, errorRate: 0.5 });
        proxy.pinned.green = 4; // conversations begun on the new release during its verification
        const err = await failure(runSwitch(toV2, deps(proxy)));
        expect(err.message).to.match(/Traffic flipped back to blue .*; 4 conversations that began on it moved to blue\.$/);
        expect(proxy.pinned.green).to.equal(0);
        const unpin = proxy.sessions.find((s) => s.split(";").includes("clear table agents data.server_id eq 2"));
        expect(unpin?.split(";")).to.include.members(["clear table zdt_pinned_green", "clear table zdt_underway_green"]);
    });

    it("a release failing its health gate never gets weight; the error names the check and quotes its logs", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, healthCode: 503 });
        const d = deps(proxy);
        const err = await failure(runSwitch({ ...toV2, healthGateTimeoutSeconds: 10 }, d));
        expect(err.message).to.match(
            /^health gate: 2-0-0-bbbbbbbb did not pass \/health through the proxy within 10s \(last answer 503: failed checks: knowledge \(fault \(FAULT_HEALTH=fail\)\)\); traffic stays on blue\. app-agent-2-0-0-bbbbbbbb is stopped; the next `pulumi up` starts it again/,
        );
        expect(err.message).to.include(
            "Last 15 log lines of app-agent-2-0-0-bbbbbbbb:\n  | agent 2.0.0 listening on :8080\n  | fault: something went wrong",
        );
        expect(proxy.setCommands().filter((c) => c.includes("weight") && !c.endsWith("weight 0"))).to.deep.equal([]);
        expect(proxy.setCommands().at(-1)).to.equal("set server agents/green state maint");
        expect(proxy.persisted).to.deep.equal([]);
        expect(proxy.serving()).to.equal("blue");
        expect(d.containers.stopped).to.deep.equal([C2]); // a failed release does not crash-loop
    });

    it("a crashing release fails the gate at its first restart, long before the gate timeout", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, { ...V2, healthCode: 0 });
        const containers = new FakeContainers();
        containers.onRead = (c, n) => (c === C2 && n >= 3 ? { restartCount: 1, exitCode: 3 } : undefined);
        const start = proxy.clock.now();
        const err = await failure(runSwitch({ ...toV2, healthGateTimeoutSeconds: 600 }, deps(proxy, undefined, containers)));
        expect(err.message).to.match(
            /^health gate: 2-0-0-bbbbbbbb its container crashed and was restarted 1 time by its restart policy; traffic stays on blue/,
        );
        expect(proxy.clock.now() - start).to.be.below(10_000);
        expect(proxy.serving()).to.equal("blue");
        expect(containers.stopped).to.deep.equal([C2]);
    });

    it("running a failed release again starts its stopped container and gates it again", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const containers = new FakeContainers();
        containers.states.set(C2, { ...FakeContainers.running(C2), status: "exited", running: false, exitCode: 143 });
        const d = deps(proxy, undefined, containers);
        const result = await runSwitch(toV2, d);
        expect(containers.started).to.deep.equal([C2]);
        expect(d.lines).to.include(`starting ${C2} (exited, left by an earlier failed gate)`);
        expect(result.liveRelease).to.equal(V2.release);
    });

    it("retirement keeps the retired release's image and removes the one kept before it", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const lastRun = { ...switchResult(V1.release, "1.0.0"), keptImage: { id: "sha256:v0", ref: "app-agent:0.9.0" } };
        const d = deps(proxy, lastRun);
        const result = await runSwitch(toV2, d);
        expect(d.containers.removedImages).to.deep.equal(["app-agent:0.9.0"]);
        expect(result.keptImage).to.deep.equal({ id: `sha256:${C1}`, ref: `${C1}:img` });
        expect(result.prunedImage).to.equal("app-agent:0.9.0");
        // The next release retires v2 and removes v1's image.
        const again = deps(proxy, result);
        const C3 = "app-agent-3-0-0-cccccccc";
        proxy.agents.set(C3, { release: "3-0-0-cccccccc", version: "3.0.0" });
        await runSwitch({ ...toV2, targetContainer: C3, targetRelease: "3-0-0-cccccccc", targetVersion: "3.0.0" }, again);
        expect(again.containers.removedImages).to.deep.equal([`${C1}:img`]);
    });

    it("a run interrupted after its flip only re-verifies: no admin command changes anything", async () => {
        const proxy = new FakeProxy({ slot: "green", agent: C2 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const lastRun = switchResult(V1.release, "1.0.0");
        const d = deps(proxy, lastRun);
        const result = await runSwitch(toV2, d);
        expect(proxy.setCommands()).to.deep.equal([]);
        expect(proxy.persisted).to.deep.equal([]);
        expect(d.lines[0]).to.equal(`${V2.release} is already live on green; verifying it again`);
        // The previous release is what the last successful run left live.
        expect(result).to.deep.include({
            liveColor: "green",
            previousColor: "blue",
            previousRelease: V1.release,
            previousVersion: "1.0.0",
        });
        expect(result.phases).to.not.have.property("flipMs");
    });

    it("a breach with no previous slot to return to fails, and the only release keeps serving", async () => {
        const proxy = new FakeProxy();
        proxy.agents.set(C2, { ...V2, errorRate: 1 });
        const err = await failure(runSwitch(toV2, deps(proxy)));
        expect(err.message).to.match(/There is no previous colour to return to; 2-0-0-bbbbbbbb keeps serving\.$/);
        expect(proxy.serving()).to.equal("blue");
    });
});

describe("traffic switch overall timeout", () => {
    it("leaves room for the gate, the window, the conversation drain and the retirement's drain", () => {
        const input = { healthGateTimeoutSeconds: 120, verifyWindowSeconds: 900, drainTimeoutSeconds: 60 };
        // The retirement may take the drain plus the agent's exit slack after the conversation drain.
        expect(overallTimeoutMs(input)).to.be.greaterThan((120 + 900 + 60 + 60 + 10) * 1000);
        expect(overallTimeoutMs({ ...input, drainTimeoutSeconds: 600 }) - overallTimeoutMs(input)).to.equal(2 * 540 * 1000);
    });
});

describe("traffic switch: canary strategy (fake proxy)", () => {
    it("steps the new release up instead of one flip, then verifies and retires the old one as blue/green does", async () => {
        const proxy = new FakeProxy({ slot: "blue", agent: C1 });
        proxy.agents.set(C1, V1).set(C2, V2);
        const d = deps(proxy);
        const steps = [5, 50, 100].map((weight) => ({ weight, pauseSeconds: 20 }));
        const result = await runSwitch(
            {
                ...toV2,
                strategy: "canary",
                canary: { steps, maxErrorRateDeltaPercent: 1, maxLatencyRatio: 2 },
                probeRequestsPerTick: 50,
            },
            d,
        );
        expect(result.canarySteps!.map((s) => s.weight)).to.deep.equal([5, 50, 100]);
        expect(result.liveColor).to.equal("green");
        expect(result.strategy).to.equal("canary");
        expect(result.weights).to.deep.equal({ blue: 0, green: 100 });
        expect(result.judgedAgainst).to.deep.equal({
            thresholds: toV2.thresholds,
            canary: { maxErrorRateDeltaPercent: 1, maxLatencyRatio: 2 },
            health: { path: "/health", expectStatus: 200 },
        });
        expect(d.retired).to.deep.equal([[C1, toV2.drainTimeoutSeconds * 1000]]);
        expect(
            overallTimeoutMs({ ...toV2, strategy: "canary", canary: { steps, maxErrorRateDeltaPercent: 1, maxLatencyRatio: 2 } }),
        ).to.equal(overallTimeoutMs(toV2) + 3 * 50 * 1000);
    });
});
