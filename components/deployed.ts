// What either platform's stack (platform/docker/dockerStack.ts, platform/swarm/swarmStack.ts)
// gives the program's outputs (index.ts).
import * as pulumi from "@pulumi/pulumi";
import type { TrafficSwitch } from "./trafficSwitch";

/** What either platform's stack gives the program's outputs. */
export interface Deployed {
    traffic: TrafficSwitch;
    releaseId: string;
    proxyUrl: pulumi.Output<string>;
    proxyUrls: pulumi.Output<string[]>;
    proxyContainer: pulumi.Output<string>;
    /** null on Swarm (the image carries the knowledge base). */
    knowledgeDigest: pulumi.Input<string | null>;
    lastReindex: pulumi.Input<string | null>;
    /** The agents' admin token (the reindex); none on Swarm. */
    adminToken: pulumi.Output<string> | null;
    /** The certificate the proxy serves (proxy.tls, one host): its public facts; absent or null without TLS. */
    certificate?: pulumi.Output<{ serial: string; notAfter: string; fingerprint256: string } | null>;
    /** The edge stack's network the proxy joined (proxy.edgeNetwork, one host); absent or null when none. */
    edgeNetwork?: pulumi.Output<string | null>;
}
