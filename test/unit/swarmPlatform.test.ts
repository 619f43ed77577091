// platform: swarm, without a cluster: what the config requires and refuses, and a release
// service's tasks read as the switch's container state (pure parts).
import { expect } from "chai";
import { parseConfig } from "../../config/schema";
import { swarmHealth, swarmServiceArgs } from "../../platform/swarm/swarmRelease";
import { peersEnv, proxyNodes, rolloutTimeoutSeconds, stackProxyArgs, swarmProxyArgs } from "../../platform/swarm/swarmProxy";
import { rolloutState } from "../../platform/swarm/proxyRollout";
import { labelChanges } from "../../platform/swarm/proxyNodes";
import { stackReleasePlan } from "../../components/agentRelease";
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

    describe("placement", () => {
        const agent = { version: "1.0.0", image: "10.0.0.9:5000/a", digest };
        const nodes = [
            { name: "n1", address: "10.0.0.1", engine: "ssh://root@10.0.0.1" },
            { name: "n2", address: "10.0.0.2", engine: "ssh://root@10.0.0.2", proxy: false },
            { name: "n3", address: "10.0.0.3", engine: "ssh://root@10.0.0.3", proxy: "true" },
        ];
        const stack = (placement?: Record<string, unknown>) =>
            parseConfig({ platform: "swarm", app: "shop", agent, swarm: { ...swarm, nodes, ...(placement ? { placement } : {}) } });
        const service = (placement?: Record<string, unknown>) => {
            const cfg = stack(placement);
            return swarmServiceArgs({ plan: stackReleasePlan(cfg, process.cwd()), replicas: 3, convergeSeconds: 60 }) as unknown as {
                taskSpec: Record<string, unknown>;
            };
        };

        it("a release's tasks get the constraints, the spread descriptors as the official provider passes them, and the per-node limit", () => {
            const args = service({
                constraints: ["node.role==worker", "node.labels.agents == true"],
                spreadOver: ["node.labels.zone"],
                maxReplicasPerNode: "2",
            });
            expect(args.taskSpec).to.deep.include({
                placement: {
                    constraints: ["node.role==worker", "node.labels.agents == true"],
                    prefs: ["node.labels.zone"],
                    maxReplicas: 2,
                },
            });
            // None set: Swarm places the tasks by itself, and the release id is the one of a stack before placement existed.
            expect(service().taskSpec.placement).to.equal(undefined);
        });

        it("a placement change is a new release beside the live one (its own service), not an update of the live service", () => {
            const id = (p?: Record<string, unknown>) => stackReleasePlan(stack(p), process.cwd()).releaseId;
            expect(id()).to.equal(id({ constraints: [], spreadOver: [], maxReplicasPerNode: 0 }));
            expect(id({ constraints: ["node.role==worker"] })).to.not.equal(id());
            expect(id({ spreadOver: ["node.labels.zone"] })).to.not.equal(id({ spreadOver: ["node.labels.rack"] }));
        });

        it("refuses a constraint without an operator or on an unknown attribute, a spread over anything but a label, naming each", () => {
            const m = message({
                platform: "swarm",
                agent,
                swarm: {
                    ...swarm,
                    placement: {
                        constraints: ["node.role", "node.zone==a"],
                        spreadOver: ["node.id", "spread=node.labels.zone"],
                        maxReplicasPerNode: 99,
                    },
                },
            });
            expect(m).to.match(/- swarm.placement.constraints.0: a Swarm constraint: <attribute> == or != <value>/);
            expect(m).to.match(/- swarm.placement.constraints.1: a Swarm constraint/);
            expect(m).to.match(/- swarm.placement.spreadOver.0: a node or engine label, such as node.labels.zone/);
            expect(m).to.match(/- swarm.placement.spreadOver.1: a node or engine label/);
            expect(m).to.match(/- swarm.placement.maxReplicasPerNode: /);
        });

        it("the proxy runs on the labelled proxy nodes only: its constraint, its peers and its addresses leave out a node with proxy: false", () => {
            const cfg = stack();
            expect(proxyNodes(cfg.swarm!.nodes).map((n) => n.name)).to.deep.equal(["n1", "n3"]);
            expect(peersEnv(cfg.swarm!.nodes)).to.equal("n1=10.0.0.1 n3=10.0.0.3");
            const args = swarmProxyArgs(stackProxyArgs(cfg, "shop-net"));
            expect((args.taskSpec as unknown as { placement: unknown }).placement).to.deep.equal({
                constraints: ["node.labels.zdt.proxy.shop==true"],
            });
            expect(message({ platform: "swarm", agent, swarm: { ...swarm, nodes: [{ ...nodes[1] }] } })).to.match(
                /- swarm.nodes: at least one node must run the proxy/,
            );
        });

        it("the label moves to the listed proxy nodes: added where missing, removed from a node no longer listed (or never listed)", () => {
            expect(labelChanges(["n1", "n2", "n9"], ["n1", "n3"])).to.deep.equal({ add: ["n3"], remove: ["n2", "n9"] });
            expect(labelChanges([], ["n1"])).to.deep.equal({ add: ["n1"], remove: [] });
            expect(labelChanges(["n1"], [])).to.deep.equal({ add: [], remove: ["n1"] });
        });
    });
});

describe("platform: swarm: a new proxy image, node by node", () => {
    const IMAGE = "10.0.0.9:5000/p:1.0.1@sha256:" + "d".repeat(64);
    const OLD = "10.0.0.9:5000/p:1.0.0@sha256:" + "c".repeat(64);
    const running = (image: string) => ({ image, current: "Running 3 seconds ago" });

    it("is over when no update is under way and every proxy that should run runs the new image", () => {
        expect(rolloutState({ state: "completed", message: "update completed" }, [running(IMAGE), running(IMAGE)], IMAGE)).to.deep.equal({
            done: true,
        });
        // A first deploy has no update status.
        expect(rolloutState({ state: "", message: "" }, [running(IMAGE)], IMAGE)).to.deep.equal({ done: true });
    });

    it("waits while Swarm updates, while a proxy still runs the old image or is starting, and while no proxy runs", () => {
        const w = rolloutState({ state: "updating", message: "update in progress" }, [running(IMAGE), running(OLD)], IMAGE);
        expect(w).to.deep.equal({ done: false, waiting: "1 of 2 proxies run the new image (update updating)" });
        // The manager may report the old status for a moment after the new spec.
        expect(rolloutState({ state: "completed", message: "" }, [running(OLD), running(IMAGE)], IMAGE).done).to.equal(false);
        expect(rolloutState({ state: "", message: "" }, [{ image: IMAGE, current: "Starting 1 second ago" }], IMAGE).done).to.equal(false);
        expect(rolloutState({ state: "", message: "" }, [], IMAGE).done).to.equal(false);
    });

    it("fails, with Swarm's words, when the update was rolled back or paused", () => {
        const r = rolloutState({ state: "rollback_completed", message: "rollback completed" }, [running(OLD)], IMAGE);
        expect(r).to.deep.include({ done: false, failed: "Swarm rollback completed the proxy's update: rollback completed" });
        expect(rolloutState({ state: "paused", message: "update paused due to failure" }, [running(OLD)], IMAGE)).to.deep.include({
            failed: "Swarm paused the proxy's update: update paused due to failure",
        });
    });

    it("each proxy drains before it stops (HAProxy's grace, its stop signal and grace period), and the wait is bounded per proxy node", () => {
        const cfg = parseConfig({
            platform: "swarm",
            app: "shop",
            agent: { version: "1.0.0", image: "10.0.0.9:5000/a", digest },
            swarm: { ...swarm, proxyDrainSeconds: "7" },
        });
        const spec = (swarmProxyArgs(stackProxyArgs(cfg, "net")).taskSpec as unknown as { containerSpec: Record<string, any> })
            .containerSpec;
        expect(spec.env).to.include({ PROXY_GRACE: "7s", READY_PATH: "/zdt/ready" });
        expect(spec).to.include({ stopSignal: "SIGUSR1", stopGracePeriod: "107s" });
        expect(rolloutTimeoutSeconds(cfg.swarm!)).to.equal(1 * (7 + 100 + 30) + 60);
        expect(
            parseConfig({ platform: "swarm", agent: { version: "1.0.0", image: "10.0.0.9:5000/a", digest }, swarm }).swarm!
                .proxyDrainSeconds,
        ).to.equal(10);
    });
});
