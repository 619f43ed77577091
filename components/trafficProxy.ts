// The reverse proxy in front of the agents: HAProxy with two server slots (blue
// and green) that the traffic switch re-points and re-weights at run time through
// the admin socket. It is the only container with a published port.
//
// Changing the proxy itself (port, address, image) replaces this container and is
// not on the release path: do it in a maintenance window.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as path from "path";
import { AGENT_PORT } from "./agentRelease";
import { folderDigest } from "./releaseId";

export interface TrafficProxyArgs {
    app: string;
    networkName: string;
    listenAddress: string;
    port: number;
    baseImage: string;
    /** Folder holding the proxy image's Dockerfile. */
    buildContext: string;
}

/** The port HAProxy listens on inside its container. */
export const PROXY_INTERNAL_PORT = 8080;

export class TrafficProxy extends pulumi.ComponentResource {
    readonly containerName: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: TrafficProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:TrafficProxy", name, {}, opts);
        // Tagged by content: a changed proxy image reaches the container (by replacing it,
        // which the release helper refuses without --allow-proxy-restart).
        const image = new docker.Image(
            `${name}-image`,
            {
                imageName: `${args.app}-proxy:${folderDigest(path.resolve(args.buildContext)).slice(0, 12)}`,
                build: { context: path.resolve(args.buildContext), args: { BASE_IMAGE: args.baseImage } },
                skipPush: true,
            },
            { parent: this },
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
                ports: [{ internal: PROXY_INTERNAL_PORT, external: args.port, ip: args.listenAddress }],
                restart: "unless-stopped",
                memory: 256,
                healthcheck: {
                    tests: ["CMD", "sh", "-c", "echo 'show info' | socat stdio /run/haproxy/admin.sock | grep -q '^Name: HAProxy'"],
                    interval: "1s",
                    retries: 10,
                },
                wait: true,
                waitTimeout: 60,
            },
            { parent: this },
        );

        const host =
            args.listenAddress === "0.0.0.0"
                ? "127.0.0.1"
                : args.listenAddress.includes(":")
                  ? `[${args.listenAddress}]`
                  : args.listenAddress;
        this.containerName = container.name;
        this.url = pulumi.output(`http://${host}:${args.port}`);
        this.registerOutputs({ containerName: this.containerName, url: this.url });
    }
}
