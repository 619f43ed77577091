// An edge stack on one Docker engine (config/edge.ts): the edge's network, which agent
// stacks join (proxy.edgeNetwork), and one proxy on the public port (and HTTPS, with a
// certificate or over ACME) whose routes forward each host name, and path prefix, to one
// agent stack's proxy. The proxy is the agent stacks' TrafficProxy with the edge's template:
// the same port holder, hand-over to a new image, seamless reload of a new route set,
// certificates put in place through the runtime API. The edge holds no release and no
// conversation: each agent stack releases, canaries and aborts behind it on its own.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { EdgeStackConfig } from "../../config/edge";
import { ConversationSettingsSchema } from "../../config/proxySettings";
import { edgeNetworkName } from "../../core/edgeRoutes";
import { HEALTH_DEFAULTS } from "../../core/health";
import { conversationKeyOf } from "../../core/conversationKey";
import { proxySectionArgs, TrafficProxy } from "./trafficProxy";

export interface Edge {
    /** The network agent stacks join (their proxy.edgeNetwork). */
    network: pulumi.Output<string>;
    url: pulumi.Output<string>;
    proxyContainer: pulumi.Output<string>;
    /** The routes as served: "host[/prefix] -> app". */
    routes: string[];
    certificate: pulumi.Output<{ serial: string; notAfter: string; fingerprint256: string } | null>;
}

export function edgeStack(cfg: EdgeStackConfig, projectDir: string): Edge {
    const network = new docker.Network("edge-network", {
        name: edgeNetworkName(cfg.app),
        labels: [
            { label: "zdt.app", value: cfg.app },
            { label: "zdt.role", value: "edge" },
        ],
    });
    const proxy = new TrafficProxy(
        "proxy",
        {
            app: cfg.app,
            networkName: edgeNetworkName(cfg.app),
            ...proxySectionArgs(cfg.proxy, projectDir),
            // The edge pins no conversation and checks no agent: the agent stacks' proxies do.
            conversations: ConversationSettingsSchema.parse({}),
            agentHealth: HEALTH_DEFAULTS,
            conversationKey: conversationKeyOf({ preset: "x-conversation-id" }),
            routes: cfg.edge.routes,
        },
        { dependsOn: [network] },
    );
    return {
        network: network.name,
        url: proxy.url,
        proxyContainer: proxy.containerName,
        routes: cfg.edge.routes.map((r) => `${r.host}${r.pathPrefix ?? ""} -> ${r.app}`),
        certificate: proxy.certificate,
    };
}
