// The Swarm test cluster (scripts/cluster): three engines on this machine form a swarm,
// pull what this machine publishes from the cluster's registry, reach each other over
// an overlay network without IPVS (dnsrr), publish host-mode ports on every node, and
// reschedule a stopped worker's tasks. What the Swarm platform's suites build on.
import { ADMIN_SESSION } from "../../haproxy/admin";
import { PROXY_READY_PATH } from "../../core/proxyNames";
import { HealthBalancer } from "../support/balancer";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TestCluster } from "../support/cluster";
import type { LoadGenerator, LoadOptions, LoadReport } from "../../load/client";
import { canaryLoad, standardLoad } from "../../load/profile";
import { templateSlots } from "../../platform/swarm/swarmSlots";
import { CANARY_FILE } from "../../haproxy/canaryControl";
import { freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { underLoad as loadAround } from "../support/underLoad";

const ROOT = path.join(__dirname, "..", "..");
const step = stepByStep();

describe("Swarm test cluster: 3 engines, a registry, overlay networking without IPVS", function () {
    this.timeout(900_000);
    const name = uniqueName("zsw");
    let cluster: TestCluster;
    let image = "";
    let platform: TestStack | undefined;
    const service = `${name}-agent`;
    const network = `${name}-net`;

    before(async () => {
        cluster = new TestCluster(name, await freePort());
        await cluster.up();
    });

    after(async () => {
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

    // platform: swarm, released for real on the cluster under load through every node's proxy.
    const app = `${name}r`;
    const digests: Record<string, string> = {};
    let urls: string[] = [];
    const publish = async (version: string, knowledge = "knowledge") => {
        const r = await run(
            path.join(ROOT, "scripts", "publish"),
            ["--image", `${cluster.registry}/${app}-agent`, "--version", version, "--knowledge", knowledge],
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
    /** Every proxy's answer to a question (the knowledge base of the release it sends new conversations to). */
    const answers = (message: string) =>
        Promise.all(
            urls.map(async (u) => {
                const r = await fetch(`${u}/v1/chat`, {
                    method: "POST",
                    body: JSON.stringify({ message }),
                    headers: { "content-type": "application/json" },
                    signal: AbortSignal.timeout(10_000),
                }).catch(() => undefined);
                return r?.ok ? ((await r.json()) as { answer: string }).answer : `no answer from ${u}`;
            }),
        );
    /** The load runs only while `fn` does (the cluster's drills time their own windows). */
    const underLoad = async (load: LoadOptions, fn: (load: LoadGenerator) => Promise<void>): Promise<LoadReport> =>
        (await loadAround(load, fn, { beforeSeconds: 0, afterSeconds: 0 })).report;
    const figures = (what: string, r: LoadReport) =>
        console.log(
            `      ${what}: ${r.requests} requests through ${Object.keys(r.byUrl).length} proxies, ${r.failed} failed ${JSON.stringify(r.failures)}, ` +
                `${r.streamsCompleted} streams (${r.streamsTruncated} truncated), ${r.conversationsCompleted} conversations (${r.conversationsBroken} broken)`,
        );

    /** The switch's milestones, its errors and Pulumi's duration of an update, for the figures (each line once). */
    const milestones = (up: { stdout: string }) =>
        console.log(
            [
                ...new Set(
                    up.stdout
                        .split("\n")
                        .filter((l) =>
                            /^\s+\[switch \+[\d.]+s\] (health gate passed|flipped|canary|verification|retired|waiting|node|nodes lost)|^\s+error: |^Duration:/.test(
                                l,
                            ),
                        )
                        .map((l) => `        ${l.trim()}`),
                ),
            ].join("\n"),
        );

    step("platform: swarm: the first release is a service of 2 tasks, and the proxy on every node serves it", async () => {
        const proxy = await run(
            path.join(ROOT, "scripts", "publish"),
            ["--image", `${cluster.registry}/${app}-proxy`, "--version", "1.0.0", "--context", "proxy"],
            { cwd: ROOT, timeoutMs: 600_000 },
        );
        expect(proxy.code, proxy.stderr).to.equal(0);
        // 2.1.0 and after carry a changed knowledge base (on Swarm a knowledge change is a new release).
        const kb = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-cluster-kb-"));
        fs.cpSync(path.join(ROOT, "knowledge"), kb, { recursive: true });
        const refunds = path.join(kb, "support", "refunds.md");
        fs.writeFileSync(refunds, fs.readFileSync(refunds, "utf8").replace("within 30 days", "within 45 days"));
        await publish("2.0.0");
        for (const v of ["2.1.0", "2.2.0"]) await publish(v, kb);
        fs.rmSync(kb, { recursive: true, force: true });
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
            // A node's proxy drains 3 s before it stops listening (the test's balancer checks every 200 ms).
            "swarm.proxyDrainSeconds": "3",
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
        // The proxy runs on the listed nodes only: each carries the stack's label, the service is bound to it.
        for (const n of cluster.nodes)
            expect(await cluster.mustDocker(["node", "inspect", "--format", `{{index .Spec.Labels "zdt.proxy.${app}"}}`, n.name])).to.equal(
                "true",
            );
        expect(
            await cluster.mustDocker([
                "service",
                "inspect",
                "--format",
                "{{json .Spec.TaskTemplate.Placement.Constraints}}",
                `${app}-proxy`,
            ]),
        ).to.equal(`["node.labels.zdt.proxy.${app}==true"]`);
    });

    /** Each node's proxy: the tasks behind the slot that takes traffic (sorted addresses). */
    const liveTasks = async () =>
        Promise.all(
            cluster.nodes.map(async (n) => {
                const id = (
                    await cluster.mustDocker(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${app}-proxy`], n.host)
                ).split("\n")[0];
                const out = await cluster.mustDocker(
                    ["exec", id, "sh", "-c", `echo 'show servers state agents' | ${ADMIN_SESSION.join(" ")}`],
                    n.host,
                );
                const slots = Object.values(templateSlots(out, 1)).filter((x) => x.weight > 0 && !x.maint);
                return slots.map((x) => x.addresses.join(",")).join(" ");
            }),
        );

    step(
        "the manager restarts between two releases; then npm run release of a new version with a changed knowledge base, on the workers only, under load through all three proxies: 0 failed requests, 0 broken conversations",
        async () => {
            await mustRun("docker", ["restart", "--time", "20", cluster.nodes[0].name]);
            await cluster.until("every node Ready", async () => {
                const states = (await cluster.mustDocker(["node", "ls", "--format", "{{.Status}}"])).split("\n");
                return states.length === 3 && states.every((x) => x === "Ready") ? states : undefined;
            });
            await cluster.untilRunning(`${app}-proxy`, 3);
            // The restarted node's proxy and tasks come back; every proxy must see the same live
            // tasks again (Docker's DNS on the restarted node catches up), or pinning across
            // proxies would not hold. A restarted manager's engine takes a moment to list them.
            const tasks = await cluster.until(
                "every proxy seeing the same live tasks",
                async () => {
                    const each = await liveTasks();
                    return each.every((t) => t === each[0] && t.split(",").length === 2) ? each[0] : undefined;
                },
                180_000,
            );
            console.log(`      after the manager's restart, every proxy serves the live release from ${tasks}`);
            expect(await served()).to.deep.equal(["2.0.0", "2.0.0", "2.0.0"]);
            for (const a of await answers("refund policy for annual plans")) expect(a).to.include("within 30 days");
            // Placement from here on: on the workers only, spread over their zones (one each).
            for (const [i, n] of cluster.nodes.slice(1).entries())
                await cluster.mustDocker(["node", "update", "--label-add", `zone=z${i + 1}`, n.name]);
            await platform!.setConfig("swarm.placement.constraints[0]", "node.role==worker");
            await platform!.setConfig("swarm.placement.spreadOver[0]", "node.labels.zone");
            // Through the release helper, as an operator would: it reads every node's proxy.
            let up = { code: -1, stdout: "", stderr: "" };
            const r = await underLoad({ ...standardLoad(urls[0]), urls }, async () => {
                up = await run("npm", ["run", "--silent", "release", "--", "2.1.0", "--stack", app, "--digest", digests["2.1.0"]], {
                    cwd: ROOT,
                    env: platform!.env,
                    timeoutMs: 900_000,
                });
            });
            figures("blue/green 2.0.0 -> 2.1.0 (npm run release)", r);
            expect(up.code, up.stdout + up.stderr).to.equal(0);
            expect(up.stdout).to.match(/^released 2\.1\.0 \((blue|green)\) in [\d.]+s$/m);
            const reportFile = /^report: (\S+\.json)$/m.exec(up.stdout)![1];
            const report = JSON.parse(fs.readFileSync(path.join(ROOT, reportFile), "utf8")) as {
                ok: boolean;
                version: string;
                previousVersion: string;
                proxy: { requests: number; errors5xx: number };
            };
            console.log(
                `      npm run release: ${report.proxy.requests} requests through the three proxies during the release (the load sent ${r.requests}), ${report.proxy.errors5xx} 5xx`,
            );
            expect(report).to.deep.include({ ok: true, version: "2.1.0", previousVersion: "2.0.0" });
            // Summed over the nodes' proxies (one node's would be about a third of the load).
            expect(report.proxy.requests).to.be.greaterThan(r.requests / 2);
            // The proxies' counts include the switch's own probes: its gate may see a 503 from the new
            // release before its tasks are up (seen: 1). None of the load's requests failed.
            expect(report.proxy.errors5xx).to.be.at.most(10);
            expect(r.failed, JSON.stringify(r.failures)).to.equal(0);
            expect(r.streamsTruncated).to.equal(0);
            expect(r.conversationsBroken, JSON.stringify(r.conversationHops)).to.equal(0);
            expect(r.conversationsCompleted).to.be.greaterThan(10);
            for (const u of urls) expect(r.byUrl[u].requests, u).to.be.greaterThan(100);
            expect(await served()).to.deep.equal(["2.1.0", "2.1.0", "2.1.0"]);
            // The knowledge change the release carried, through every node's proxy.
            for (const a of await answers("refund policy for annual plans")) expect(a).to.include("within 45 days");
            const v21 = `${app}-agent-${(await platform!.outputs()).liveRelease as string}`;
            expect((await cluster.runningOn(v21)).sort()).to.deep.equal(
                cluster.nodes
                    .slice(1)
                    .map((n) => n.name)
                    .sort(),
            );
            expect(
                await cluster.mustDocker([
                    "service",
                    "inspect",
                    "--format",
                    "{{json .Spec.TaskTemplate.Placement.Constraints}} {{json .Spec.TaskTemplate.Placement.Preferences}}",
                    v21,
                ]),
            ).to.equal('["node.role==worker"] [{"Spread":{"SpreadDescriptor":"node.labels.zone"}}]');
            const services = await cluster.mustDocker(["service", "ls", "--format", "{{.Name}}"]);
            expect(services.split("\n").filter((n) => n.startsWith(`${app}-agent-`))).to.have.length(1);
        },
    );

    step(
        "a new proxy image under load: each node's proxy drains (its readiness answers 503, the balancer takes the node out), is replaced, and comes back: 0 failed, 0 broken",
        async () => {
            // Another proxy image (the same one with a label more: another digest), in the registry.
            const current = (await platform!.outputs()).liveRelease as string;
            const base = `${cluster.registry}/${app}-proxy:1.0.0`;
            const variant = `${cluster.registry}/${app}-proxy:1.0.1`;
            await mustRun("docker", ["build", "-q", "-t", variant, "-"], {
                input: `FROM ${base}\nLABEL zdt.test.variant=1.0.1\n`,
                timeoutMs: 300_000,
            });
            const pushed = await mustRun("docker", ["push", variant], { timeoutMs: 300_000 });
            const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)![1];
            const image = `${variant}@${digest}`;
            await platform!.setConfig("swarm.proxyImage", image);
            const target = urls.slice();
            const balancer = new HealthBalancer(urls, target, PROXY_READY_PATH);
            balancer.start();
            let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
            const r = await underLoad({ ...standardLoad(urls[0]), urls: target }, async () => {
                up = await platform!.up();
            }).finally(() => balancer.stop());
            figures("a new proxy image, node by node", r);
            console.log(
                `      the balancer took each node out: ${Object.entries(balancer.outages)
                    .map(([u, n]) => `${u} ${n}x`)
                    .join(", ")}; ${(up!.stdout.split("\n").find((l) => l.includes("every proxy runs")) ?? "").trim()}`,
            );
            expect(up!.code, up!.stdout + up!.stderr).to.equal(0);
            expect(up!.stdout).to.include(`every proxy runs ${image}`);
            expect(r.failed, JSON.stringify(r.failures)).to.equal(0);
            expect(r.streamsTruncated).to.equal(0);
            expect(r.conversationsBroken, JSON.stringify(r.conversationHops)).to.equal(0);
            // Every node's proxy was replaced, one after the other, each drained first.
            for (const u of urls) expect(balancer.outages[u], u).to.be.at.least(1);
            const images = (
                await cluster.mustDocker([
                    "service",
                    "ps",
                    `${app}-proxy`,
                    "--no-trunc",
                    "--filter",
                    "desired-state=running",
                    "--format",
                    "{{.Image}}",
                ])
            ).split("\n");
            expect(images).to.deep.equal([image, image, image]);
            expect(await served()).to.deep.equal(["2.1.0", "2.1.0", "2.1.0"]);
            expect((await platform!.outputs()).liveRelease).to.equal(current);
        },
    );

    /** A canary of two steps: 25 % of new conversations for `pauseSeconds`, then 100 %, judged from 5 requests. */
    const canary25Then100 = async (pauseSeconds: number) => {
        await platform!.setConfig("release.strategy", "canary");
        await platform!.setConfig("release.canary.steps[0].weight", "25");
        await platform!.setConfig("release.canary.steps[0].pauseSeconds", String(pauseSeconds));
        await platform!.setConfig("release.canary.steps[1].weight", "100");
        await platform!.setConfig("release.canary.steps[1].pauseSeconds", "0");
        await platform!.setConfig("release.thresholds.minRequests", "5");
    };

    /** The canary's step as the switch wrote it in the first node's proxy (the one the abort reads too), if one is under way. */
    const canaryStep = async (): Promise<number | undefined> => {
        const n = cluster.nodes[0];
        const id = (await cluster.mustDocker(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${app}-proxy`], n.host)).split(
            "\n",
        )[0];
        const r = await run("docker", ["exec", id, "cat", CANARY_FILE], { env: { DOCKER_HOST: n.host } });
        return r.code === 0 ? (JSON.parse(r.stdout) as { step: number }).step : undefined;
    };

    step(
        "during a canary, npm run status --once sums every node's proxy and lists each node; npm run abort sets weight 0 on all of them: 0 failed, only the canary's conversations move",
        async () => {
            const v21 = (await platform!.outputs()).liveRelease as string;
            await canary25Then100(120);
            await release("2.2.0");
            let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
            let status = { code: -1, stdout: "", stderr: "" };
            let aborted = { code: -1, stdout: "", stderr: "" };
            let abortedAt = 0;
            const ops = { cwd: ROOT, env: platform!.env };
            const r = await underLoad({ ...canaryLoad(urls[0]), urls }, async (load) => {
                const running = platform!.up();
                await cluster.until("the canary's first step", async () => ((await canaryStep()) === 1 ? true : undefined), 300_000);
                // Some conversations under way on the canary, so the abort has some to move.
                await cluster.until("answers from the canary", async () => {
                    const v22 = Object.keys(load.snapshot().releases).find((x) => x.startsWith("2-2-0-"));
                    return v22 && load.snapshot().releases[v22].answers >= 20 ? true : undefined;
                });
                status = await run("npm", ["run", "--silent", "status", "--", "--stack", app, "--once", "--interval", "2"], ops);
                aborted = await run(
                    "npm",
                    ["run", "--silent", "abort", "--", "--stack", app, "--reason", "drill: by hand on the cluster"],
                    ops,
                );
                abortedAt = Date.now();
                up = await running;
            });
            console.log(
                status.stdout
                    .split("\n")
                    .filter((l) => /^(live|canary):|^proxy on /.test(l))
                    .map((l) => `      status: ${l}`)
                    .join("\n"),
            );
            console.log(`      abort: ${aborted.stdout.trim()}`);
            figures("canary 2.1.0 -> 2.2.0 aborted by hand", r);
            // The view: the cluster's proxies summed, both releases, a line per node with traffic through it.
            expect(status.code, status.stdout + status.stderr).to.equal(0);
            expect(status.stdout).to.include(`the proxies of ${app} on ${cluster.nodes.map((n) => n.name).join(", ")}`);
            expect(status.stdout).to.match(/^live: 2-1-0-\S+ on \w+, weight \d+$/m);
            expect(status.stdout).to.match(/^canary: 2-2-0-\S+ on \w+, weight \d+$/m);
            for (const n of cluster.nodes)
                expect(status.stdout).to.match(new RegExp(`^proxy on ${n.name}: [1-9]\\d* requests, 0 5xx in the last 2s  OK$`, "m"));
            // The abort: weight 0 on every node's proxy, the running update fails naming it.
            expect(aborted.code, aborted.stdout + aborted.stderr).to.equal(0);
            expect(aborted.stdout).to.match(/canary 2-2-0-\S+ aborted at step 1 of 2 \(25%\): weight 0 in \d+ ms/);
            const said = up!.stdout + up!.stderr;
            expect(up!.code, said).to.not.equal(0);
            expect(said).to.match(/canary aborted at step 1 \(25%\): aborted by hand: drill: by hand on the cluster/);
            expect(r.failed, JSON.stringify(r.failures)).to.equal(0);
            expect(r.streamsTruncated).to.equal(0);
            // Only the canary's conversations changed release, back to 2.1.0; none began on it after the abort.
            const hops = Object.keys(r.conversationHops);
            expect(
                hops.every((h) => /^2-2-0-\S+ -> /.test(h) && h.endsWith(v21)),
                JSON.stringify(r.conversationHops),
            ).to.equal(true);
            expect(r.conversationsBroken).to.equal(Object.values(r.conversationHops).reduce((a, b) => a + b, 0));
            expect(r.conversationLog.filter((c) => c.release.startsWith("2-2-0-") && c.startedAt > abortedAt)).to.deep.equal([]);
            expect(await served()).to.deep.equal(["2.1.0", "2.1.0", "2.1.0"]);
        },
    );

    step(
        "a canary (25 -> 100 %) under load: 0 failed, 0 broken through its steps; then a worker dies hard (its network cut, then SIGKILL) during its verification: through the nodes left only a stream it was answering fails, and the report names it",
        async () => {
            await canary25Then100(8);
            await platform!.setConfig("release.verifyWindowSeconds", "25");
            await release("2.2.0");
            const target = urls.slice();
            // Clients stop sending to a node whose readiness does not answer (a balancer's health check).
            const balancer = new HealthBalancer(urls, target, PROXY_READY_PATH);
            balancer.start();
            let victim = "";
            let lostUrl = "";
            let killedAt = 0;
            let silentAt = 0;
            let steps: LoadReport | undefined;
            let up: Awaited<ReturnType<TestStack["up"]>> | undefined;
            const r = await underLoad({ ...canaryLoad(target[0]), urls: target }, async (load) => {
                let out = "";
                const running = platform!.up(900_000, undefined, [], (chunk) => (out += chunk));
                // Once the canary has passed its steps (25 %, then 100 %) and the flip, during the
                // verification window (its line in the switch's output): kill a worker that runs one
                // of the new release's tasks.
                await cluster.until(
                    "the release's verification window",
                    async () => (/verifying 2-2-0-/.test(out) ? true : undefined),
                    300_000,
                );
                steps = load.snapshot();
                const service = (await cluster.mustDocker(["service", "ls", "--format", "{{.Name}}"]))
                    .split("\n")
                    .find((n) => n.startsWith(`${app}-agent-2-2-0`))!;
                const workers = cluster.nodes.slice(1).map((n) => n.name);
                victim = (await cluster.runningOn(service)).find((n) => workers.includes(n)) ?? workers[1];
                lostUrl = urls[cluster.nodes.findIndex((n) => n.name === victim)];
                killedAt = Date.now();
                // The node dies without telling anyone: its network silent, then its engine and every
                // task on it killed at once (SIGKILL), nothing drained; see docs/swarm.md, "A node killed hard".
                silentAt = await cluster.killHard(victim);
                console.log(
                    `      killed ${victim}: network down in ${silentAt - killedAt} ms, SIGKILL done in ${Date.now() - killedAt} ms`,
                );
                up = await running;
            }).finally(() => balancer.stop());
            figures(`canary through its steps and the flip (up to the kill)`, steps!);
            figures(`canary 2.1.0 -> 2.2.0 in all, with ${victim} killed during its verification`, r);
            milestones(up!);
            const report = (await platform!.outputs()).releaseReport as {
                canarySteps: { weight: number; canary: { requests: number } }[];
                nodesLost: { node: string; state: string }[];
            };
            const elsewhere = Object.entries(r.byUrl).filter(([u]) => u !== lostUrl);
            console.log(
                `      through ${victim}'s proxy: ${r.byUrl[lostUrl].failed} of ${r.byUrl[lostUrl].requests} failed; through the others: ` +
                    elsewhere.map(([, c]) => `${c.failed} of ${c.requests}`).join(", ") +
                    `; the release: ${up!.code === 0 ? "completed" : "failed"}`,
            );
            // What failed through the nodes left, each with when it was sent and failed (from the kill).
            const failedElsewhere = r.failureLog.filter((f) => f.url !== lostUrl);
            for (const f of failedElsewhere)
                console.log(
                    `        ${f.kind} through ${f.url}: ${f.reason} (answered by ${f.release}), sent ${f.sentAt - killedAt} ms, failed ${f.failedAt - killedAt} ms from the kill`,
                );
            // The canary's steps: nothing lost.
            expect(steps!.failed, JSON.stringify(steps!.failures)).to.equal(0);
            expect(steps!.conversationsBroken).to.equal(0);
            expect(steps!.streamsTruncated).to.equal(0);
            // The node loss, through the nodes left: a request already sent to a dead task is sent
            // again to another once TCP keep-alive finds the connection dead (docs/swarm.md), and a
            // new one that meets a dead task goes to another after its 1 s connect. Only a stream whose
            // answer a dead task had begun cannot be sent again: at most one per streaming chat.
            expect(r.failureLog.length, "every failure logged").to.equal(r.failed);
            expect(
                failedElsewhere.filter((f) => f.kind !== "stream" || f.sentAt > silentAt),
                "failures through the nodes left, other than streams the dead node was answering",
            ).to.deep.equal([]);
            expect(failedElsewhere.length).to.be.at.most(canaryLoad(target[0]).streams);
            if (up!.code === 0) {
                console.log(
                    `      canary steps: ${report.canarySteps.map((x) => `${x.weight} % (${x.canary.requests} requests to the canary)`).join(", ")}`,
                );
                expect(report.canarySteps.map((x) => x.weight)).to.deep.equal([25, 100]);
                // What was lost, in the release's own report.
                expect(report.nodesLost.map((n) => n.node)).to.deep.equal([victim]);
                // New requests through the nodes left are served by the new release.
                const survivors = await cluster.until(
                    "both proxies left serving 2.2.0",
                    async () => {
                        const v = (await served()).filter((_, i) => urls[i] !== lostUrl);
                        return v.every((x) => x === "2.2.0") ? v : undefined;
                    },
                    30_000,
                );
                expect(survivors).to.deep.equal(["2.2.0", "2.2.0"]);
                // Images: 2.1.0 retired and kept for a roll back; 2.0.0 (kept at the last retirement)
                // removed on every node that answers; the stopped node keeps what it had.
                const ref = (v: string) => `${cluster.registry}/${app}-agent:${v}@${digests[v]}`;
                const pruned = (up!.stdout + up!.stderr).split("\n").find((l) => l.includes(`image ${ref("2.0.0")} on`));
                console.log(`      ${pruned?.trim()}`);
                expect(pruned, "the release log's line on the pruned image").to.match(/removed image .* on /);
                expect(pruned).to.match(new RegExp(`kept on ${victim}: `));
                for (const n of cluster.nodes.filter((x) => x.name !== victim)) {
                    const has = async (v: string) => (await cluster.docker(["image", "inspect", ref(v)], n.host)).code === 0;
                    expect(await has("2.0.0"), `2.0.0 on ${n.name}`).to.equal(false);
                }
                const ranOn21 = await cluster.docker(
                    ["image", "inspect", ref("2.1.0")],
                    cluster.nodes.find((x) => x.name !== victim)!.host,
                );
                expect(ranOn21.code, "2.1.0, kept for a roll back").to.equal(0);
            } else {
                // The update's own words, for a failure that is not the flip-back (chai shortens the actual value).
                const out = up!.stdout + up!.stderr;
                expect(
                    out,
                    out
                        .split("\n")
                        .filter((l) => /error|fail|refused|lost/i.test(l))
                        .slice(-15)
                        .join("\n"),
                ).to.match(/flipped back/);
            }
            // The service runs its tasks on the nodes left; the worker rejoins.
            const live = (await platform!.outputs()).liveRelease as string;
            const on = await cluster.untilRunning(`${app}-agent-${live}`, 2, victim);
            expect(on).to.not.include(victim);
            await mustRun("docker", ["start", victim]);
            await cluster.until(`${victim} Ready again`, async () => ((await cluster.nodeState(victim)) === "ready" ? true : undefined));
        },
    );
});
