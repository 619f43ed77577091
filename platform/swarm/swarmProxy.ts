// The proxy on Docker Swarm: a global service, one HAProxy task on every proxy node, each
// publishing the proxy's port on its node's own address (host mode: the ingress routing
// mesh needs IPVS) and the peer port on which the proxies share the conversations' stick
// table. Its config is the image's own (proxy/haproxy-swarm.cfg.tmpl); each slot is a
// server template of `slotServers` servers that follow the release service's tasks. The
// slot file lives in a volume on each node, so a restarted task serves the live release.
//
// A change of this service (a new proxy image) is a rolling update, one node at a time,
// stop-first (host-mode ports cannot be bound twice). No client is refused: a stopping
// task drains first (swarm.proxyDrainSeconds, HAProxy's grace): it keeps serving while its
// readiness path answers 503, so the load balancer in front takes the node out before the
// task stops listening; the new task's readiness answers 200 once it has a live server.
// `pulumi up` waits for the rolling update (proxyRollout.ts) and fails if Swarm rolled it back.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { programCommand } from "../../components/compiledPrograms";
import { proxyNodesContract } from "../../contracts/proxyNodesContract";
import { proxyRolloutContract } from "../../contracts/proxyRolloutContract";
import type { StackConfig, SwarmConfig } from "../../config/schema";
import { conversationKeyOf } from "../../core/conversationKey";
import { SLOT_DIR } from "../../haproxy/admin";
import { type ConversationSettings, proxyMemoryMb, serviceEnvironment } from "../../config/proxySettings";
import { PROXY_INTERNAL_PORT, PROXY_READY_PATH, swarmProxyService } from "../../core/proxyNames";
import { proxyHealthCheck } from "../../components/healthChecks";
import { SWARM_HEALTH_FLOOR } from "./swarmRelease";
import type { AgentHealth } from "../../core/health";
import type { ConversationKey } from "../../core/conversationKey";
import { slotServers } from "./swarmSlots";
import { runsProxy } from "../../config/swarm";

export interface SwarmProxyArgs {
    app: string;
    networkName: pulumi.Input<string>;
    port: number;
    swarm: SwarmConfig;
    /** The stick table's size and idle timeout, and keyless pinning (the template's variables). */
    conversations: ConversationSettings;
    /** The agent's health endpoint the proxies check. */
    agentHealth: AgentHealth;
    /** The port the agent listens on (every slot's server template; a change rolls the proxies). */
    agentPort: number;
    /** Where a message's conversation key is. */
    conversationKey: ConversationKey;
}

/** Seconds a stopping proxy task gets after its drain: HAProxy's hard-stop-after (90 s) and a margin. */
export const PROXY_STOP_SLACK_SECONDS = 100;

/** The wait for a rolling update of the proxies (run by a command resource). */
export const PROXY_ROLLOUT_PROGRAM = "platform/swarm/proxyRollout.ts";

/** The most a rolling update of the proxies may take: per proxy node, its drain, its streams' end and its start (pure). */
export function rolloutTimeoutSeconds(s: SwarmConfig): number {
    return proxyNodes(s.nodes).length * (s.proxyDrainSeconds + PROXY_STOP_SLACK_SECONDS + 30) + 60;
}

/** The labeller of the nodes that run the proxy (run by a command resource). */
export const PROXY_NODES_PROGRAM = "platform/swarm/proxyNodes.ts";

/** The node label the proxy's global service is constrained to. */
export function proxyNodeLabel(app: string): string {
    return `zdt.proxy.${app}`;
}

/** The nodes that run the proxy (swarm.nodes with proxy: true; pure). */
export function proxyNodes(nodes: SwarmConfig["nodes"]): SwarmConfig["nodes"] {
    return nodes.filter(runsProxy);
}

/** The peers' "name=address" list the proxy's start script renders: every proxy node (pure). */
export function peersEnv(nodes: SwarmConfig["nodes"]): string {
    return proxyNodes(nodes)
        .map((n) => `${n.name}=${n.address}`)
        .join(" ");
}

/** The proxy's arguments for a swarm stack's config (pure): what swarmStack.ts declares. */
export function stackProxyArgs(cfg: StackConfig, networkName: pulumi.Input<string>): SwarmProxyArgs {
    return {
        app: cfg.app,
        networkName,
        port: cfg.proxy.port,
        swarm: cfg.swarm!, // the schema requires it with platform: swarm
        conversations: cfg.proxy.conversations,
        agentHealth: cfg.agent.health,
        agentPort: cfg.agent.port,
        conversationKey: conversationKeyOf(cfg.agent.conversation),
    };
}

export function swarmProxyArgs(args: SwarmProxyArgs): docker.ServiceArgs {
    const s = args.swarm;
    return {
        name: swarmProxyService(args.app),
        labels: [
            { label: "zdt.app", value: args.app },
            { label: "zdt.role", value: "proxy" },
        ],
        taskSpec: {
            containerSpec: {
                image: s.proxyImage,
                env: {
                    LISTEN_PORT: String(PROXY_INTERNAL_PORT),
                    AGENT_PORT: String(args.agentPort),
                    ZDT_PLATFORM: "swarm",
                    ZDT_SLOT_SERVERS: String(slotServers(s.replicas)),
                    // Swarm's template: the node this task runs on (its peer name).
                    ZDT_NODE: "{{.Node.Hostname}}",
                    ZDT_PEERS: peersEnv(s.nodes),
                    ZDT_PEER_PORT: String(s.peerPort),
                    // The drain when Swarm stops the task (HAProxy's grace), and the path that says so.
                    PROXY_GRACE: `${s.proxyDrainSeconds}s`,
                    READY_PATH: PROXY_READY_PATH,
                    ...serviceEnvironment({
                        conversations: args.conversations,
                        agentHealth: args.agentHealth,
                        conversationKey: args.conversationKey,
                    }),
                },
                mounts: [{ type: "volume", source: `${args.app}-proxy-state`, target: SLOT_DIR }],
                // Swarm kills an unhealthy task: lenient under load (SWARM_HEALTH_FLOOR).
                healthcheck: proxyHealthCheck(SWARM_HEALTH_FLOOR),
                // SIGUSR1: HAProxy's soft stop (its drain, then its streams' end within hard-stop-after, 90 s).
                stopSignal: "SIGUSR1",
                stopGracePeriod: `${s.proxyDrainSeconds + PROXY_STOP_SLACK_SECONDS}s`,
            },
            networksAdvanceds: [{ name: args.networkName }],
            // As one host's proxy: HAProxy and its tables (the policy pack's limits-and-restart holds services to it too).
            resources: { limits: { memoryBytes: proxyMemoryMb(args.conversations.tableSize) * 1024 * 1024 } },
            restartPolicy: { condition: "any", delay: "1s" },
            // Only on the stack's proxy nodes (labelled by proxyNodes.ts): a node not listed runs none.
            placement: { constraints: [`node.labels.${proxyNodeLabel(args.app)}==true`] },
        },
        mode: { global: true },
        endpointSpec: {
            mode: "dnsrr",
            ports: [
                { targetPort: PROXY_INTERNAL_PORT, publishedPort: args.port, publishMode: "host" },
                { targetPort: s.peerPort, publishedPort: s.peerPort, publishMode: "host" },
            ],
        },
        updateConfig: { parallelism: 1, delay: "5s", order: "stop-first", failureAction: "rollback" },
    };
}

export class SwarmProxy extends pulumi.ComponentResource {
    readonly serviceName: pulumi.Output<string>;
    readonly serviceId: pulumi.Output<string>;
    /** Every node's proxy address. */
    readonly urls: pulumi.Output<string[]>;

    constructor(name: string, args: SwarmProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:SwarmProxy", name, {}, opts);
        const nodes = new command.local.Command(
            `${name}-nodes`,
            {
                create: programCommand(PROXY_NODES_PROGRAM),
                update: programCommand(PROXY_NODES_PROGRAM),
                delete: `${programCommand(PROXY_NODES_PROGRAM)} remove`,
                environment: proxyNodesContract.encode({
                    label: proxyNodeLabel(args.app),
                    proxyNodes: proxyNodes(args.swarm.nodes).map((n) => n.name),
                }),
                logging: "stderr",
            },
            { parent: this },
        );
        const service = new docker.Service(`${name}-service`, swarmProxyArgs(args), { parent: this, dependsOn: [nodes] });
        // `pulumi up` waits for the rolling update of a new proxy image (and fails if Swarm rolls it back).
        const s = args.swarm;
        const rollout = new command.local.Command(
            `${name}-rollout`,
            {
                create: programCommand(PROXY_ROLLOUT_PROGRAM),
                update: programCommand(PROXY_ROLLOUT_PROGRAM),
                environment: proxyRolloutContract.encode({
                    service: service.name,
                    image: s.proxyImage,
                    timeoutSeconds: rolloutTimeoutSeconds(s),
                }),
                triggers: [s.proxyImage, s.proxyDrainSeconds],
                logging: "stderr",
            },
            { parent: this, dependsOn: [service] },
        );
        this.serviceName = service.name;
        // The switch reaches the proxies once their rollout is over.
        this.serviceId = pulumi.all([service.id, rollout.stdout]).apply(([id]) => id);
        this.urls = pulumi.output(
            proxyNodes(args.swarm.nodes).map((n) => `http://${n.address.includes(":") ? `[${n.address}]` : n.address}:${args.port}`),
        );
        this.registerOutputs({ serviceName: this.serviceName, serviceId: this.serviceId, urls: this.urls });
    }
}
