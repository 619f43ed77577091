// The reverse proxy in front of the agents: HAProxy with two server slots (blue
// and green) that the traffic switch re-points and re-weights at run time through
// the admin socket. It is the only container with a published port.
//
// HAProxy's config (proxy/haproxy.cfg.tmpl) is not part of the image: a command delivers
// it into the proxy's state volume and reloads the running proxy seamlessly, so a config
// change replaces nothing and resets no connection. Changing the proxy's runtime (port,
// address, base image, Dockerfile, start-proxy.sh) replaces this container, which closes
// client connections: the proxy guard fails such an update before anything changes
// unless `proxy.allowRestart` is set (a maintenance window).
// The slots live in a volume, so a replaced proxy comes back serving the live release,
// and the traffic switch re-runs whenever the proxy container changes.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AGENT_PORT } from "./agentRelease";
import { proxyConfigContract } from "../rollout/proxyConfigContract";
import { proxyGuardContract } from "../rollout/proxyGuardContract";
import { SLOT_DIR } from "../rollout/haproxy";
import { folderDigest } from "./releaseId";

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
}

/** The command line of the proxy guard, relative to the project folder. */
export const PROXY_GUARD_COMMAND = "node -r ts-node/register/transpile-only rollout/proxyGuard.ts";
/** The command line of the config delivery and reload, relative to the project folder. */
export const PROXY_CONFIG_COMMAND = "node -r ts-node/register/transpile-only rollout/proxyConfig.ts";
/** The default config template in the proxy folder; excluded from the image (proxy/.dockerignore). */
export const CONFIG_TEMPLATE = "haproxy.cfg.tmpl";

/** The port HAProxy listens on inside its container. */
export const PROXY_INTERNAL_PORT = 8080;

export class TrafficProxy extends pulumi.ComponentResource {
    readonly containerName: pulumi.Output<string>;
    /** The container's id: a new one means a new proxy (the switch re-applies the slots). */
    readonly containerId: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    /** Fails an update that would replace the proxy container, before anything changes. */
    readonly guard: command.local.Command;

    constructor(name: string, args: TrafficProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:TrafficProxy", name, {}, opts);
        // Tagged by content (the proxy/ folder and the base image): a changed proxy image
        // reaches the container, by replacing it, which the guard allows only on request.
        const context = path.resolve(args.buildContext);
        const runtime = folderDigest(context, (rel) => rel === CONFIG_TEMPLATE);
        const tag = crypto.createHash("sha256").update(`${runtime}\n${args.baseImage}`).digest("hex").slice(0, 12);
        const imageName = `${args.app}-proxy:${tag}`;
        this.guard = new command.local.Command(
            `${name}-guard`,
            {
                create: PROXY_GUARD_COMMAND,
                update: PROXY_GUARD_COMMAND,
                environment: proxyGuardContract.encode({
                    proxyContainer: `${args.app}-proxy`,
                    proxyImage: imageName,
                    listenAddress: args.listenAddress,
                    hostPort: args.port,
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

        const template = args.configTemplate;
        const config = new command.local.Command(
            `${name}-config`,
            {
                create: PROXY_CONFIG_COMMAND,
                update: PROXY_CONFIG_COMMAND,
                environment: proxyConfigContract.encode({
                    templatePath: path.relative(process.cwd(), template) || template,
                    templateDigest: crypto
                        .createHash("sha256")
                        .update(fs.readFileSync(template, "utf8").replace(/\r\n/g, "\n"))
                        .digest("hex"),
                    proxyContainer: `${args.app}-proxy`,
                    stateVolume: state.name,
                    proxyImage: image.imageName,
                }),
                logging: "stderr",
            },
            { parent: this, dependsOn: [image, state] },
        );

        const container = new docker.Container(
            `${name}-container`,
            {
                name: `${args.app}-proxy`,
                image: image.imageName,
                envs: [`LISTEN_PORT=${PROXY_INTERNAL_PORT}`, `AGENT_PORT=${AGENT_PORT}`],
                labels: [
                    { label: "zdt.app", value: args.app },
                    { label: "zdt.role", value: "proxy" },
                ],
                networksAdvanced: [{ name: args.networkName }],
                // The slot file: a replaced proxy starts with the live slots.
                volumes: [{ volumeName: state.name, containerPath: SLOT_DIR }],
                ports: [{ internal: PROXY_INTERNAL_PORT, external: args.port, ip: args.listenAddress }],
                restart: "unless-stopped",
                memory: 256,
                memorySwap: 256, // explicit: see AgentRelease (no perpetual diff with the official provider)
                healthcheck: {
                    tests: ["CMD", "sh", "-c", "echo 'show info' | socat stdio /run/haproxy/admin.sock | grep -q '^Name: HAProxy'"],
                    interval: "1s",
                    retries: 10,
                },
                wait: true,
                waitTimeout: 60,
            },
            // One name, one published port: the old container must go before the new one starts.
            { parent: this, dependsOn: [this.guard, config], deleteBeforeReplace: true },
        );

        const host =
            args.listenAddress === "0.0.0.0"
                ? "127.0.0.1"
                : args.listenAddress.includes(":")
                  ? `[${args.listenAddress}]`
                  : args.listenAddress;
        this.containerName = container.name;
        this.containerId = container.id;
        this.url = pulumi.output(`http://${host}:${args.port}`);
        this.registerOutputs({ containerName: this.containerName, containerId: this.containerId, url: this.url });
    }
}
