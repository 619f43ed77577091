// One release on Docker Swarm: a service of swarm.replicas tasks, named by the release id
// (so a release never replaces the live one, as on one host), on the stack's overlay
// network, reached by DNS round robin (endpoint mode dnsrr: no virtual IP, which needs
// IPVS) as tasks.<service>. Every node pulls the image from a registry, pinned by digest;
// the image carries the knowledge base and config (scripts/publish --knowledge): no
// folder of the machine running `pulumi up` is mounted on the nodes.
//
// `pulumi up` waits until every task runs (convergeConfig, within the health gate's
// timeout); a service that does not converge is removed and the update fails naming it
// (as the official provider does), with the live release untouched.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { type AgentReleasePlan } from "../../components/agentRelease";
import { agentHealthCheck } from "../../components/healthChecks";
import { tasksName } from "./swarmServices";
import type { SwarmPlacement } from "../../config/swarm";

/** Seconds a task gets after the drain to end its streams and exit, before Swarm kills it. */
export const TASK_EXIT_SLACK_SECONDS = 10;

/**
 * Swarm kills a task its health check calls unhealthy and starts another, losing the task's
 * conversations (one host only marks a container unhealthy, and the switch's gate judges it).
 * So on Swarm the check is a liveness check, lenient under load: at least these, whatever
 * agent.health says (seen on a loaded 2-core machine with 1 s / 2 s / 3 retries: live tasks
 * killed and replaced during a release, 101 of 368 conversations broken).
 */
export const SWARM_HEALTH_FLOOR = { intervalSeconds: 5, timeoutSeconds: 10, retries: 5 };

/** The task's health check settings: agent.health, raised to the Swarm floor (pure). */
export function swarmHealth(h: AgentReleasePlan["health"]): AgentReleasePlan["health"] {
    return {
        intervalSeconds: Math.max(h.intervalSeconds, SWARM_HEALTH_FLOOR.intervalSeconds),
        timeoutSeconds: Math.max(h.timeoutSeconds, SWARM_HEALTH_FLOOR.timeoutSeconds),
        retries: Math.max(h.retries, SWARM_HEALTH_FLOOR.retries),
        startPeriodSeconds: h.startPeriodSeconds,
        ...(h.path !== undefined ? { path: h.path } : {}),
        ...(h.docker !== undefined ? { docker: h.docker } : {}),
    };
}

/**
 * The service's placement (pure). A preference is the spread descriptor alone: the official
 * provider (terraform-provider-docker) passes each `prefs` string as SpreadOver's
 * SpreadDescriptor whole, so "spread=node.labels.zone" would spread over nothing.
 */
export function swarmPlacement(p: SwarmPlacement): docker.types.input.ServiceTaskSpecPlacement {
    return {
        ...(p.constraints.length ? { constraints: p.constraints } : {}),
        ...(p.spreadOver.length ? { prefs: p.spreadOver } : {}),
        ...(p.maxReplicasPerNode ? { maxReplicas: p.maxReplicasPerNode } : {}),
    };
}

export interface SwarmReleaseArgs {
    plan: AgentReleasePlan;
    replicas: number;
    /** How long `pulumi up` waits for every task to run (release.healthGateTimeoutSeconds). */
    convergeSeconds: number;
    /** The values of plan.secrets' names (agent.secrets; as variables on Swarm), kept secret. */
    secrets?: Record<string, string>;
}

/** The service's inputs (pure, for the unit tests). */
export function swarmServiceArgs(args: SwarmReleaseArgs): docker.ServiceArgs {
    const { plan } = args;
    const h = swarmHealth(plan.health);
    // No admin token on Swarm: knowledge changes are new releases there (the image carries them).
    const { ADMIN_TOKEN_FILE: _token, ...plainEnv } = plan.env;
    const secrets = plan.secrets.names.map((n): [string, string] => [n, args.secrets?.[n] ?? ""]);
    // With secrets, the whole map is secret (in state too).
    const env = secrets.length > 0 ? pulumi.secret({ ...plainEnv, ...Object.fromEntries(secrets) }) : plainEnv;
    return {
        name: plan.containerName,
        labels: Object.entries({ ...plan.labels, "zdt.replicas": String(args.replicas) }).map(([label, value]) => ({ label, value })),
        taskSpec: {
            containerSpec: {
                image: plan.imageTag,
                env,
                labels: Object.entries(plan.labels).map(([label, value]) => ({ label, value })),
                healthcheck: agentHealthCheck(h, plan.port),
                // Retirement: SIGTERM, the agent drains (SHUTDOWN_GRACE_MS), then Swarm kills it.
                stopSignal: "SIGTERM",
                stopGracePeriod: `${plan.drainTimeoutSeconds + TASK_EXIT_SLACK_SECONDS}s`,
            },
            networksAdvanceds: [{ name: plan.networkName }],
            resources: {
                limits: {
                    memoryBytes: plan.memoryMb * 1024 * 1024,
                    ...(plan.cpus ? { nanoCpus: Math.round(Number(plan.cpus) * 1e9) } : {}),
                },
            },
            restartPolicy: { condition: "any", delay: "1s" },
            ...(plan.placement ? { placement: swarmPlacement(plan.placement) } : {}),
        },
        mode: { replicated: { replicas: args.replicas } },
        endpointSpec: { mode: "dnsrr" },
        convergeConfig: { delay: "1s", timeout: `${args.convergeSeconds}s` },
    };
}

export class SwarmRelease extends pulumi.ComponentResource {
    /** What a slot points at: the DNS name of the service's tasks. */
    readonly tasksName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly version: string;
    readonly releaseId: string;

    constructor(name: string, args: SwarmReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:SwarmRelease", name, {}, opts);
        this.version = args.plan.version;
        this.releaseId = args.plan.releaseId;
        // Secrets' values are not in the release id (their names and agent.secretsRevision are):
        // a new value waits for the next release instead of rolling the live service's tasks.
        const service = new docker.Service(`${name}-service`, swarmServiceArgs(args), {
            parent: this,
            ignoreChanges: ["taskSpec.containerSpec.env"],
        });
        this.serviceName = service.name;
        this.tasksName = service.name.apply(tasksName);
        this.registerOutputs({
            serviceName: this.serviceName,
            tasksName: this.tasksName,
            version: this.version,
            releaseId: this.releaseId,
        });
    }
}
