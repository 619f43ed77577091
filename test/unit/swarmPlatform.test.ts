// platform: swarm, without a cluster: what the config requires and refuses, and a release
// service's tasks read as the switch's container state (pure parts).
import { expect } from "chai";
import { parseConfig } from "../../config/schema";
import { swarmHealth } from "../../platform/swarm/swarmRelease";
import {
    parseTaskRows,
    readyNodes,
    serviceOf,
    serviceState,
    streamsCutFromServiceLog,
    tasksName,
    tasksStillRunning,
} from "../../platform/swarm/swarmServices";

const digest = `sha256:${"c".repeat(64)}`;
const swarm = {
    replicas: 3,
    proxyImage: `10.0.0.9:5000/p:1.0.0@${digest}`,
    nodes: [{ name: "n1", address: "10.0.0.1", engine: "ssh://root@10.0.0.1" }],
};
const message = (raw: Record<string, unknown>) => {
    try {
        parseConfig(raw);
        return "";
    } catch (e) {
        return (e as Error).message;
    }
};

describe("platform: swarm", () => {
    it("docker is the default platform, and a swarm section without platform: swarm is refused", () => {
        expect(parseConfig({ agent: { version: "1.0.0" } }).platform).to.equal("docker");
        expect(message({ agent: { version: "1.0.0" }, swarm })).to.match(/- swarm: only with platform: swarm/);
    });

    it("swarm needs the swarm section, a registry image pinned by digest, and no local build; naming each field", () => {
        const m = message({ platform: "swarm", agent: { version: "1.0.0", buildContext: "agent" } });
        expect(m).to.match(/- swarm: required with platform: swarm/);
        expect(m).to.match(/- agent.buildContext: not with platform: swarm/);
        expect(m).to.match(/- agent.image: required with platform: swarm/);
        expect(m).to.match(/- agent.digest: required with platform: swarm/);
        expect(m).to.match(/nothing was changed/);
    });

    it("accepts a complete swarm stack with its defaults (peer port 10000)", () => {
        const cfg = parseConfig({ platform: "swarm", agent: { version: "1.0.0", image: "10.0.0.9:5000/a", digest }, swarm });
        expect(cfg.swarm).to.deep.include({ replicas: 3, peerPort: 10000 });
    });

    it("refuses a proxy image without a digest, a node listed twice, and a node without an engine address", () => {
        const m = message({
            platform: "swarm",
            agent: { version: "1.0.0", image: "10.0.0.9:5000/a", digest },
            swarm: {
                ...swarm,
                proxyImage: "10.0.0.9:5000/p:1.0.0",
                nodes: [swarm.nodes[0], swarm.nodes[0], { name: "n3", address: "10.0.0.3", engine: "10.0.0.3" }],
            },
        });
        expect(m).to.match(/- swarm.proxyImage: an image reference pinned by digest/);
        expect(m).to.match(/- swarm.nodes: node n1 is listed twice/);
        expect(m).to.match(/- swarm.nodes.2.engine: a DOCKER_HOST such as ssh:/);
    });

    it("a slot's address is the service's tasks", () => {
        expect(tasksName("app-agent-1")).to.equal("tasks.app-agent-1");
        expect(serviceOf("tasks.app-agent-1")).to.equal("app-agent-1");
    });

    const rows = (text: string) => parseTaskRows(text.trim());

    it("a service runs when every replica runs; fewer is still starting", () => {
        expect(serviceState(rows("Running|Running 5 seconds ago|\nRunning|Running 4 seconds ago|"), 2, "img")).to.include({
            status: "running",
            running: true,
            restartCount: 0,
        });
        expect(serviceState(rows("Running|Running 5 seconds ago|\nRunning|Preparing 1 second ago|"), 2, "img")).to.include({
            status: "created",
            running: false,
        });
    });

    it("a task that failed and was replaced counts as a restart, with its exit code", () => {
        const s = serviceState(rows("Running|Starting 1 second ago|\nShutdown|Failed 2 seconds ago|task: non-zero exit (3)"), 1, "img");
        expect(s).to.include({ status: "restarting", restartCount: 1, exitCode: 3 });
    });

    it("a service scaled to 0 (a failed gate stopped it) is exited", () => {
        expect(serviceState(rows("Shutdown|Shutdown 3 seconds ago|"), 0, "img")).to.include({ status: "exited", running: false });
    });

    it("a retirement waits for the tasks running on ready nodes, not for those a lost node last reported", () => {
        const ready = readyNodes("n1|Ready\nn2|Ready\nn3|Down\n");
        expect([...ready]).to.deep.equal(["n1", "n2"]);
        const left = tasksStillRunning(
            rows(
                "Shutdown|Running 9 seconds ago||n3\nShutdown|Running 9 seconds ago||n1\nShutdown|Shutdown 1 second ago||n2\nShutdown|Starting 1 second ago||n2",
            ),
            ready,
        );
        expect(left.map((r) => [r.node, r.current])).to.deep.equal([
            ["n1", "Running 9 seconds ago"],
            ["n2", "Starting 1 second ago"],
        ]);
        expect(tasksStillRunning(rows("Shutdown|Running 9 seconds ago||n3"), ready)).to.deep.equal([]);
        // Rows without a node (the gate's format) count as they are.
        expect(tasksStillRunning(rows("Shutdown|Running 9 seconds ago|"), ready)).to.have.length(1);
    });

    it("sums the streams every retired task ended at the drain deadline", () => {
        const log = "retired: 2 streams ended at the drain deadline\nother line\nretired: 1 streams ended at the drain deadline\n";
        expect(streamsCutFromServiceLog(log)).to.equal(3);
        expect(streamsCutFromServiceLog("")).to.equal(0);
    });

    it("a task's health check is never stricter than the Swarm floor (Swarm kills an unhealthy task), and looser settings stay", () => {
        expect(swarmHealth({ intervalSeconds: 1, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 4 })).to.deep.equal({
            intervalSeconds: 5,
            timeoutSeconds: 10,
            retries: 5,
            startPeriodSeconds: 4,
        });
        expect(swarmHealth({ intervalSeconds: 30, timeoutSeconds: 20, retries: 9, startPeriodSeconds: 0 })).to.deep.equal({
            intervalSeconds: 30,
            timeoutSeconds: 20,
            retries: 9,
            startPeriodSeconds: 0,
        });
    });
});
