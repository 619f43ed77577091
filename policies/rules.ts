// The release guard rails as CrossGuard policies. Kept apart from index.ts (which
// constructs and serves the pack) so tests can call each policy directly.
import { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PORT_HOLDER_ROLE } from "../core/proxyNames";
import { proxyConfigContract } from "../contracts/proxyConfigContract";
import { switchContract } from "../contracts/switchContract";

const CONTAINER = "docker:index/container:Container";
const SERVICE = "docker:index/service:Service";
const IMAGE = "docker:index/image:Image";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const COMMAND = "command:local:Command";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

// Resource properties as the policy framework hands them over: untyped by nature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

function labels(props: Props): Record<string, string> {
    return Object.fromEntries((props.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value]));
}
const role = (props: Props) => labels(props)["zdt.role"];

/**
 * A Swarm service (platform: swarm) seen as the container each of its tasks is, in the
 * container's property names, so every container rule judges services by the same rule:
 * its task's image, health check, memory limit, restart condition, mounts and variables,
 * and its published ports (Swarm publishes on every address of a node: there is no
 * address to bind). A container is itself.
 */
export function asContainer(type: string, props: Props): Props | undefined {
    if (type === CONTAINER) return props;
    if (type !== SERVICE) return undefined;
    const task = props.taskSpec ?? {};
    const spec = task.containerSpec ?? {};
    const condition: string | undefined = task.restartPolicy?.condition;
    const mounts: Props[] = spec.mounts ?? [];
    const env: Props | undefined = spec.env;
    return {
        kind: "service",
        name: props.name,
        image: spec.image,
        labels: props.labels,
        healthcheck: spec.healthcheck,
        memory: Number(task.resources?.limits?.memoryBytes ?? 0) / (1024 * 1024),
        // Swarm's conditions: any (always), on-failure, none.
        restart: condition === "any" ? "always" : condition === "none" ? "no" : condition,
        ports: (props.endpointSpec?.ports ?? []).map((p: Props) => ({ internal: p.targetPort, external: p.publishedPort, ip: "0.0.0.0" })),
        volumes: mounts.map((m) => ({
            ...(m.type === "bind" ? { hostPath: m.source } : { volumeName: m.source }),
            containerPath: m.target,
            readOnly: m.readOnly === true,
        })),
        mounts: mounts.map((m) => ({ source: m.source })),
        envs: env && typeof env === "object" ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : undefined,
    };
}

const where = (args: { name: string; props: Props }) =>
    `${args.props.kind ?? "container"} "${args.props.name ?? args.name}" (resource ${args.name})`;

/** The role that publishes the proxy's port: one host's port holder, or on Swarm the proxy's global service. */
const publisher = (props: Props) => (props.kind === "service" ? "proxy" : PORT_HOLDER_ROLE);

/** A tag other than "latest", or a digest. Unknown values (preview) pass: they are checked at `up`. */
export function isPinned(image: unknown): boolean {
    if (typeof image !== "string" || isDigestPinned(image)) return true;
    const tag = /:([^/:]+)$/.exec(image)?.[1];
    return tag !== undefined && tag !== "latest";
}

function containerPolicy(
    name: string,
    description: string,
    check: (args: ResourceValidationArgs, report: (msg: string) => void) => void,
): ResourceValidationPolicy {
    return {
        name,
        description,
        validateResource: (args, reportViolation) => {
            const props = asContainer(args.type, args.props);
            if (props) check({ ...args, props }, reportViolation);
        },
    };
}

export const agentHealthGated = containerPolicy(
    "agent-health-gated",
    "Agent containers are health-checked by Docker, by their image's own HEALTHCHECK or, said so by agent.health.docker, by the proxy alone: the traffic switch gates a release on the proxy's check of the health endpoint, so an unhealthy or crashing release never gets traffic. An agent container with its check removed, and nothing said instead, is refused.",
    (args, report) => {
        if (role(args.props) !== "agent") return;
        const tests: string[] = args.props.healthcheck?.tests ?? [];
        const declared = labels(args.props)["zdt.health"];
        if (declared === "image" && tests.length === 0) return; // the image's HEALTHCHECK runs
        if (declared === "none" && tests[0] === "NONE") return; // the proxy's check only, said so
        if (tests.length === 0 || tests[0] === "NONE") {
            report(
                `${where(args)} has no healthcheck. Fix: set healthcheck.tests, e.g. ["CMD", "curl", "-fsS", "http://127.0.0.1:8080/health"], ` +
                    `or say who checks it: agent.health.docker image (the image's HEALTHCHECK) or none (the proxy's check alone).`,
            );
        }
    },
);

/** A reference pinned to content: `repo@sha256:...` or `repo:tag@sha256:...`. Unknown values (preview) pass. */
export function isDigestPinned(image: unknown): boolean {
    return typeof image !== "string" || /@sha256:[0-9a-f]{64}$/.test(image);
}

export const imagesPinned: ResourceValidationPolicy = {
    name: "images-pinned",
    description:
        "Images are pinned to a version tag or a digest, never 'latest' or untagged, so a release is reproducible. With requireDigest (prod), pulled images and agent containers are pinned by digest, so a tag pushed again cannot change what runs.",
    configSchema: { properties: { requireDigest: { type: "boolean", default: false } } },
    validateResource: (args, report) => {
        const image =
            args.type === CONTAINER || args.type === SERVICE
                ? asContainer(args.type, args.props)!.image
                : args.type === IMAGE
                  ? args.props.imageName
                  : args.type === REMOTE_IMAGE
                    ? args.props.name
                    : undefined;
        if (image === undefined) return;
        const kind = args.type.split(":").pop();
        if (!isPinned(image)) {
            report(
                `${kind} "${args.name}" uses image "${image}", which is not pinned. Fix: use a version tag (repo:2.5.0) or a digest (repo@sha256:...).`,
            );
            return;
        }
        // A local build has no registry digest; what is pulled, and what agents run, must have one.
        // A Swarm service's image is pulled on every node.
        const pulled = args.type === REMOTE_IMAGE || args.type === SERVICE || (args.type === CONTAINER && role(args.props) === "agent");
        if (pulled && args.getConfig<{ requireDigest?: boolean }>().requireDigest && !isDigestPinned(image)) {
            report(
                `${kind} "${args.name}" uses image "${image}", pinned by tag only; this stack requires a digest. Fix: set agent.digest to the digest \`docker push\` printed (sha256:...).`,
            );
        }
    },
};

export const onlyProxyPublished = containerPolicy(
    "only-proxy-published",
    "Only the proxy publishes a host port (one host's port holder; on Swarm the proxy's global service); agents are reached through the proxy on the private network.",
    (args, report) => {
        const ports: unknown[] = args.props.ports ?? [];
        const allowed = publisher(args.props);
        if (ports.length > 0 && role(args.props) !== allowed) {
            report(
                `${where(args)} publishes ${ports.length} host port(s). Fix: remove ports; agents are reached through the proxy on the private network, and only the proxy (zdt.role=${allowed}) publishes.`,
            );
        }
    },
);

/**
 * What the proxy serves over HTTPS, as the stack declares it to the proxy-config command
 * (its environment carries proxy.tls): the host port of HTTPS, and whether plain HTTP only
 * redirects there. undefined without HTTPS.
 */
function httpsOf(resources: PolicyResource[]): { tlsPort: string; redirect: boolean } | undefined {
    const portVar = proxyConfigContract.variable("tlsHostPort");
    const redirectVar = proxyConfigContract.variable("tlsRedirectHttp");
    for (const r of resources) {
        if (r.type !== COMMAND) continue;
        let env: Props | undefined;
        try {
            env = r.props.environment;
        } catch {
            env = undefined; // a preview's unknown secret: not this command's business
        }
        // The proxy-config command's (the guard's environment has a TLS_HOST_PORT too).
        if (env?.[proxyConfigContract.variable("templateDigest")] === undefined) continue;
        const port = env?.[portVar];
        if (port !== undefined && port !== "") return { tlsPort: String(port), redirect: String(env?.[redirectVar] ?? "true") !== "false" };
    }
    return undefined;
}

export const noWorldOpenPorts: StackValidationPolicy = {
    name: "no-world-open-ports",
    description:
        "Published ports listen on a specific address (loopback behind a TLS terminator), not on every interface, unless they serve HTTPS: the proxy's HTTPS port (proxy.tls), and its plain HTTP port when that only redirects to HTTPS.",
    configSchema: { properties: { allowPublic: { type: "boolean", default: false } } },
    validateStack: (args, report) => {
        if (args.getConfig<{ allowPublic?: boolean }>().allowPublic) return;
        const https = httpsOf(args.resources);
        for (const r of args.resources) {
            const props = asContainer(r.type, r.props);
            if (!props) continue;
            const holder = role(props) === PORT_HOLDER_ROLE;
            for (const p of props.ports ?? []) {
                const ip = p.ip ?? "0.0.0.0";
                if (ip !== "0.0.0.0" && ip !== "::") continue;
                const external = String(p.external ?? p.internal);
                if (holder && https && (external === https.tlsPort || https.redirect)) continue;
                const fix =
                    props.kind === "service"
                        ? "Swarm publishes on every address of each node (no address to bind): keep the nodes' ports behind a firewall or a TLS terminator, and set this policy's allowPublic: true for the stack."
                        : "serve HTTPS in the proxy (proxy.tls, docs/edge.md), or set proxy.listenAddress to 127.0.0.1 and terminate TLS in front, or set this policy's allowPublic: true for the stack.";
                report(
                    `${where({ name: r.name, props })} publishes port ${external} on ${ip}, open to the world without TLS. Fix: ${fix}`,
                    r.urn,
                );
            }
        }
    },
};

export const limitsAndRestart = containerPolicy(
    "limits-and-restart",
    "Containers have a memory limit and a restart policy.",
    (args, report) => {
        if (!(Number(args.props.memory) > 0)) report(`${where(args)} has no memory limit. Fix: set memory (MB), e.g. agent.memoryMb.`);
        if (!["on-failure", "always", "unless-stopped"].includes(args.props.restart)) {
            report(`${where(args)} has restart policy "${args.props.restart ?? "no"}". Fix: use unless-stopped (or always / on-failure).`);
        }
    },
);

export const knowledgeReadOnly = containerPolicy(
    "knowledge-read-only",
    "Agent containers mount the knowledge base and config read-only.",
    (args, report) => {
        if (role(args.props) !== "agent") return;
        for (const v of args.props.volumes ?? []) {
            if (v.readOnly !== true)
                report(`${where(args)} mounts ${v.hostPath ?? v.volumeName} at ${v.containerPath} writable. Fix: set readOnly: true.`);
        }
    },
);

export const noPrivilegeEscalation = containerPolicy(
    "no-privileged-no-docker-socket",
    "No privileged container and no Docker socket mount: either hands the host to whoever controls the container.",
    (args, report) => {
        if (args.props.privileged === true) report(`${where(args)} is privileged. Fix: remove privileged: true.`);
        const mounts = [
            ...(args.props.volumes ?? []).map((v: Props) => v.hostPath),
            ...(args.props.mounts ?? []).map((m: Props) => m.source),
        ];
        for (const m of mounts) {
            if (typeof m === "string" && /docker\.sock$/.test(m))
                report(`${where(args)} mounts the Docker socket ${m}. Fix: remove the mount; the release program reaches Docker itself.`);
        }
    },
);

export const adminTokenFromRandom: StackValidationPolicy = {
    name: "admin-token-from-random",
    description:
        "The agents' admin token comes from a @pulumi/random password (a Pulumi secret) and reaches the container as a file (uploads), never as an environment variable, which `docker inspect` shows to anyone with Docker access.",
    validateStack: (args, report) => {
        for (const r of args.resources) {
            // On Swarm agents have no admin token (knowledge is in the image); their variables must not carry one.
            if (r.type === SERVICE && role(r.props) === "agent") {
                let envs: unknown;
                try {
                    envs = asContainer(r.type, r.props)!.envs;
                } catch {
                    envs = undefined; // a preview's unknown secret
                }
                if (Array.isArray(envs) && envs.some((e) => typeof e === "string" && e.startsWith("ADMIN_TOKEN=")))
                    report(
                        `service "${r.props.name ?? r.name}" gets ADMIN_TOKEN as an environment variable, shown by \`docker service inspect\`. Fix: remove it; on Swarm knowledge changes are new releases and the agents need no admin token.`,
                        r.urn,
                    );
                continue;
            }
            if (r.type !== CONTAINER || role(r.props) !== "agent") continue;
            const fromRandom = (r.propertyDependencies?.uploads ?? []).some((d: PolicyResource) => d.type === RANDOM_PASSWORD);
            // During a preview the token is not known yet, and reading it throws: the
            // dependency on the RandomPassword is then the evidence.
            let envs: unknown;
            try {
                envs = r.props.envs;
            } catch {
                envs = undefined;
            }
            const inEnv = Array.isArray(envs) && envs.some((e) => typeof e === "string" && e.startsWith("ADMIN_TOKEN="));
            const name = r.props.name ?? r.name;
            if (inEnv) {
                report(
                    `container "${name}" gets ADMIN_TOKEN as an environment variable, shown by \`docker inspect\`. Fix: upload the admin-token RandomPassword's result as a file (uploads) and point ADMIN_TOKEN_FILE at it.`,
                    r.urn,
                );
            } else if (!fromRandom) {
                report(
                    `container "${name}" has no admin token from random.RandomPassword. Fix: upload the admin-token RandomPassword's result as a file (uploads) and point ADMIN_TOKEN_FILE at it.`,
                    r.urn,
                );
            }
        }
    },
};

/** The thresholds the release-verification-window policy holds to the blueprint's alert levels (or the stack's stricter ones). */
const ALERT_LEVELS = [
    { setting: "maxErrorRatePercent", limit: 1, what: (v: number) => `tolerates ${v}% 5xx` },
    { setting: "maxLatencyMs", limit: 5000, what: (v: number) => `tolerates an LLM p95 of ${v} ms` },
    { setting: "maxHealthResponseMs", limit: 500, what: (v: number) => `tolerates /health in ${v} ms` },
    { setting: "maxMemoryPercent", limit: 90, what: (v: number) => `tolerates memory at ${v}% of the limit` },
    { setting: "maxConversationDropPercent", limit: 20, what: (v: number) => `tolerates a ${v}% drop of active conversations` },
] as const;

export const releaseWindow: ResourceValidationPolicy = {
    name: "release-verification-window",
    description:
        "The traffic switch verifies long enough, against thresholds no looser than the blueprint's alert levels (5xx 1%, LLM p95 5 s, /health 500 ms, memory 90%, a 20% conversation drop; per-stack config: prod 900 s).",
    configSchema: {
        properties: {
            minVerifyWindowSeconds: { type: "number", default: 900 },
            ...Object.fromEntries(ALERT_LEVELS.map((l) => [l.setting, { type: "number", default: l.limit }])),
        },
    },
    validateResource: (args, report) => {
        if (args.type !== COMMAND) return;
        const env: Props | undefined = args.props.environment;
        // The switch's variables are named by its contract; a command without them is not a switch.
        const windowVar = switchContract.variable("verifyWindowSeconds");
        if (!env || env[windowVar] === undefined) return;
        const cfg = args.getConfig<Record<string, number>>();
        const window = Number(env[windowVar]);
        if (window < cfg.minVerifyWindowSeconds) {
            report(
                `traffic switch "${args.name}" verifies for ${window}s; this stack requires at least ${cfg.minVerifyWindowSeconds}s. Fix: pulumi config set --path release.verifyWindowSeconds ${cfg.minVerifyWindowSeconds}`,
            );
        }
        for (const level of ALERT_LEVELS) {
            const value = Number(env[switchContract.variable("thresholds", level.setting)]);
            const allowed = cfg[level.setting] ?? level.limit;
            if (!(value <= allowed))
                report(
                    `traffic switch "${args.name}" ${level.what(value)}; this stack allows at most ${allowed}. Fix: pulumi config set --path release.thresholds.${level.setting} ${allowed}`,
                );
        }
    },
};

export const policies = [
    agentHealthGated,
    imagesPinned,
    onlyProxyPublished,
    noWorldOpenPorts,
    limitsAndRestart,
    knowledgeReadOnly,
    noPrivilegeEscalation,
    adminTokenFromRandom,
    releaseWindow,
];
