// The Swarm test cluster (scripts/cluster): three engines on this machine form a swarm,
// pull what this machine publishes from the cluster's registry, reach each other over
// an overlay network without IPVS (dnsrr), publish host-mode ports on every node, and
// reschedule a stopped worker's tasks. What the Swarm platform's suites build on.
import { expect } from "chai";
import * as path from "path";
import { TestCluster } from "../support/cluster";
import { freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";

const ROOT = path.join(__dirname, "..", "..");
const step = stepByStep();

describe("Swarm test cluster: 3 engines, a registry, overlay networking without IPVS", function () {
    this.timeout(900_000);
    const name = uniqueName("zsw");
    let cluster: TestCluster;
    let image = "";
    let stack: TestStack | undefined;
    const service = `${name}-agent`;
    const network = `${name}-net`;

    before(async () => {
        cluster = new TestCluster(name, await freePort());
        await cluster.up();
    });

    after(async () => {
        if (stack) await stack.remove();
        await cluster?.down();
    });

    step("the engines form a swarm: one manager, two workers, all Ready", async () => {
        const nodes = (await cluster.mustDocker(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"]))
            .split("\n")
            .map((l) => l.trim())
            .sort();
        expect(nodes).to.deep.equal([`${name}-node-1 Ready Leader`, `${name}-node-2 Ready`, `${name}-node-3 Ready`]);
    });

    step("an agent image published from this machine runs on all three nodes, by digest", async () => {
        const publish = await run(
            path.join(ROOT, "scripts", "publish"),
            ["--image", `${cluster.registry}/${name}-agent`, "--version", "1.0.0"],
            {
                cwd: ROOT,
                timeoutMs: 600_000,
            },
        );
        expect(publish.code, publish.stderr).to.equal(0);
        image = `${cluster.registry}/${name}-agent:1.0.0@${publish.stdout.trim()}`;
        await cluster.mustDocker(["network", "create", "--driver", "overlay", "--attachable", network]);
        await cluster.mustDocker([
            "service", "create", "--detach", "--name", service, "--network", network, "--endpoint-mode", "dnsrr",
            "--replicas", "3", "--placement-pref", "spread=node.id", image,
        ]); // prettier-ignore
        const nodes = await cluster.untilRunning(service, 3);
        expect(new Set(nodes).size, `tasks on ${nodes.join(", ")}`).to.equal(3);
    });

    step("from a container on one node, every replica answers on the overlay network (dnsrr, no VIP)", async () => {
        const probe = await cluster.mustDocker(
            ["run", "--rm", "--network", network, "--entrypoint", "sh", image, "-c",
             `for ip in $(getent ahostsv4 tasks.${service} | cut -d' ' -f1 | sort -u); do echo "$ip $(curl -s -m 5 http://$ip:8080/version)"; done`],
            cluster.nodes[1].host,
        ); // prettier-ignore
        const answers = probe.split("\n").filter((l) => l.includes('"version":"1.0.0"'));
        expect(answers, probe).to.have.length(3);
        expect(new Set(answers.map((l) => l.split(" ")[0])).size).to.equal(3);
        const vip = await cluster.mustDocker(["service", "inspect", "--format", "{{json .Endpoint.VirtualIPs}}", service]);
        expect(vip).to.be.oneOf(["null", "[]"]);
    });

    step("a global service with a host-mode port answers on every node's own address", async () => {
        const port = await freePort();
        await cluster.mustDocker([
            "service", "create", "--detach", "--name", `${name}-edge`, "--mode", "global", "--network", network,
            "--publish", `mode=host,target=8080,published=${port}`, image,
        ]); // prettier-ignore
        for (const node of cluster.nodes) {
            const address = await cluster.address(node.name);
            const answer = await cluster.until(`${node.name}:${port}`, async () => {
                const r = await fetch(`http://${address}:${port}/version`).catch(() => undefined);
                return r?.ok ? ((await r.json()) as { version: string }) : undefined;
            });
            expect(answer.version).to.equal("1.0.0");
        }
    });

    step("a worker's engine stops: the swarm marks it down and runs its task on the others", async () => {
        const worker = cluster.nodes[2].name;
        await mustRun("docker", ["stop", "--time", "20", worker]);
        await cluster.until(`${worker} Down`, async () => ((await cluster.nodeState(worker)) === "down" ? true : undefined));
        const nodes = await cluster.untilRunning(service, 3, worker);
        expect(nodes).to.not.include(worker);
        await mustRun("docker", ["start", worker]);
        await cluster.until(`${worker} Ready again`, async () => ((await cluster.nodeState(worker)) === "ready" ? true : undefined));
    });

    step("the manager restarts: the swarm and its services come back", async () => {
        await mustRun("docker", ["restart", "--time", "20", cluster.nodes[0].name]);
        const nodes = await cluster.untilRunning(service, 3);
        expect(nodes).to.have.length(3);
        // A restarted manager reports the other nodes Unknown until they report in again.
        const ready = await cluster.until("every node Ready", async () => {
            const states = (await cluster.mustDocker(["node", "ls", "--format", "{{.Status}}"])).split("\n");
            return states.every((s) => s === "Ready") ? states : undefined;
        });
        expect(ready).to.deep.equal(["Ready", "Ready", "Ready"]);
    });

    step(
        "pulumi up creates a replicated service (converged: every task running) and a global one through the docker provider",
        async () => {
            stack = new TestStack(path.join(ROOT, "test", "fixtures", "swarm"), `${name}p`, { DOCKER_HOST: cluster.manager });
            const port = await freePort();
            await stack.init({ prefix: `${name}p`, image, replicas: "3", port: String(port) });
            const up = await stack.up();
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            // Converged when pulumi up returns: no waiting here.
            expect(await cluster.runningOn(`${name}p-agent`)).to.have.length(3);
            const mode = await cluster.mustDocker([
                "service",
                "inspect",
                "--format",
                "{{.Spec.EndpointSpec.Mode}} {{json .Spec.Labels}}",
                `${name}p-agent`,
            ]);
            expect(mode).to.equal(`dnsrr {"zdt.stack":"${name}p"}`);
            const edge = await cluster.untilRunning(`${name}p-edge`, 3);
            expect(new Set(edge).size).to.equal(3);
        },
    );

    step("a change of replicas updates the service in place, and a plain update plans nothing", async () => {
        const before = await cluster.mustDocker(["service", "inspect", "--format", "{{.ID}}", `${name}p-agent`]);
        await stack!.setConfig("replicas", "2");
        const up = await stack!.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout).to.match(/~ 1 updated/);
        expect(
            await cluster.mustDocker(["service", "inspect", "--format", "{{.ID}} {{.Spec.Mode.Replicated.Replicas}}", `${name}p-agent`]),
        ).to.equal(`${before} 2`);
        const again = await stack!.preview();
        expect(again.stdout).to.not.match(/to (create|update|replace|delete)/);
    });

    step(
        "a service that cannot converge fails the update naming it, is removed (as the official provider), and nothing else changes",
        async () => {
            await stack!.setConfig("brokenImage", `${cluster.registry}/${name}-missing:1.0.0`);
            const up = await stack!.up();
            expect(up.code).to.not.equal(0);
            expect(up.stdout + up.stderr).to.match(new RegExp(`Service ${name}p-broken did not converge after 15s: 0 of 1 tasks running`));
            const services = await cluster.mustDocker(["service", "ls", "--format", "{{.Name}}"]);
            expect(services.split("\n")).to.not.include(`${name}p-broken`);
            expect(await cluster.runningOn(`${name}p-agent`)).to.have.length(2);
            await stack!.rmConfig("brokenImage");
            const fixed = await stack!.up();
            expect(fixed.code, fixed.stdout + fixed.stderr).to.equal(0);
        },
    );
});
