// The Swarm test cluster (scripts/cluster): three engines on this machine form a swarm,
// pull what this machine publishes from the cluster's registry, reach each other over
// an overlay network without IPVS (dnsrr), publish host-mode ports on every node, and
// reschedule a stopped worker's tasks. What the Swarm platform's suites build on.
import { expect } from "chai";
import * as path from "path";
import { TestCluster } from "../support/cluster";
import { LoadGenerator, type LoadReport } from "../../load/client";
import { canaryLoad, standardLoad } from "../../load/profile";
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
    let platform: TestStack | undefined;
    const service = `${name}-agent`;
    const network = `${name}-net`;

    before(async () => {
        cluster = new TestCluster(name, await freePort());
        await cluster.up();
    });

    after(async () => {
        if (stack) await stack.remove();
        if (platform) await platform.remove();
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

    // platform: swarm, released for real on the cluster under load through every node's proxy.
    const app = `${name}r`;
    const digests: Record<string, string> = {};
    let urls: string[] = [];
    const publish = async (version: string) => {
        const r = await run(
            path.join(ROOT, "scripts", "publish"),
            ["--image", `${cluster.registry}/${app}-agent`, "--version", version, "--knowledge", "knowledge"],
            { cwd: ROOT, timeoutMs: 600_000 },
        );
        expect(r.code, r.stderr).to.equal(0);
        digests[version] = r.stdout.trim();
    };
    const release = async (version: string) => {
        await platform!.setConfig("agent.version", version);
        await platform!.setConfig("agent.digest", digests[version]);
    };
    /** Every proxy's answer to GET /version (the release its weights send new requests to). */
    const served = () =>
        Promise.all(
            urls.map(async (u) => {
                const r = await fetch(`${u}/version`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
                return r?.ok ? ((await r.json()) as { version: string; releaseId: string }).version : `no answer from ${u}`;
            }),
        );
    const underLoad = async (load: LoadGenerator, fn: () => Promise<void>): Promise<LoadReport> => {
        load.start();
        try {
            await fn();
        } finally {
            await load.stop().then((r) => (lastLoad = r));
        }
        return lastLoad!;
    };
    let lastLoad: LoadReport | undefined;
    const figures = (what: string, r: LoadReport) =>
        console.log(
            `      ${what}: ${r.requests} requests through ${Object.keys(r.byUrl).length} proxies, ${r.failed} failed ${JSON.stringify(r.failures)}, ` +
                `${r.streamsCompleted} streams (${r.streamsTruncated} truncated), ${r.conversationsCompleted} conversations (${r.conversationsBroken} broken)`,
        );

    step("platform: swarm: the first release is a service of 2 tasks, and the proxy on every node serves it", async () => {
        const proxy = await run(
            path.join(ROOT, "scripts", "publish"),
            ["--image", `${cluster.registry}/${app}-proxy`, "--version", "1.0.0", "--context", "proxy"],
            { cwd: ROOT, timeoutMs: 600_000 },
        );
        expect(proxy.code, proxy.stderr).to.equal(0);
        for (const v of ["2.0.0", "2.1.0", "2.2.0", "2.3.0"]) await publish(v);
        platform = new TestStack(ROOT, app, { DOCKER_HOST: cluster.manager });
        const nodes: Record<string, string> = {};
        for (const [i, n] of cluster.nodes.entries()) {
            nodes[`swarm.nodes[${i}].name`] = n.name;
            nodes[`swarm.nodes[${i}].address`] = await cluster.address(n.name);
            nodes[`swarm.nodes[${i}].engine`] = n.host;
        }
        await platform.init({
            app,
            platform: "swarm",
            "agent.version": "2.0.0",
            "agent.image": `${cluster.registry}/${app}-agent`,
            "agent.digest": digests["2.0.0"],
            "proxy.port": String(await freePort()),
            "swarm.replicas": "2",
            "swarm.peerPort": String(await freePort()),
            "swarm.proxyImage": `${cluster.registry}/${app}-proxy:1.0.0@${proxy.stdout.trim()}`,
            ...nodes,
            "release.verifyWindowSeconds": "6",
            "release.drainTimeoutSeconds": "5",
        });
        const up = await platform.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        urls = (await platform.outputs()).proxyUrls;
        expect(urls).to.have.length(3);
        expect(await served()).to.deep.equal(["2.0.0", "2.0.0", "2.0.0"]);
        const live = (await platform.outputs()).liveRelease as string;
        expect(await cluster.runningOn(`${app}-agent-${live}`)).to.have.length(2);
    });

    step("a blue/green release under load through all three proxies: 0 failed requests, 0 broken conversations", async () => {
        await release("2.1.0");
        let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
        const r = await underLoad(new LoadGenerator({ ...standardLoad(urls[0]), urls }), async () => {
            up = await platform!.up();
        });
        figures("blue/green 2.0.0 -> 2.1.0", r);
        expect(up!.code, up!.stdout + up!.stderr).to.equal(0);
        expect(r.failed, JSON.stringify(r.failures)).to.equal(0);
        expect(r.streamsTruncated).to.equal(0);
        expect(r.conversationsBroken).to.equal(0);
        expect(r.conversationsCompleted).to.be.greaterThan(10);
        for (const u of urls) expect(r.byUrl[u].requests, u).to.be.greaterThan(100);
        expect(await served()).to.deep.equal(["2.1.0", "2.1.0", "2.1.0"]);
        const services = await cluster.mustDocker(["service", "ls", "--format", "{{.Name}}"]);
        expect(services.split("\n").filter((n) => n.startsWith(`${app}-agent-`))).to.have.length(1);
    });

    step(
        "a worker's engine stops during the verification: only what was on it fails, and the release completes or flips back",
        async function () {
            await platform!.setConfig("release.verifyWindowSeconds", "30");
            await release("2.2.0");
            const target = urls.slice();
            const load = new LoadGenerator({ ...standardLoad(target[0]), urls: target });
            let victim = "";
            let killedAt = 0;
            let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
            const r = await underLoad(load, async () => {
                const running = platform!.up();
                // After the flip (every proxy serves 2.2.0), kill a worker that runs one of its tasks.
                await cluster.until(
                    "every proxy serving 2.2.0",
                    async () => ((await served()).every((v) => v === "2.2.0") ? true : undefined),
                    300_000,
                );
                const service = (await cluster.mustDocker(["service", "ls", "--format", "{{.Name}}"]))
                    .split("\n")
                    .find((n) => n.startsWith(`${app}-agent-2-2-0`))!;
                const workers = cluster.nodes.slice(1).map((n) => n.name);
                victim = (await cluster.runningOn(service)).find((n) => workers.includes(n)) ?? workers[1];
                const before = load.snapshot();
                killedAt = Date.now();
                await mustRun("docker", ["stop", "--time", "20", victim]);
                // Clients stop sending to the lost node's address (a load balancer's health check).
                const lost = urls[cluster.nodes.findIndex((n) => n.name === victim)];
                target.splice(target.indexOf(lost), 1);
                console.log(
                    `      stopped ${victim}'s engine in ${Date.now() - killedAt} ms; ${before.requests} requests before it, ${before.failed} failed`,
                );
                up = await running;
            });
            figures(`2.1.0 -> 2.2.0 with ${victim} stopped`, r);
            const lostUrl = urls[cluster.nodes.findIndex((n) => n.name === victim)];
            const elsewhere = Object.entries(r.byUrl).filter(([u]) => u !== lostUrl);
            console.log(
                `      through ${victim}'s proxy: ${r.byUrl[lostUrl].failed} of ${r.byUrl[lostUrl].requests} failed; through the others: ` +
                    elsewhere.map(([, c]) => `${c.failed} of ${c.requests}`).join(", ") +
                    `; the switch: ${up!.code === 0 ? "completed" : "failed"}`,
            );
            const out = up!.stdout + up!.stderr;
            if (up!.code === 0) expect(await served()).to.include.members(["2.2.0"]);
            else expect(out).to.match(/flipped back/);
            // Requests in flight on the lost node's tasks may fail; the others' traffic does not
            // beyond those: at most the requests and streams that node's two tasks had open.
            const failedElsewhere = elsewhere.reduce((t, [, c]) => t + c.failed, 0);
            expect(failedElsewhere, JSON.stringify(r.failures)).to.be.at.most(20);
            // The service runs its tasks on the nodes left.
            const live = (await platform!.outputs()).liveRelease as string;
            const on = await cluster.untilRunning(`${app}-agent-${up!.code === 0 ? live : live}`, 2, victim);
            expect(on).to.not.include(victim);
            await mustRun("docker", ["start", victim]);
            await cluster.until(`${victim} Ready again`, async () => ((await cluster.nodeState(victim)) === "ready" ? true : undefined));
            await cluster.untilRunning(`${app}-proxy`, 3);
            await platform!.setConfig("release.verifyWindowSeconds", "6");
        },
    );

    step("the manager restarts; then a canary release (25 -> 100 %) under load: 0 failed requests, 0 broken conversations", async () => {
        await mustRun("docker", ["restart", "--time", "20", cluster.nodes[0].name]);
        await cluster.until("every node Ready", async () => {
            const states = (await cluster.mustDocker(["node", "ls", "--format", "{{.Status}}"])).split("\n");
            return states.length === 3 && states.every((s) => s === "Ready") ? states : undefined;
        });
        await cluster.untilRunning(`${app}-proxy`, 3);
        const version = (await platform!.outputs()).liveVersion as string;
        await cluster.until("every proxy serving again", async () => ((await served()).every((v) => v === version) ? true : undefined));
        await platform!.setConfig("release.strategy", "canary");
        await platform!.setConfig("release.canary.steps[0].weight", "25");
        await platform!.setConfig("release.canary.steps[0].pauseSeconds", "8");
        await platform!.setConfig("release.canary.steps[1].weight", "100");
        await platform!.setConfig("release.canary.steps[1].pauseSeconds", "0");
        await platform!.setConfig("release.thresholds.minRequests", "5");
        await release("2.3.0");
        let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
        const r = await underLoad(new LoadGenerator({ ...canaryLoad(urls[0]), urls }), async () => {
            up = await platform!.up();
        });
        figures(`canary ${version} -> 2.3.0 after the manager's restart`, r);
        expect(up!.code, up!.stdout + up!.stderr).to.equal(0);
        const report = (await platform!.outputs()).releaseReport as { canarySteps: { weight: number; canary: { requests: number } }[] };
        console.log(
            `      canary steps: ${report.canarySteps.map((s) => `${s.weight} % (${s.canary.requests} requests to the canary)`).join(", ")}`,
        );
        expect(report.canarySteps.map((s) => s.weight)).to.deep.equal([25, 100]);
        expect(r.failed, JSON.stringify(r.failures)).to.equal(0);
        expect(r.streamsTruncated).to.equal(0);
        expect(r.conversationsBroken).to.equal(0);
        expect(await served()).to.deep.equal(["2.3.0", "2.3.0", "2.3.0"]);
    });
});
