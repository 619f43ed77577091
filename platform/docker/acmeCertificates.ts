// Certificates over ACME for the proxy (proxy.tls.mode acme), one host: the account key (a
// secret of the stack, written into the proxy's state volume), the certificate keeper (a
// container of the proxy's image in the port holder's network namespace: lego answers the
// HTTP-01 challenges the proxy forwards to it, renews before expiry and puts each new
// certificate in place through HAProxy's runtime API), and the issuance gate (the update
// goes on once the proxy serves a certificate for every host).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { programCommand } from "../../components/compiledPrograms";
import type { AcmeConfig } from "../../config/tls";
import { acmeAccountContract, AcmeAccountResultSchema } from "../../contracts/acmeAccountContract";
import { acmeIssuanceContract, AcmeIssuanceResultSchema, type AcmeIssuanceResult } from "../../contracts/acmeIssuanceContract";
import { acmeKeeperContract } from "../../contracts/acmeKeeperContract";
import { ACME_KEEPER_ROLE, acmeKeeperName } from "../../core/proxyNames";
import { SLOT_DIR } from "../../haproxy/admin";

/** The programs of its command resources, relative to the project folder. */
export const ACME_ACCOUNT_PROGRAM = "platform/docker/acmeAccount.ts";
export const ACME_ISSUANCE_PROGRAM = "platform/docker/acmeIssuance.ts";

/** The bound of one lego run inside the keeper (a CA that does not answer). */
const LEGO_TIMEOUT_SECONDS = 120;

export interface AcmeCertificatesArgs {
    app: string;
    /** The host names the certificate covers (proxy.tls.hosts). */
    hosts: string[];
    acme: AcmeConfig & { email: string };
    /** The proxy's image (it carries lego and the keeper's script), state volume and port holder. */
    proxyImage: pulumi.Input<string>;
    stateVolume: pulumi.Input<string>;
    portHolderId: pulumi.Input<string>;
    /** The proxy that serves (its admin socket; the gate reads through it). */
    proxyContainer: pulumi.Input<string>;
}

export class AcmeCertificates extends pulumi.ComponentResource {
    /** The served certificate's public facts once the gate passed. */
    readonly certificate: pulumi.Output<AcmeIssuanceResult>;
    /** The account key's JWK thumbprint (public). */
    readonly accountThumbprint: pulumi.Output<string>;
    readonly keeperName: pulumi.Output<string>;

    constructor(name: string, args: AcmeCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:AcmeCertificates", name, {}, opts);
        const seed = new random.RandomPassword(`${name}-account-seed`, { length: 48, special: false }, { parent: this });
        const account = new command.local.Command(
            `${name}-account`,
            {
                create: programCommand(ACME_ACCOUNT_PROGRAM),
                update: programCommand(ACME_ACCOUNT_PROGRAM),
                environment: acmeAccountContract.encode({
                    proxyContainer: args.proxyContainer,
                    stateVolume: args.stateVolume,
                    proxyImage: args.proxyImage,
                    accountSeed: seed.result,
                }),
                logging: "stderr",
            },
            { parent: this },
        );
        const keeper = new docker.Container(
            `${name}-keeper`,
            {
                name: acmeKeeperName(args.app),
                image: args.proxyImage,
                command: ["acme-keeper", "run"],
                envs: pulumi
                    .output(
                        acmeKeeperContract.encode({
                            acmeDirectory: args.acme.directory,
                            acmeEmail: args.acme.email,
                            acmeDomains: args.hosts.join(" "),
                            acmeRenewDays: args.acme.renewBeforeDays,
                            acmeCheckSeconds: args.acme.checkIntervalSeconds,
                            acmeRetrySeconds: args.acme.retrySeconds,
                            acmeTimeoutSeconds: LEGO_TIMEOUT_SECONDS,
                            acmeCaBundleBase64: args.acme.caCertificate
                                ? Buffer.from(args.acme.caCertificate, "utf8").toString("base64")
                                : undefined,
                        }),
                    )
                    .apply((env) => Object.entries(env).map(([k, v]) => `${k}=${v}`)),
                labels: [
                    { label: "zdt.app", value: args.app },
                    { label: "zdt.role", value: ACME_KEEPER_ROLE },
                ],
                // The proxy forwards the challenges to 127.0.0.1 of this namespace.
                networkMode: pulumi.interpolate`container:${args.portHolderId}`,
                volumes: [{ volumeName: args.stateVolume, containerPath: SLOT_DIR }],
                restart: "unless-stopped",
                memory: 64,
                memorySwap: 64, // explicit: see AgentRelease (no perpetual diff with the official provider)
                stopSignal: "SIGTERM",
            },
            { parent: this, dependsOn: [account] },
        );
        const issuance = new command.local.Command(
            `${name}-issuance`,
            {
                create: programCommand(ACME_ISSUANCE_PROGRAM),
                update: programCommand(ACME_ISSUANCE_PROGRAM),
                environment: acmeIssuanceContract.encode({
                    proxyContainer: args.proxyContainer,
                    hosts: args.hosts,
                    directory: args.acme.directory,
                    timeoutSeconds: args.acme.issueTimeoutSeconds,
                    keeperContainerId: keeper.id,
                }),
                logging: "stderr",
            },
            { parent: this },
        );
        this.certificate = issuance.stdout.apply((out) => AcmeIssuanceResultSchema.parse(JSON.parse(out.trim().split("\n").pop() ?? "")));
        // The provider marks all of stdout secret because the environment is (the seed).
        this.accountThumbprint = pulumi.unsecret(account.stdout).apply((out) => AcmeAccountResultSchema.parse(JSON.parse(out)).thumbprint);
        this.keeperName = keeper.name;
        this.registerOutputs({ certificate: this.certificate, accountThumbprint: this.accountThumbprint, keeperName: this.keeperName });
    }
}
