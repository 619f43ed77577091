// platform: swarm - the stack on a Docker Swarm cluster (DOCKER_HOST is its manager): the
// overlay network, the proxy on every node, the release as a service of swarm.replicas
// tasks named by its release id, and the traffic switch over every node's proxy. The
// knowledge base is in the image (a change is a new release): no hot reload on Swarm.
import * as docker from "@pulumi/docker";
import { stackReleasePlan } from "../../components/agentRelease";
import { appNetworkName } from "../../core/proxyNames";
import { probesPerTick, type StackConfig } from "../../config/schema";
import { stackProxyArgs, SwarmProxy } from "./swarmProxy";
import { slotServers } from "./swarmSlots";
import { SwarmRelease } from "./swarmRelease";
import { TrafficSwitch } from "../../components/trafficSwitch";
import { evaluationInput } from "../../components/evaluationSet";
import { type Deployed } from "../../components/deployed";

export function swarmStack(cfg: StackConfig, projectDir: string): Deployed {
    const swarm = cfg.swarm!; // the schema requires it with platform: swarm
    const network = new docker.Network("network", {
        name: appNetworkName(cfg.app),
        driver: "overlay",
        attachable: true,
        labels: [{ label: "zdt.app", value: cfg.app }],
    });
    const proxy = new SwarmProxy("proxy", stackProxyArgs(cfg, network.name));

    const plan = stackReleasePlan(cfg, projectDir);
    const release = new SwarmRelease(
        `agent-${plan.releaseId}`,
        { plan, replicas: swarm.replicas, convergeSeconds: cfg.release.healthGateTimeoutSeconds, secrets: cfg.agent.secrets },
        { dependsOn: [network, proxy] },
    );

    const traffic = new TrafficSwitch("traffic", {
        proxyContainer: proxy.serviceName,
        proxyContainerId: proxy.serviceId,
        targetContainer: release.tasksName,
        targetRelease: release.releaseId,
        targetVersion: release.version,
        release: cfg.release,
        probeRequestsPerTick: probesPerTick(cfg),
        agentPort: cfg.agent.port,
        health: cfg.agent.health,
        metrics: cfg.agent.metrics,
        swarm: { nodes: swarm.nodes, slotServers: slotServers(swarm.replicas), replicas: swarm.replicas },
        evaluation: evaluationInput(cfg.release.evaluation, projectDir),
    });

    return {
        traffic,
        releaseId: release.releaseId,
        proxyUrl: proxy.urls.apply((u) => u[0]),
        proxyUrls: proxy.urls,
        proxyContainer: proxy.serviceName,
        knowledgeDigest: null,
        lastReindex: null,
        adminToken: null,
    };
}
