// What the AcmeCertificates component gives the issuance gate (platform/docker/acmeIssuance.ts):
// the proxy to read the served certificate and the keeper's status through, the host names
// the certificate must cover, and how long to wait.
import { z } from "zod";
import { EnvContract } from "./envContract";

export const AcmeIssuanceInputSchema = z.object({
    proxyContainer: z.string().min(1),
    /** Host names the served certificate must cover. */
    hosts: z.array(z.string().min(1)).min(1),
    /** The ACME server (for the messages). */
    directory: z.string().min(1),
    timeoutSeconds: z.coerce.number().int().min(1),
    /** The keeper's container: its replacement (new settings) makes the gate wait for its first attempt. */
    keeperContainerId: z.string().min(1),
});
export type AcmeIssuanceInput = z.output<typeof AcmeIssuanceInputSchema>;

/** Its last line: the served certificate's public facts (the TrafficProxy's certificate output). */
export const AcmeIssuanceResultSchema = z.object({
    serial: z.string(),
    notAfter: z.string(),
    fingerprint256: z.string(),
});
export type AcmeIssuanceResult = z.output<typeof AcmeIssuanceResultSchema>;

export const acmeIssuanceContract = new EnvContract("ACME issuance", AcmeIssuanceInputSchema);
