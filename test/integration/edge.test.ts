// Several agents behind one public port (an edge stack, issue 26), with a real engine: an
// edge stack serves HTTPS for two host names with one certificate (checked against the test
// CA) and routes each to its own agent stack's proxy over the edge's network. Both agents
// are released at the same time through that one port under load, one blue/green and the
// other by canary: nothing is lost on either, and each one's traffic lands only on its own
// releases. Removing an agent's route and adding it again is an update of the edge alone,
// with no failed request for the other agent.
import { expect } from "chai";
import * as path from "path";
import { lightLoad } from "../../load/profile";
import type { LoadOptions, LoadReport } from "../../load/client";
import { TestCa } from "../support/certificates";
import { agentStack, freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { underLoad } from "../support/underLoad";
import { expectNothingLost } from "../support/nothingLost";

const ROOT = path.join(__dirname, "..", "..");
const SUPPORT = "support.agents.test";
const SALES = "sales.agents.test";

describe("several agents behind one port: an edge stack routing by host name (real engine)", function () {
    this.timeout(900_000);
    const step = stepByStep();
    const edgeApp = uniqueName("zte");
    const supportApp = uniqueName("ztsup");
    const salesApp = uniqueName("ztsal");
    const edge = new TestStack(ROOT, edgeApp);
    const support = new TestStack(ROOT, supportApp);
    const sales = new TestStack(ROOT, salesApp);
    const ca = TestCa.create();
    const certificate = ca.issue([SUPPORT, SALES]);
    let plainPort = 0;
    let tlsPort = 0;

    const urlOf = (host: string) => `https://${host}:${tlsPort}`;
    const trust = { ca: ca.certificate, hosts: { [SUPPORT]: "127.0.0.1", [SALES]: "127.0.0.1" } };
    const loadOf = (host: string): LoadOptions => ({ ...lightLoad(urlOf(host)), tls: trust });
    /** The status of a request through the edge: its Host header, and the name the TLS handshake gives (SNI). */
    const statusOf = async (host: string, sni = host, urlPath = "/health") =>
        (
            await mustRun("curl", [
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--cacert",
                path.join(ca.dir, "ca.pem"),
                "--resolve",
                `${sni}:${tlsPort}:127.0.0.1`,
                "-H",
                `Host: ${host}`,
                `https://${sni}:${tlsPort}${urlPath}`,
            ])
        ).stdout;
    /** Every release that answered a load, by version prefix ("1-0-0-" for 1.0.0). */
    const versionsOf = (report: LoadReport) =>
        [...new Set(Object.keys(report.releases).map((r) => r.split("-").slice(0, 3).join(".")))].sort();

    before(async function () {
        this.timeout(300_000);
        plainPort = await freePort();
        tlsPort = await freePort();
        await edge.init(
            {
                app: edgeApp,
                "proxy.listenAddress": "127.0.0.1",
                "proxy.port": String(plainPort),
                "proxy.tls.mode": "certificate",
                "proxy.tls.port": String(tlsPort),
                "proxy.tls.hosts[0]": SUPPORT,
                "proxy.tls.hosts[1]": SALES,
                "edge.routes[0].host": SUPPORT,
                "edge.routes[0].app": supportApp,
                "edge.routes[1].host": SALES,
                "edge.routes[1].app": salesApp,
            },
            { "proxy.tls.certificate": certificate.certificate, "proxy.tls.key": certificate.key },
        );
        const behindEdge = {
            "proxy.edgeNetwork": `${edgeApp}-edge`,
            "release.verifyWindowSeconds": "3",
            "release.drainTimeoutSeconds": "5",
        };
        await support.init(agentStack(supportApp, await freePort(), behindEdge));
        await sales.init(
            agentStack(salesApp, await freePort(), {
                ...behindEdge,
                "agent.version": "5.0.0",
                "release.strategy": "canary",
                "release.canary.steps[0].weight": "50",
                "release.canary.steps[0].pauseSeconds": "4",
                "release.canary.steps[1].weight": "100",
                "release.canary.steps[1].pauseSeconds": "0",
                "release.thresholds.minRequests": "5",
            }),
        );
    });

    after(async () => {
        // The agents first: each leaves the edge's network, which the edge's removal then deletes.
        await Promise.all([support.remove(), sales.remove()]);
        await edge.remove();
        ca.remove();
    });

    step("an agent stack behind an edge that does not exist yet fails before anything changes, naming proxy.edgeNetwork", async () => {
        const up = await support.up();
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr).to.match(
            new RegExp(`proxy\\.edgeNetwork: the Docker engine has no network ${edgeApp}-edge; deploy the edge stack first`),
        );
        const containers = await mustRun("docker", ["ps", "-aq", "--filter", `label=zdt.app=${supportApp}`]);
        expect(containers.stdout.trim()).to.equal("");
        expect((await run("docker", ["network", "inspect", `${supportApp}-net`])).code).to.not.equal(0);
    });

    step("the edge, then both agents: each host name reaches its own agent over HTTPS through the one port", async () => {
        const up = await edge.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await edge.outputs();
        expect(out.platform).to.equal("edge");
        expect(out.edgeNetwork).to.equal(`${edgeApp}-edge`);
        expect(out.edgeRoutes).to.deep.equal([`${SUPPORT} -> ${supportApp}`, `${SALES} -> ${salesApp}`]);
        // No agent yet: the routes answer 503, an unknown host 404.
        expect(await statusOf(SUPPORT)).to.equal("503");
        const ups = await Promise.all([support.up(), sales.up()]);
        for (const u of ups) expect(u.code, u.stdout + u.stderr).to.equal(0);
        expect((await support.outputs()).edgeNetwork).to.equal(`${edgeApp}-edge`);
        expect(await statusOf(SUPPORT)).to.equal("200");
        expect(await statusOf(SALES)).to.equal("200");
        expect(await statusOf("other.agents.test", SUPPORT)).to.equal("404");
        // A request naming another host than the one its TLS handshake named gets no route.
        expect(await statusOf(SALES, SUPPORT)).to.equal("404");
        // Plain HTTP is redirected to HTTPS on the edge's port.
        const plain = await mustRun("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-H",
            `Host: ${SALES}`,
            `http://127.0.0.1:${plainPort}/v1/chat`,
        ]);
        expect(plain.stdout).to.equal(`308 https://${SALES}:${tlsPort}/v1/chat`);
    });

    step(
        "one blue/green and one canary at the same time through the one port: nothing lost on either, each on its own releases",
        async () => {
            await support.setConfig("agent.version", "2.0.0");
            await sales.setConfig("agent.version", "6.0.0");
            const [a, b] = await Promise.all([
                underLoad(loadOf(SUPPORT), () => support.up(), { afterSeconds: 3 }),
                underLoad(loadOf(SALES), () => sales.up(), { afterSeconds: 3 }),
            ]);
            for (const [name, r] of [
                ["support (blue/green)", a],
                ["sales (canary)", b],
            ] as const) {
                expect(r.result.code, `${name}: ${r.result.stdout}${r.result.stderr}`).to.equal(0);
                console.log(
                    `      ${name}: ${r.report.requests} requests (${r.report.failed} failed), ${r.report.streamsCompleted} streams, ` +
                        `${r.report.conversationLog.length} conversations (${r.report.conversationsBroken} broken); releases ${versionsOf(r.report).join(", ")}`,
                );
                expectNothingLost(r.report);
            }
            expect(versionsOf(a.report)).to.deep.equal(["1.0.0", "2.0.0"]);
            expect(versionsOf(b.report)).to.deep.equal(["5.0.0", "6.0.0"]);
            expect((await support.outputs()).releaseStrategy).to.equal("blue-green");
            const salesOut = await sales.outputs();
            expect(salesOut.releaseStrategy).to.equal("canary");
            expect((salesOut.releaseReport.canarySteps as { weight: number }[]).map((s) => s.weight)).to.deep.equal([50, 100]);
        },
    );

    step("removing an agent's route and adding it again changes the edge alone: no failed request for the other agent", async () => {
        const proxyOf = async () => (await edge.outputs()).proxyContainer as string;
        const before = await proxyOf();
        const removed = await underLoad(loadOf(SUPPORT), async () => {
            await edge.rmConfig("edge.routes[1]");
            return edge.up();
        });
        expect(removed.result.code, removed.result.stdout + removed.result.stderr).to.equal(0);
        expectNothingLost(removed.report);
        expect(await statusOf(SALES)).to.equal("404");
        // The sales agent itself still serves on its own proxy's port.
        expect((await run("docker", ["inspect", "-f", "{{.State.Running}}", `${salesApp}-proxy-port`])).stdout.trim()).to.equal("true");
        const added = await underLoad(loadOf(SUPPORT), async () => {
            await edge.setConfig("edge.routes[1].host", SALES);
            await edge.setConfig("edge.routes[1].app", salesApp);
            return edge.up();
        });
        expect(added.result.code, added.result.stdout + added.result.stderr).to.equal(0);
        expectNothingLost(added.report);
        expect(await statusOf(SALES)).to.equal("200");
        // Reloaded in place: the same proxy container throughout.
        expect(await proxyOf()).to.equal(before);
        console.log(
            `      route removed and added under the support agent's load: ${removed.report.requests} + ${added.report.requests} requests, ` +
                `${removed.report.failed + added.report.failed} failed`,
        );
    });
});
