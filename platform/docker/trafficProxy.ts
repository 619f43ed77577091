// The reverse proxy in front of the agents: HAProxy with two server slots (blue
// and green) that the traffic switch re-points and re-weights at run time through
// the admin socket.
//
// Two kinds of container. The port holder publishes the port and owns the network
// namespace; nothing but a new port or address replaces it. HAProxy runs in proxy
// containers inside that namespace, one per proxy image: a new image (base image,
// Dockerfile, start-proxy.sh) starts a new proxy beside the old one, which takes the
// listening sockets and the stick table over from it (start-proxy, HAProxy's -x); the
// hand-over command then soft-stops the old one before the traffic switch acts, and Pulumi
// deletes it once it has finished its requests and streams. No connection is refused.
//
// HAProxy's config (proxy/haproxy.cfg.tmpl) is not part of the image: a command delivers
// it into the proxy's state volume and reloads the running proxy seamlessly. A new port or
// address replaces the port holder, which closes client connections: the proxy guard
// fails such an update before anything changes unless `proxy.allowRestart` is set (a
// maintenance window). The slots live in the volume, so a new proxy serves the live
// release from its start, and the traffic switch re-runs whenever the proxy changes.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { proxyConfigContract } from "../../contracts/proxyConfigContract";
import { proxyGuardContract } from "../../contracts/proxyGuardContract";
import { proxyHandoverContract } from "../../contracts/proxyHandoverContract";
import { proxyCertificateContract, ProxyCertificateResultSchema } from "../../contracts/proxyCertificateContract";
import {
    PORT_HOLDER_ROLE,
    PROXY_INTERNAL_PORT,
    PROXY_ROLE,
    PROXY_TLS_INTERNAL_PORT,
    portHolderName,
    proxyContainerName,
    AGENT_PORT,
} from "../../core/proxyNames";
import { SLOT_DIR } from "../../haproxy/admin";
import { type ConversationSettings, proxyMemoryMb } from "../../config/proxySettings";
import { folderDigest } from "../../components/releaseId";
import { proxyHealthCheck } from "../../components/healthChecks";
import { type AgentHealth, expectedCode } from "../../core/health";
import type { ConversationKey } from "../../core/conversationKey";
import { programCommand } from "../../components/compiledPrograms";
import { removeCertificateScript } from "./proxyCertificate";
import { AcmeCertificates } from "./acmeCertificates";
import type { AcmeConfig, TlsConfig } from "../../config/tls";
import type { EdgeRoute } from "../../core/edgeRoutes";
import { edgeLinkContract } from "../../contracts/edgeLinkContract";

export interface TrafficProxyArgs {
    app: string;
    networkName: string;
    listenAddress: string;
    port: number;
    baseImage: string;
    /** Folder holding the proxy image's Dockerfile. */
    buildContext: string;
    /** HAProxy's config template (absolute path), delivered and reloaded at run time. */
    configTemplate: string;
    /** Allow an update that replaces the proxy container (a maintenance window). */
    allowRestart: boolean;
    /** The stick table's size and idle timeout, and keyless pinning (written into the template). */
    conversations: ConversationSettings;
    /** The agent's health endpoint the proxy checks (written into the template). */
    agentHealth: AgentHealth;
    /** Where a message's conversation key is (written into the template). */
    conversationKey: ConversationKey;
    /** HTTPS (proxy.tls): absent when off. */
    tls?: ProxyTls;
    /** An edge stack's proxy: its routes (proxy/haproxy-edge.cfg.tmpl). */
    routes?: EdgeRoute[];
    /** An agent stack behind an edge (proxy.edgeNetwork): the port holder joins the edge's network. */
    edgeNetwork?: string;
}

export interface ProxyTls {
    /** The host port HTTPS is published on. */
    port: number;
    /** The host names (proxy.tls.hosts); the first is the public URL's. */
    hosts: string[];
    redirectHttp: boolean;
    /** Mode certificate: the certificate chain then its key, PEM (a Pulumi secret). */
    pemBundle?: pulumi.Input<string>;
    /** Mode acme: the ACME settings (the certificate keeper gets and renews the certificate). */
    acme?: AcmeConfig & { email: string };
}

/** How often Docker checks a running proxy (its health in `docker ps`). */
export const PROXY_HEALTH_INTERVAL_SECONDS = 30;

/** The programs of the proxy's command resources, relative to the project folder: the proxy guard, */
export const PROXY_GUARD_PROGRAM = "platform/docker/proxyGuard.ts";
/** the config delivery and reload, */
export const PROXY_CONFIG_PROGRAM = "platform/docker/proxyConfig.ts";
/** the certificate's delivery, */
export const PROXY_CERTIFICATE_PROGRAM = "platform/docker/proxyCertificate.ts";
/** the proxy hand-over, */
export const PROXY_HANDOVER_PROGRAM = "platform/docker/proxyHandover.ts";
/** and the link to an edge stack's network (proxy.edgeNetwork). */
export const EDGE_LINK_PROGRAM = "platform/docker/edgeLink.ts";
/** The default config template in the proxy folder; excluded from the image (proxy/.dockerignore), */
export const CONFIG_TEMPLATE = "haproxy.cfg.tmpl";
/** as is an edge stack's (config/edge.ts). */
export const EDGE_CONFIG_TEMPLATE = "haproxy-edge.cfg.tmpl";

/**
 * How long Pulumi waits for a replaced proxy to finish its requests and streams before it
 * removes the container: HAProxy's hard-stop-after (90 s in the default template) and a margin.
 */
export const PROXY_STOP_GRACE_SECONDS = 100;

export class TrafficProxy extends pulumi.ComponentResource {
    /** The proxy container that serves (HAProxy's admin socket is reached through it). */
    readonly containerName: pulumi.Output<string>;
    /** Its id, once it serves (after the hand-over): a new one means a new proxy (the switch re-applies the slots). */
    readonly containerId: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    /** The proxy's image (Debian, with sh and tar: the knowledge volume's copies run in it). */
    readonly imageName: pulumi.Output<string>;
    /** Fails an update that would replace the port holder, before anything changes. */
    readonly guard: command.local.Command;
    /** The edge network this proxy joined (proxy.edgeNetwork), once joined; null when none. */
    readonly edgeNetwork: pulumi.Output<string | null>;
    /** The certificate the proxy serves (proxy.tls): its serial, expiry and fingerprint; null when TLS is off. */
    readonly certificate: pulumi.Output<{ serial: string; notAfter: string; fingerprint256: string } | null>;

    constructor(name: string, args: TrafficProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:TrafficProxy", name, {}, opts);
        // Tagged by content (the proxy/ folder and the base image): a changed proxy image
        // is a new proxy container, which takes over from the old one.
        const context = path.resolve(args.buildContext);
        const runtime = folderDigest(context, (rel) => rel === CONFIG_TEMPLATE || rel === EDGE_CONFIG_TEMPLATE);
        // The memory limit follows the table size; a new limit is a new proxy container too
        // (the hand-over keeps the table), never a container changed in place.
        const memoryMb = proxyMemoryMb(args.conversations.tableSize);
        const tag = crypto.createHash("sha256").update(`${runtime}\n${args.baseImage}\n${memoryMb}`).digest("hex").slice(0, 12);
        const imageName = `${args.app}-proxy:${tag}`;
        const proxyName = proxyContainerName(args.app, tag);
        this.guard = new command.local.Command(
            `${name}-guard`,
            {
                create: programCommand(PROXY_GUARD_PROGRAM),
                update: programCommand(PROXY_GUARD_PROGRAM),
                environment: proxyGuardContract.encode({
                    app: args.app,
                    listenAddress: args.listenAddress,
                    hostPort: args.port,
                    tlsHostPort: args.tls?.port ?? 0,
                    allowRestart: args.allowRestart,
                }),
                logging: "stderr",
            },
            { parent: this },
        );
        const state = new docker.Volume(
            `${name}-state`,
            { name: `${args.app}-proxy-state`, labels: [{ label: "zdt.app", value: args.app }] },
            { parent: this },
        );
        const image = new docker.Image(
            `${name}-image`,
            {
                imageName,
                build: { context: path.resolve(args.buildContext), args: { BASE_IMAGE: args.baseImage } },
                skipPush: true,
            },
            { parent: this, dependsOn: [this.guard] },
        );

        // The port holder: publishes the port, owns the network namespace, runs nothing but
        // `sleep`. Created from the first proxy image; later images do not replace it.
        const portHolder = new docker.Container(
            `${name}-port`,
            {
                name: portHolderName(args.app),
                image: image.imageName,
                command: ["sleep", "infinity"],
                labels: [
                    { label: "zdt.app", value: args.app },
                    { label: "zdt.role", value: PORT_HOLDER_ROLE },
                ],
                networksAdvanced: [{ name: args.networkName }],
                ports: [
                    { internal: PROXY_INTERNAL_PORT, external: args.port, ip: args.listenAddress },
                    ...(args.tls ? [{ internal: PROXY_TLS_INTERNAL_PORT, external: args.tls.port, ip: args.listenAddress }] : []),
                ],
                restart: "unless-stopped",
                memory: 32,
                memorySwap: 32, // explicit: see AgentRelease (no perpetual diff with the official provider)
                stopSignal: "SIGKILL", // `sleep` as PID 1 ignores the image's stop signal
            },
            // One name, one published port: a replaced holder (new port or address) goes first.
            // Its networks are ignored after creation: behind an edge it joins the edge's network at
            // run time (the edge link), which the official provider reads back on a refresh and
            // would otherwise plan as a replacement.
            // The certificate and the config wait for it: when it is replaced (a maintenance
            // window), the proxy in its namespace is stopped first, and neither may write into
            // it or reload it meanwhile (a reload during `docker stop` loses the stop signal in
            // HAProxy's master, and the stop then waits out its whole grace: 100 s).
            { parent: this, dependsOn: [this.guard], ignoreChanges: ["image", "networksAdvanced"], deleteBeforeReplace: true },
        );

        // The certificate first: the config that loads it is checked (haproxy -c) when it is delivered.
        const certificate = args.tls?.pemBundle
            ? new command.local.Command(
                  `${name}-certificate`,
                  {
                      create: programCommand(PROXY_CERTIFICATE_PROGRAM),
                      update: programCommand(PROXY_CERTIFICATE_PROGRAM),
                      delete: removeCertificateScript(),
                      environment: proxyCertificateContract.encode({
                          proxyContainer: proxyName,
                          stateVolume: state.name,
                          proxyImage: image.imageName,
                          pemBundle: pulumi.secret(args.tls.pemBundle),
                      }),
                      logging: "stderr",
                  },
                  { parent: this, dependsOn: [image, state, portHolder] },
              )
            : undefined;

        const template = args.configTemplate;
        const config = new command.local.Command(
            `${name}-config`,
            {
                create: programCommand(PROXY_CONFIG_PROGRAM),
                update: programCommand(PROXY_CONFIG_PROGRAM),
                environment: proxyConfigContract.encode({
                    templatePath: path.relative(process.cwd(), template) || template,
                    templateDigest: crypto
                        .createHash("sha256")
                        .update(fs.readFileSync(template, "utf8").replace(/\r\n/g, "\n"))
                        .digest("hex"),
                    proxyContainer: proxyName,
                    stateVolume: state.name,
                    proxyImage: image.imageName,
                    conversations: args.conversations,
                    healthPath: args.agentHealth.path,
                    healthStatus: expectedCode(args.agentHealth.expectStatus),
                    keyPaths: args.conversationKey.paths,
                    keyFrom: args.conversationKey.from,
                    keyNames: args.conversationKey.names,
                    tlsHostPort: args.tls?.port,
                    tlsRedirectHttp: args.tls?.redirectHttp,
                    tlsAcme: args.tls?.acme !== undefined,
                    routes: args.routes,
                }),
                logging: "stderr",
            },
            { parent: this, dependsOn: [image, state, portHolder, ...(certificate ? [certificate] : [])] },
        );

        const container = new docker.Container(
            `${name}-container`,
            {
                name: proxyName,
                image: image.imageName,
                envs: [`LISTEN_PORT=${PROXY_INTERNAL_PORT}`, `AGENT_PORT=${AGENT_PORT}`],
                labels: [
                    { label: "zdt.app", value: args.app },
                    { label: "zdt.role", value: PROXY_ROLE },
                ],
                // Docker records the holder by its full id: given so, the read-back plans no diff.
                networkMode: pulumi.interpolate`container:${portHolder.id}`,
                // The slot file and the template: a new proxy starts with the live slots.
                volumes: [{ volumeName: state.name, containerPath: SLOT_DIR }],
                restart: "unless-stopped",
                memory: memoryMb,
                memorySwap: memoryMb, // explicit: see AgentRelease (no perpetual diff with the official provider)
                // For `docker ps` and monitoring only: Docker runs the check in the container every
                // interval for the proxy's whole life (a process each time, about 80 ms of CPU on a
                // 2-core machine), so not every second. The hand-over waits for the new proxy to
                // answer before anything depends on it (platform/docker/proxyHandover.ts).
                healthcheck: proxyHealthCheck({ intervalSeconds: PROXY_HEALTH_INTERVAL_SECONDS, retries: 3 }),
                wait: false,
                // A replaced proxy is deleted at the end of the update, after the hand-over
                // soft-stopped it: `docker stop` waits for its last requests and streams.
                destroyGraceSeconds: PROXY_STOP_GRACE_SECONDS,
            },
            // Explicitly create-before-delete: the official provider asks every replaced container
            // to be deleted first (container names are unique), which would close the port for
            // the moment between the two. Each proxy image has its own container name.
            { parent: this, dependsOn: [this.guard, config], deleteBeforeReplace: false },
        );

        const handover = new command.local.Command(
            `${name}-handover`,
            {
                create: programCommand(PROXY_HANDOVER_PROGRAM),
                update: programCommand(PROXY_HANDOVER_PROGRAM),
                environment: proxyHandoverContract.encode({
                    app: args.app,
                    proxyContainer: container.name,
                    proxyContainerId: container.id,
                }),
                logging: "stderr",
            },
            { parent: this },
        );

        // Behind an edge: the port holder joins the edge's network at run time (no restart); a
        // new holder or another network is a new link (the old one leaves).
        const edgeLink = args.edgeNetwork
            ? new command.local.Command(
                  `${name}-edge-link`,
                  {
                      create: programCommand(EDGE_LINK_PROGRAM),
                      delete: `${programCommand(EDGE_LINK_PROGRAM)} leave`,
                      environment: edgeLinkContract.encode({
                          edgeNetwork: args.edgeNetwork,
                          portHolder: portHolder.id,
                          alias: portHolderName(args.app),
                      }),
                      triggers: [args.edgeNetwork, portHolder.id],
                      logging: "stderr",
                  },
                  { parent: this, dependsOn: [handover] },
              )
            : undefined;

        // Mode acme: the keeper starts once the proxy serves (it answers the CA's challenges through it).
        const acme = args.tls?.acme
            ? new AcmeCertificates(
                  `${name}-acme`,
                  {
                      app: args.app,
                      hosts: args.tls.hosts,
                      acme: args.tls.acme,
                      proxyImage: image.imageName,
                      stateVolume: state.name,
                      portHolderId: portHolder.id,
                      proxyContainer: container.name,
                  },
                  { parent: this, dependsOn: [handover] },
              )
            : undefined;

        const host =
            args.listenAddress === "0.0.0.0"
                ? "127.0.0.1"
                : args.listenAddress.includes(":")
                  ? `[${args.listenAddress}]`
                  : args.listenAddress;
        // Known once the hand-over saw the proxy serve: whatever acts on the proxy comes after.
        this.containerName = pulumi.all([container.name, handover.stdout]).apply(([n]) => n);
        this.imageName = image.imageName;
        this.edgeNetwork = edgeLink ? edgeLink.stdout.apply(() => args.edgeNetwork ?? null) : pulumi.output(null);
        this.containerId = pulumi.all([container.id, handover.stdout]).apply(([id]) => id);
        this.url = pulumi.output(
            args.tls ? `https://${args.tls.hosts[0]}${args.tls.port === 443 ? "" : `:${args.tls.port}`}` : `http://${host}:${args.port}`,
        );
        // Its program prints the certificate's public facts only; the provider marks all of stdout
        // secret because the environment is.
        this.certificate = certificate
            ? pulumi.unsecret(certificate.stdout).apply((out) => {
                  const { applied: _applied, ...facts } = ProxyCertificateResultSchema.parse(JSON.parse(out));
                  return facts;
              })
            : acme
              ? acme.certificate
              : pulumi.output(null);
        this.registerOutputs({
            containerName: this.containerName,
            containerId: this.containerId,
            url: this.url,
            edgeNetwork: this.edgeNetwork,
            certificate: this.certificate,
        });
    }
}

/** HTTPS as the proxy takes it: the certificate chain then its key, one PEM, a secret; or the ACME settings. */
export function proxyTlsOf(tls: TlsConfig): ProxyTls | undefined {
    const common = { port: tls.port, hosts: tls.hosts, redirectHttp: tls.redirectHttp };
    if (tls.mode === "acme" && tls.acme.email) return { ...common, acme: { ...tls.acme, email: tls.acme.email } };
    if (tls.mode !== "certificate" || !tls.certificate || !tls.key) return undefined;
    return { ...common, pemBundle: pulumi.secret(`${tls.certificate.trim()}\n${tls.key.trim()}\n`) };
}

/** The TrafficProxy's settings that come from a stack's proxy section as they are (an agent stack's or an edge's). */
export function proxySectionArgs(
    proxy: { listenAddress: string; port: number; baseImage: string; configTemplate: string; allowRestart: boolean; tls: TlsConfig },
    projectDir: string,
): Pick<TrafficProxyArgs, "listenAddress" | "port" | "baseImage" | "buildContext" | "configTemplate" | "allowRestart" | "tls"> {
    return {
        listenAddress: proxy.listenAddress,
        port: proxy.port,
        baseImage: proxy.baseImage,
        buildContext: `${projectDir}/proxy`,
        configTemplate: path.resolve(projectDir, proxy.configTemplate),
        allowRestart: proxy.allowRestart,
        tls: proxyTlsOf(proxy.tls),
    };
}
