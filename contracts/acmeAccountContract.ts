// What the AcmeCertificates component gives the ACME account program
// (platform/docker/acmeAccount.ts): the seed of the account key (a Pulumi secret, in the
// command's environment only) and the proxy's state volume it writes the key into.
import { z } from "zod";
import { EnvContract } from "./envContract";
import { ProxyStateTargetSchema } from "./proxyStateTarget";

export const AcmeAccountInputSchema = ProxyStateTargetSchema.extend({
    accountSeed: z.string().min(32),
});
export type AcmeAccountInput = z.output<typeof AcmeAccountInputSchema>;

/** Its last line: the key's public JWK thumbprint (not secret). */
export const AcmeAccountResultSchema = z.object({ thumbprint: z.string() });

export const acmeAccountContract = new EnvContract("ACME account", AcmeAccountInputSchema);
