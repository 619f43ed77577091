// What the AcmeCertificates component gives the certificate keeper's container
// (proxy/acme-keeper.sh reads these variables; a unit test holds the two to the same names).
import { z } from "zod";
import { EnvContract } from "./envContract";

export const AcmeKeeperInputSchema = z.object({
    /** The ACME server's directory URL. */
    acmeDirectory: z.string().url(),
    /** The account's contact. */
    acmeEmail: z.string().min(3),
    /** The certificate's host names, separated by spaces (the first names lego's files). */
    acmeDomains: z.string().regex(/^\S+( \S+)*$/),
    acmeRenewDays: z.coerce.number().int().min(1),
    acmeCheckSeconds: z.coerce.number().int().min(1),
    acmeRetrySeconds: z.coerce.number().int().min(1),
    /** The bound of one lego run. */
    acmeTimeoutSeconds: z.coerce.number().int().min(1),
    /** The CA of a private ACME server's HTTPS (PEM, base64-encoded: a container's variable is one line), trusted by the keeper only. */
    acmeCaBundleBase64: z
        .string()
        .regex(/^[A-Za-z0-9+/=]+$/)
        .optional(),
});
export type AcmeKeeperInput = z.output<typeof AcmeKeeperInputSchema>;

export const acmeKeeperContract = new EnvContract("certificate keeper", AcmeKeeperInputSchema);
