// Each policy called directly with hand-built arguments: one passing and one
// failing case (the pattern of pulumi-policy-aws's tests).
import { expect } from "chai";
import * as fs from "fs";
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as rules from "../../policies/rules";
import { switchContract } from "../../contracts/switchContract";
import { switchInput } from "../support/switchInput";
import { parseConfig } from "../../config/schema";
import { stackReleasePlan } from "../../components/agentRelease";
import { swarmServiceArgs } from "../../platform/swarm/swarmRelease";
import { stackProxyArgs, swarmProxyArgs } from "../../platform/swarm/swarmProxy";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";

function resourceArgs(type: string, props: Record<string, any>, config: Record<string, unknown> = {}): ResourceValidationArgs {
    return {
        type,
        props,
        urn: `urn:pulumi:test::zdt::${type}::r`,
        name: "r",
        opts: {} as any,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
    } as unknown as ResourceValidationArgs;
}

async function violations(
    policy: ResourceValidationPolicy,
    type: string,
    props: Record<string, any>,
    config?: Record<string, unknown>,
): Promise<string[]> {
    const found: string[] = [];
    const validate = policy.validateResource;
    for (const v of Array.isArray(validate) ? validate : [validate!]) await v(resourceArgs(type, props, config), (m) => found.push(m));
    return found;
}

async function stackViolations(
    policy: StackValidationPolicy,
    resources: [string, Record<string, any>][],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const found: string[] = [];
    const args = {
        resources: resources.map(([type, props], i) => ({
            type,
            name: `r${i}`,
            urn: `urn:r${i}`,
            props,
            propertyDependencies: {},
            dependencies: [],
        })),
        getConfig: () => config,
    } as unknown as StackValidationArgs;
    await policy.validateStack!(args, (m) => found.push(m));
    return found;
}

const goodAgent = {
    name: "shop-agent-2-5-0-abcd1234",
    image: "ghcr.io/acme/agent:2.5.0",
    labels: [{ label: "zdt.role", value: "agent" }],
    healthcheck: { tests: ["CMD", "curl", "-fsS", "http://127.0.0.1:8080/health"] },
    memory: 512,
    restart: "unless-stopped",
    volumes: [{ hostPath: "/srv/kb", containerPath: "/app/knowledge", readOnly: true }],
};
const goodProxy = {
    name: "shop-proxy-port",
    image: "shop-proxy:haproxy",
    labels: [{ label: "zdt.role", value: "proxy-port" }],
    ports: [{ internal: 8080, external: 8080, ip: "127.0.0.1" }],
    memory: 256,
    restart: "unless-stopped",
};

describe("policies", () => {
    it("agent-health-gated: passes an agent with a healthcheck, flags a missing or disabled one", async () => {
        expect(await violations(rules.agentHealthGated, CONTAINER, goodAgent)).to.deep.equal([]);
        const v = await violations(rules.agentHealthGated, CONTAINER, { ...goodAgent, healthcheck: undefined });
        expect(v.join("\n"))
            .to.match(/has no healthcheck/)
            .and.to.include(goodAgent.name);
        expect(await violations(rules.agentHealthGated, CONTAINER, { ...goodAgent, healthcheck: { tests: ["NONE"] } })).to.have.length(1);
    });

    it("agent-health-gated: an agent without curl says who checks it (agent.health.docker), and only what it says passes", async () => {
        const said = (how: string) => [...goodAgent.labels, { label: "zdt.health", value: how }];
        const imageCheck = { ...goodAgent, healthcheck: undefined, labels: said("image") };
        const proxyOnly = { ...goodAgent, healthcheck: { tests: ["NONE"] }, labels: said("none") };
        expect(await violations(rules.agentHealthGated, CONTAINER, imageCheck)).to.deep.equal([]);
        expect(await violations(rules.agentHealthGated, CONTAINER, proxyOnly)).to.deep.equal([]);
        // Said "image" but the image's check is turned off; said "none" but nothing at all declared.
        expect(await violations(rules.agentHealthGated, CONTAINER, { ...imageCheck, healthcheck: { tests: ["NONE"] } })).to.have.length(1);
        expect((await violations(rules.agentHealthGated, CONTAINER, { ...proxyOnly, healthcheck: undefined }))[0]).to.match(
            /agent\.health\.docker image .* or none/,
        );
    });

    it("images-pinned: passes tags and digests, flags latest and untagged", async () => {
        expect(rules.isPinned("repo:2.5.0")).to.equal(true);
        expect(rules.isPinned("registry:5000/repo@sha256:" + "a".repeat(64))).to.equal(true);
        expect(rules.isPinned("registry:5000/repo")).to.equal(false);
        expect(await violations(rules.imagesPinned, "docker:index/remoteImage:RemoteImage", { name: "repo:2.5.0" })).to.deep.equal([]);
        expect((await violations(rules.imagesPinned, "docker:index/image:Image", { imageName: "repo:latest" }))[0]).to.match(
            /"repo:latest", which is not pinned/,
        );
        expect(await violations(rules.imagesPinned, CONTAINER, { image: "repo" })).to.have.length(1);
    });

    it("images-pinned with requireDigest: pulled images and agent containers need a digest, local builds do not", async () => {
        const digest = `@sha256:${"c".repeat(64)}`;
        const strict = { requireDigest: true };
        const remote = (name: string, config?: Record<string, unknown>) =>
            violations(rules.imagesPinned, "docker:index/remoteImage:RemoteImage", { name }, config);
        expect(await remote("reg:5000/agent:2.5.0", strict)).to.deep.equal([
            'RemoteImage "r" uses image "reg:5000/agent:2.5.0", pinned by tag only; this stack requires a digest. Fix: set agent.digest to the digest `docker push` printed (sha256:...).',
        ]);
        expect(await remote(`reg:5000/agent:2.5.0${digest}`, strict)).to.deep.equal([]);
        expect(await remote("reg:5000/agent:2.5.0")).to.deep.equal([]); // without the option, a tag is enough
        expect(await violations(rules.imagesPinned, CONTAINER, goodAgent, strict)).to.have.length(1);
        expect(await violations(rules.imagesPinned, CONTAINER, { ...goodAgent, image: goodAgent.image + digest }, strict)).to.deep.equal(
            [],
        );
        // The proxy's image is built on the Docker host: no registry, no digest to pin.
        expect(await violations(rules.imagesPinned, "docker:index/image:Image", { imageName: "shop-proxy:1a2b3c" }, strict)).to.deep.equal(
            [],
        );
    });

    it("only-proxy-published: the proxy's port holder may publish, an agent or a HAProxy container may not", async () => {
        expect(await violations(rules.onlyProxyPublished, CONTAINER, goodProxy)).to.deep.equal([]);
        expect((await violations(rules.onlyProxyPublished, CONTAINER, { ...goodAgent, ports: [{ internal: 8080 }] }))[0]).to.match(
            /publishes 1 host port/,
        );
        const haproxy = { ...goodProxy, name: "shop-proxy-1a2b3c4d5e6f", labels: [{ label: "zdt.role", value: "proxy" }] };
        expect((await violations(rules.onlyProxyPublished, CONTAINER, haproxy))[0]).to.match(/publishes 1 host port/);
    });

    it("no-world-open-ports: loopback passes, every interface fails unless allowed", async () => {
        expect(await stackViolations(rules.noWorldOpenPorts, [[CONTAINER, goodProxy]])).to.deep.equal([]);
        const open = { ...goodProxy, ports: [{ internal: 8080, external: 80 }] };
        expect((await stackViolations(rules.noWorldOpenPorts, [[CONTAINER, open]]))[0]).to.match(/on 0\.0\.0\.0, open to the world/);
        expect(await stackViolations(rules.noWorldOpenPorts, [[CONTAINER, open]], { allowPublic: true })).to.deep.equal([]);
    });

    it("no-world-open-ports: the proxy's HTTPS port may be public, and its plain port when it only redirects to HTTPS", async () => {
        const edge = {
            ...goodProxy,
            ports: [
                { internal: 8080, external: 80, ip: "0.0.0.0" },
                { internal: 8443, external: 443, ip: "0.0.0.0" },
            ],
        };
        // What the stack declares to the proxy-config command (proxy.tls).
        const config = (port: string, redirect: string) => ({
            environment: { TEMPLATE_DIGEST: "a".repeat(64), TLS_HOST_PORT: port, TLS_REDIRECT_HTTP: redirect },
        });
        // The proxy guard's record of the HTTPS port is not what the proxy serves.
        const guard = { environment: { HOST_PORT: "80", TLS_HOST_PORT: "443" } };
        expect(
            await stackViolations(rules.noWorldOpenPorts, [
                [CONTAINER, edge],
                [COMMAND, config("443", "true")],
            ]),
        ).to.deep.equal([]);
        // Plain HTTP served too: that port is open without TLS.
        const served = await stackViolations(rules.noWorldOpenPorts, [
            [CONTAINER, edge],
            [COMMAND, config("443", "false")],
        ]);
        expect(served).to.have.length(1);
        expect(served[0]).to.match(
            /publishes port 80 on 0\.0\.0\.0, open to the world without TLS\. Fix: serve HTTPS in the proxy \(proxy\.tls/,
        );
        // HTTPS declared on another port than the ones published: both refused; no HTTPS at all: both refused.
        expect(
            await stackViolations(rules.noWorldOpenPorts, [
                [CONTAINER, edge],
                [COMMAND, config("8443", "false")],
            ]),
        ).to.have.length(2);
        expect(await stackViolations(rules.noWorldOpenPorts, [[CONTAINER, edge]])).to.have.length(2);
        expect(
            await stackViolations(rules.noWorldOpenPorts, [
                [CONTAINER, edge],
                [COMMAND, guard],
                [COMMAND, config("443", "false")],
            ]),
        ).to.have.length(1);
        // Only the proxy's port holder serves HTTPS: an agent publishing the same ports is refused.
        const agent = { ...edge, labels: [{ label: "zdt.role", value: "agent" }] };
        expect(
            await stackViolations(rules.noWorldOpenPorts, [
                [CONTAINER, agent],
                [COMMAND, config("443", "true")],
            ]),
        ).to.have.length(2);
    });

    it("limits-and-restart: flags a missing memory limit and restart 'no'", async () => {
        expect(await violations(rules.limitsAndRestart, CONTAINER, goodAgent)).to.deep.equal([]);
        expect(await violations(rules.limitsAndRestart, CONTAINER, { ...goodAgent, memory: undefined, restart: "no" })).to.have.length(2);
    });

    it("knowledge-read-only: flags a writable mount on an agent", async () => {
        expect(await violations(rules.knowledgeReadOnly, CONTAINER, goodAgent)).to.deep.equal([]);
        const v = await violations(rules.knowledgeReadOnly, CONTAINER, {
            ...goodAgent,
            volumes: [{ hostPath: "/srv/kb", containerPath: "/app/knowledge" }],
        });
        expect(v[0]).to.match(/mounts \/srv\/kb at \/app\/knowledge writable/);
    });

    it("no-privileged-no-docker-socket: flags privileged and the Docker socket", async () => {
        expect(await violations(rules.noPrivilegeEscalation, CONTAINER, goodAgent)).to.deep.equal([]);
        const v = await violations(rules.noPrivilegeEscalation, CONTAINER, {
            ...goodAgent,
            privileged: true,
            volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }],
        });
        expect(v).to.have.length(2);
    });

    it("release-verification-window: judged against the stack's config", async () => {
        // The switch's environment as its component writes it (the contract's encoding).
        const env = (w: string, r: string) => ({
            environment: switchContract.encode(
                switchInput({ verifyWindowSeconds: Number(w), thresholds: { maxErrorRatePercent: Number(r) } }),
            ),
        });
        const prod = { minVerifyWindowSeconds: 900, maxErrorRatePercent: 1 };
        expect(await violations(rules.releaseWindow, "command:local:Command", env("900", "1"), prod)).to.deep.equal([]);
        const v = await violations(rules.releaseWindow, "command:local:Command", env("1", "5"), prod);
        expect(v.join("\n"))
            .to.match(/verifies for 1s; this stack requires at least 900s/)
            .and.to.match(
                /tolerates 5% 5xx; this stack allows at most 1\. Fix: pulumi config set --path release\.thresholds\.maxErrorRatePercent 1/,
            );
        // Every blueprint alert level, not only the 5xx rate.
        const loose = {
            environment: switchContract.encode(
                switchInput({
                    verifyWindowSeconds: 900,
                    thresholds: { maxLatencyMs: 9000, maxHealthResponseMs: 2000, maxMemoryPercent: 99, maxConversationDropPercent: 50 },
                }),
            ),
        };
        const all = (await violations(rules.releaseWindow, "command:local:Command", loose, prod)).join("\n");
        expect(all)
            .to.match(/tolerates an LLM p95 of 9000 ms; this stack allows at most 5000/)
            .and.to.match(/tolerates \/health in 2000 ms; this stack allows at most 500/)
            .and.to.match(/tolerates memory at 99% of the limit; this stack allows at most 90/)
            .and.to.match(/tolerates a 50% drop of active conversations; this stack allows at most 20/);
        expect(
            await violations(rules.releaseWindow, "command:local:Command", env("10", "1"), {
                minVerifyWindowSeconds: 5,
                maxErrorRatePercent: 1,
            }),
        ).to.deep.equal([]);
        // A command that is not the switch (no switch variables) is not judged.
        expect(
            await violations(rules.releaseWindow, "command:local:Command", { environment: { KNOWLEDGE_DIGEST: "x" } }, prod),
        ).to.deep.equal([]);
    });

    it("admin-token-from-random: a token file from RandomPassword passes; a token in the environment or not from random fails", async () => {
        const random = { type: "random:index/randomPassword:RandomPassword" } as PolicyResource;
        const stack = (envs: string[], uploadDeps: PolicyResource[]): StackValidationArgs =>
            ({
                resources: [
                    {
                        type: CONTAINER,
                        name: "a",
                        urn: "urn:a",
                        props: { ...goodAgent, envs, uploads: [{ file: "/run/zdt-admin-token", content: "generated" }] },
                        propertyDependencies: { uploads: uploadDeps },
                        dependencies: uploadDeps,
                    } as unknown as PolicyResource,
                ],
                getConfig: () => ({}),
            }) as unknown as StackValidationArgs;
        const run = async (args: StackValidationArgs) => {
            const found: string[] = [];
            await (rules.adminTokenFromRandom as StackValidationPolicy).validateStack!(args, (m) => found.push(m));
            return found;
        };
        expect(await run(stack(["ADMIN_TOKEN_FILE=/run/zdt-admin-token"], [random]))).to.deep.equal([]);
        // In a preview the envs are unknown and reading them throws; the dependency decides.
        const unknownEnvs = stack([], [random]);
        Object.defineProperty(unknownEnvs.resources[0].props, "envs", {
            get: () => {
                throw new Error("can't be known during preview");
            },
        });
        expect(await run(unknownEnvs)).to.deep.equal([]);
        // Even a generated token is refused in the environment: `docker inspect` shows it.
        expect((await run(stack(["ADMIN_TOKEN=generated"], [random])))[0]).to.match(/gets ADMIN_TOKEN as an environment variable/);
        expect((await run(stack(["ADMIN_TOKEN=hunter2"], [])))[0]).to.match(/gets ADMIN_TOKEN as an environment variable/);
        expect((await run(stack([], [])))[0]).to.match(/has no admin token from random\.RandomPassword/);
    });
});

describe("per-stack policy config", () => {
    it("names only policies of the pack, with valid enforcement levels", () => {
        const dir = `${__dirname}/../../policies/config`;
        const names = new Set(rules.policies.map((p) => p.name));
        const levels = ["advisory", "mandatory", "remediate", "disabled"];
        const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
        expect(files).to.include.members(["dev.json", "prod.json"]);
        for (const f of files) {
            const cfg = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")) as Record<string, unknown>;
            for (const [key, value] of Object.entries(cfg)) {
                if (key === "all") {
                    expect(levels, `${f}: all`).to.include(value);
                    continue;
                }
                expect(names.has(key), `${f}: ${key} is not a policy of the pack`).to.equal(true);
                const level = typeof value === "string" ? value : (value as { enforcementLevel?: string }).enforcementLevel;
                if (level !== undefined) expect(levels, `${f}: ${key}`).to.include(level);
            }
        }
        const prod = JSON.parse(fs.readFileSync(`${dir}/prod.json`, "utf8"));
        expect(prod["release-verification-window"]).to.deep.equal({ minVerifyWindowSeconds: 900, maxErrorRatePercent: 1 });
    });
});

describe("policies on Swarm services (platform: swarm): the container rules, judged on each service's task", () => {
    const SERVICE = "docker:index/service:Service";
    const digest = `sha256:${"c".repeat(64)}`;
    // The services the program declares for a swarm stack, from its own functions.
    const cfg = parseConfig({
        platform: "swarm",
        app: "shop",
        agent: { version: "2.5.0", image: "10.0.0.9:5000/shop-agent", digest },
        swarm: {
            replicas: 2,
            proxyImage: `10.0.0.9:5000/shop-proxy:1.0.0@${digest}`,
            nodes: [{ name: "n1", address: "10.0.0.1", engine: "ssh://root@10.0.0.1" }],
        },
    });
    const agent = JSON.parse(
        JSON.stringify(swarmServiceArgs({ plan: stackReleasePlan(cfg, process.cwd()), replicas: 2, convergeSeconds: 60 })),
    ) as Record<string, any>;
    const proxy = JSON.parse(JSON.stringify(swarmProxyArgs(stackProxyArgs(cfg, "shop-net")))) as Record<string, any>;
    const withTask = (service: Record<string, any>, task: Record<string, any>, spec: Record<string, any> = {}) => ({
        ...service,
        taskSpec: { ...service.taskSpec, ...task, containerSpec: { ...service.taskSpec.containerSpec, ...spec } },
    });
    const strict = { requireDigest: true };

    it("reads a service as its task's container: image, health check, memory, restart, ports on every address, mounts, variables", () => {
        const seen = rules.asContainer(SERVICE, agent)!;
        expect(seen).to.include({ kind: "service", name: agent.name, image: agent.taskSpec.containerSpec.image, restart: "always" });
        expect(seen.memory).to.equal(cfg.agent.memoryMb);
        expect(seen.healthcheck.tests[0]).to.equal("CMD");
        expect(rules.asContainer(SERVICE, proxy)!.ports).to.deep.equal([
            { internal: 8080, external: 8080, ip: "0.0.0.0" },
            { internal: 10000, external: 10000, ip: "0.0.0.0" },
        ]);
        expect(rules.asContainer("docker:index/network:Network", {})).to.equal(undefined);
    });

    it("the program's own services pass every resource rule, with prod's requireDigest", async () => {
        for (const service of [agent, proxy])
            for (const policy of [
                rules.agentHealthGated,
                rules.imagesPinned,
                rules.onlyProxyPublished,
                rules.limitsAndRestart,
                rules.knowledgeReadOnly,
                rules.noPrivilegeEscalation,
            ])
                expect(await violations(policy, SERVICE, service, strict), `${policy.name} on ${service.name}`).to.deep.equal([]);
        expect(await stackViolations(rules.adminTokenFromRandom, [[SERVICE, agent]])).to.deep.equal([]);
    });

    it("agent-health-gated: an agent service with its check turned off is refused", async () => {
        const v = await violations(rules.agentHealthGated, SERVICE, withTask(agent, {}, { healthcheck: { tests: ["NONE"] } }));
        expect(v[0]).to.match(new RegExp(`^service "${agent.name}" \\(resource r\\) has no healthcheck`));
    });

    it("images-pinned: a service pinned by tag only is refused where a digest is required (every node pulls it)", async () => {
        const tagged = withTask(agent, {}, { image: "10.0.0.9:5000/shop-agent:2.5.0" });
        expect(await violations(rules.imagesPinned, SERVICE, tagged)).to.deep.equal([]);
        expect((await violations(rules.imagesPinned, SERVICE, tagged, strict))[0]).to.match(
            /pinned by tag only; this stack requires a digest/,
        );
        expect(await violations(rules.imagesPinned, SERVICE, withTask(agent, {}, { image: "shop-agent:latest" }))).to.have.length(1);
    });

    it("only-proxy-published: the proxy's service publishes; an agent service that publishes is refused", async () => {
        const published = {
            ...agent,
            endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 8080, publishedPort: 9000, publishMode: "host" }] },
        };
        expect((await violations(rules.onlyProxyPublished, SERVICE, published))[0]).to.match(
            /publishes 1 host port\(s\).*only the proxy \(zdt\.role=proxy\)/,
        );
    });

    it("no-world-open-ports: Swarm publishes on every address, so the proxy's ports are flagged unless the stack allows it", async () => {
        const v = await stackViolations(rules.noWorldOpenPorts, [[SERVICE, proxy]]);
        expect(v).to.have.length(2);
        expect(v[0]).to.match(
            /^service "shop-proxy" .* publishes port 8080 on 0\.0\.0\.0, open to the world without TLS\. Fix: Swarm publishes on every address/,
        );
        expect(await stackViolations(rules.noWorldOpenPorts, [[SERVICE, proxy]], { allowPublic: true })).to.deep.equal([]);
    });

    it("limits-and-restart: a service without a memory limit or with restart condition none is refused", async () => {
        const loose = withTask(proxy, { resources: {}, restartPolicy: { condition: "none" } });
        const v = await violations(rules.limitsAndRestart, SERVICE, loose);
        expect(v.join("\n"))
            .to.match(/no memory limit/)
            .and.match(/restart policy "no"/);
    });

    it("knowledge-read-only and no-docker-socket: a writable bind on an agent service, and the Docker socket, are refused", async () => {
        const mounted = withTask(agent, {}, { mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }] });
        expect((await violations(rules.knowledgeReadOnly, SERVICE, mounted))[0]).to.match(
            /mounts \/var\/run\/docker\.sock at \/var\/run\/docker\.sock writable/,
        );
        expect((await violations(rules.noPrivilegeEscalation, SERVICE, mounted))[0]).to.match(/mounts the Docker socket/);
    });

    it("admin-token-from-random: an agent service carrying ADMIN_TOKEN in its variables is refused (Swarm agents need none)", async () => {
        const leaky = withTask(agent, {}, { env: { ...agent.taskSpec.containerSpec.env, ADMIN_TOKEN: "hunter2" } });
        expect((await stackViolations(rules.adminTokenFromRandom, [[SERVICE, leaky]]))[0]).to.match(
            /^service "shop-agent-2-5-0-[0-9a-f]+" gets ADMIN_TOKEN as an environment variable/,
        );
    });
});
