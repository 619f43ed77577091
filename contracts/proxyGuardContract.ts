// What the TrafficProxy component gives the proxy guard (platform/docker/proxyGuard.ts): the
// settings whose change replaces the port holder (the container that publishes the proxy's
// port), and whether that is allowed now.
import { z } from "zod";
import { ProxySchema } from "../config/schema";
import { EnvContract } from "./envContract";

/** The layout of this version: HAProxy containers behind a port holder. */
export const PROXY_LAYOUT = "port-holder";

export const ProxyFingerprintSchema = z.object({
    listenAddress: z.string().min(1),
    hostPort: z.coerce.number().int(),
    /** HTTPS's host port (proxy.tls.port), 0 with TLS off (and in the records of versions before it). */
    tlsHostPort: z.coerce.number().int().default(0),
    layout: z.literal(PROXY_LAYOUT),
});
export type ProxyFingerprint = z.output<typeof ProxyFingerprintSchema>;

export const ProxyGuardInputSchema = ProxyFingerprintSchema.omit({ layout: true }).extend({
    /** The app: its port holder, or a proxy of the layout before it, with no fingerprint on record is not replaced silently. */
    app: z.string().min(1),
    allowRestart: ProxySchema.shape.allowRestart,
});
export type ProxyGuardInput = z.output<typeof ProxyGuardInputSchema>;

export const proxyGuardContract = new EnvContract("proxy guard", ProxyGuardInputSchema);
