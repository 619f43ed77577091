// platform: docker - the stack on one Docker engine: the private network, the admin
// token, the proxy (the only published port), the release named by its release id, the
// traffic switch and the knowledge base's hot reload.
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as path from "path";
import { AgentRelease, stackReleasePlan } from "../../components/agentRelease";
import { appNetworkName } from "../../core/proxyNames";
import { probesPerTick, type StackConfig } from "../../config/schema";
import { KnowledgeReload } from "./knowledgeReload";
import { KnowledgeVolume } from "./knowledgeVolume";
import { proxySectionArgs, TrafficProxy } from "./trafficProxy";
import type { Deployed } from "../../components/deployed";
import { TrafficSwitch } from "../../components/trafficSwitch";
import { evaluationInput } from "../../components/evaluationSet";
import { conversationKeyOf } from "../../core/conversationKey";

export function dockerStack(cfg: StackConfig, projectDir: string): Deployed {
    const network = new docker.Network("network", { name: appNetworkName(cfg.app), labels: [{ label: "zdt.app", value: cfg.app }] });
    const adminToken = new random.RandomPassword("admin-token", { length: 40, special: false });

    const proxy = new TrafficProxy(
        "proxy",
        {
            app: cfg.app,
            networkName: appNetworkName(cfg.app),
            ...proxySectionArgs(cfg.proxy, projectDir),
            conversations: cfg.proxy.conversations,
            agentHealth: cfg.agent.health,
            conversationKey: conversationKeyOf(cfg.agent.conversation),
            edgeNetwork: cfg.proxy.edgeNetwork,
        },
        { dependsOn: [network] },
    );

    // Hot-reloaded knowledge is the stack's volume, filled before the first agent mounts it.
    const mode = cfg.agent.reindex.mode;
    const knowledgeDir = path.resolve(projectDir, cfg.agent.knowledgeDir);
    const volume =
        mode !== "release" ? new KnowledgeVolume("knowledge", { app: cfg.app, knowledgeDir, helperImage: proxy.imageName }) : undefined;

    // Named by its release id, so it never replaces the live one.
    const plan = stackReleasePlan(cfg, projectDir);
    const release = new AgentRelease(
        `agent-${plan.releaseId}`,
        { plan, adminToken: adminToken.result, secrets: cfg.agent.secrets },
        { dependsOn: [network, proxy.guard, ...(volume ? [volume.seeded] : [])] },
    );
    const evaluation = evaluationInput(cfg.release.evaluation, projectDir);

    const traffic = new TrafficSwitch("traffic", {
        proxyContainer: proxy.containerName,
        proxyContainerId: proxy.containerId,
        targetContainer: release.containerName,
        targetRelease: release.releaseId,
        targetVersion: release.version,
        release: cfg.release,
        probeRequestsPerTick: probesPerTick(cfg),
        gateOnDockerHealth: cfg.agent.health.docker === "image",
        agentPort: cfg.agent.port,
        health: cfg.agent.health,
        metrics: cfg.agent.metrics,
        evaluation,
    });

    // A content change of the knowledge base reindexes the live agent in place (the
    // reference agent's endpoint, or the agent's own reload hook), the evaluation set
    // replayed before and after; with agent.reindex.mode release it is part of the release
    // id instead (a new release).
    const knowledge =
        mode !== "release" && volume
            ? new KnowledgeReload(
                  "knowledge",
                  {
                      knowledgeDir,
                      volume: volume.volumeName,
                      evaluation,
                      app: cfg.app,
                      agentPort: cfg.agent.port,
                      adminToken: adminToken.result,
                      scope: cfg.agent.reindex.scope,
                      timeoutSeconds: cfg.agent.reindex.timeoutSeconds,
                      mode,
                      hook: cfg.agent.reindex.hook,
                  },
                  { dependsOn: [traffic] },
              )
            : undefined;

    return {
        traffic,
        releaseId: release.releaseId,
        proxyUrl: proxy.url,
        proxyUrls: proxy.url.apply((u) => [u]),
        proxyContainer: proxy.containerName,
        knowledgeDigest: knowledge?.digest ?? null,
        lastReindex: knowledge?.lastReindex ?? null,
        adminToken: adminToken.result,
        certificate: proxy.certificate,
        edgeNetwork: proxy.edgeNetwork,
    };
}
