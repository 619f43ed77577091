// What the TrafficProxy component gives the proxy guard (rollout/proxyGuard.ts): the
// settings whose change replaces the proxy container, and whether that is allowed now.
import { z } from "zod";
import { ProxySchema } from "../components/config";
import { EnvContract } from "./envContract";

export const ProxyFingerprintSchema = z.object({
    /** The proxy image (its tag digests the proxy/ folder and the base image). */
    proxyImage: z.string().min(1),
    listenAddress: z.string().min(1),
    hostPort: z.coerce.number().int(),
});
export type ProxyFingerprint = z.output<typeof ProxyFingerprintSchema>;

export const ProxyGuardInputSchema = ProxyFingerprintSchema.extend({
    /** The proxy container's name: a container that exists with no fingerprint on record is not replaced silently. */
    proxyContainer: z.string().min(1),
    allowRestart: ProxySchema.shape.allowRestart,
});
export type ProxyGuardInput = z.output<typeof ProxyGuardInputSchema>;

export const proxyGuardContract = new EnvContract("proxy guard", ProxyGuardInputSchema);
