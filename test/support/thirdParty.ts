// What the third-party agents' suites check after each release under a channel's traffic:
// the update went through, every delivery was answered, no chat's session restarted, and
// nothing of ours but health checks reached the agent (its own log says what did).
import { expect } from "chai";
import type { ChannelReport } from "../../load/channel";
import type { TestStack } from "./pulumi";
import type { AgentLogFollower } from "./agentLogFollower";
import { proxyLogTail } from "./containers";

/**
 * What a channel agent's test stack sets besides the agent itself: no reindex endpoint (a
 * knowledge change is a release), no Prometheus metrics (nothing is asked of /metrics),
 * and (no synthetic request: the default for an agent whose key is not our header) short windows for a test: chats idle after 5 s, 6 s of
 * verification, a 3 s drain (a bot that ignores SIGTERM, or keep-alive connections that
 * hold up its server's close, end there).
 */
export function channelAgentSettings(proxyPort: number): Record<string, string> {
    return {
        "agent.reindex.mode": "release",
        "agent.metrics.path": "",
        "proxy.port": String(proxyPort),
        "proxy.conversations.idleTimeoutSeconds": "5",
        "release.verifyWindowSeconds": "6",
        "release.healthGateTimeoutSeconds": "60",
        "release.drainTimeoutSeconds": "3",
    };
}

/** A canary of two steps: `weight` % for `pauseSeconds`, then 100 % (a small threshold sample and a wide latency ratio, for a short test on a loaded machine). */
export async function twoStepCanary(stack: TestStack, weight: number, pauseSeconds: number): Promise<void> {
    await stack.setConfig("release.strategy", "canary");
    await stack.setConfig("release.canary.steps[0].weight", String(weight));
    await stack.setConfig("release.canary.steps[0].pauseSeconds", String(pauseSeconds));
    await stack.setConfig("release.canary.steps[1].weight", "100");
    await stack.setConfig("release.canary.steps[1].pauseSeconds", "0");
    await stack.setConfig("release.thresholds.minRequests", "5");
    // These steps prove stickiness and no lost chat, not the latency comparison (unit tests
    // do): two fresh Node processes answering their first chats on a loaded 2-core machine
    // are several times slower than the warm live one (CI saw 197 ms against 58 ms), which
    // the default 2 x refuses. The 5xx comparison and the absolute gates still judge.
    await stack.setConfig("release.canary.maxLatencyRatio", "20");
}

export function printChannel(what: string, r: ChannelReport): void {
    console.log(
        `      ${what}: ${r.ok + r.failed} deliveries (${r.failed} failed ${JSON.stringify(r.failures)}), ` +
            `${r.chatsCompleted} chats completed, ${r.chatsRestarted} restarted, ${r.chatsFailed} failed`,
    );
}

/**
 * The release went through with every delivery answered and no chat restarted, and no
 * request of ours (a synthetic chat, /version, /metrics, the reindex endpoint) reached the
 * agent: `unknownPath` matches the line the agent logs for a path it does not serve. The
 * agent's logs are those of every release it ran (`logs` follows them: a retired release's
 * container is gone by now); `detail` adds what the channel's side knows to a failure.
 */
export async function expectNoChatLost(
    logs: AgentLogFollower,
    what: string,
    up: { code: number; stdout: string; stderr: string },
    report: ChannelReport,
    unknownPath: (path: string) => RegExp,
    detail = "",
): Promise<void> {
    printChannel(what, report);
    expect(up.code, up.stdout + up.stderr).to.equal(0);
    // A failed delivery: what the proxy logged (a server's state changes, and why) and each
    // release's last lines (a reply it could not send, what it had under way when it stopped) say where.
    const where =
        report.failed > 0 || report.chatsRestarted > 0 || report.chatsFailed > 0
            ? `\n${detail}\n${await proxyLogTail(logs.app)}\n--- the agents' last lines\n${logs.text(30)}`
            : "";
    expect(report.failed, JSON.stringify(report.failures) + where).to.equal(0);
    expect(report.chatsRestarted, where).to.equal(0);
    expect(report.chatsFailed, where).to.equal(0);
    const all = logs.text();
    for (const ours of ["/v1/chat", "/version", "/metrics", "/admin/reindex"]) expect(all).to.not.match(unknownPath(ours));
}
