// What the TrafficProxy component gives the proxy-certificate program
// (platform/docker/proxyCertificate.ts): the certificate and key to serve (a Pulumi secret,
// in the command's environment only), and where they go.
import { z } from "zod";
import { EnvContract } from "./envContract";
import { ProxyStateTargetSchema } from "./proxyStateTarget";

export const ProxyCertificateInputSchema = ProxyStateTargetSchema.extend({
    /** The certificate chain then its key, PEM: a secret. */
    pemBundle: z.string().includes("-----BEGIN CERTIFICATE-----").includes("PRIVATE KEY-----"),
});
export type ProxyCertificateInput = z.output<typeof ProxyCertificateInputSchema>;

/** What the program prints on its last line (not secret: the certificate's public facts). */
export const ProxyCertificateResultSchema = z.object({
    serial: z.string(),
    notAfter: z.string(),
    fingerprint256: z.string(),
    /** runtime: replaced in the running proxy; file: written for the proxy's (re)load. */
    applied: z.enum(["runtime", "file"]),
});
export type ProxyCertificateResult = z.output<typeof ProxyCertificateResultSchema>;

export const proxyCertificateContract = new EnvContract("proxy certificate", ProxyCertificateInputSchema);
