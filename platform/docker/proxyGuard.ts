// The proxy guard, run by a command resource everything of the proxy depends on: when an
// update would replace the port holder (the container that publishes the proxy's port:
// a new port or address, HTTPS turned on or off or moved), which refuses and closes every client connection for a moment,
// it fails the update before anything changes, unless `proxy.allowRestart` is set for a
// maintenance window. A new proxy image needs no window: it starts beside the old proxy and
// takes its sockets over (platform/docker/proxyHandover.ts). It prints the fingerprint, which the
// command provider hands to the next run (PULUMI_COMMAND_STDOUT) to compare against.
//   The first update after the version that added the port holder replaces the single proxy
// container of before (it published the port itself): refused too, and in the window the
// guard stops that container, so the port holder can take its port.
import { docker } from "../../docker/cli";
import {
    PROXY_LAYOUT,
    type ProxyFingerprint,
    ProxyFingerprintSchema,
    type ProxyGuardInput,
    proxyGuardContract,
} from "../../contracts/proxyGuardContract";
import { legacyProxyName, portHolderName } from "../../core/proxyNames";

const LABELS: Record<"listenAddress" | "hostPort" | "tlsHostPort", string> = {
    listenAddress: "proxy.listenAddress",
    hostPort: "proxy.port",
    tlsHostPort: "proxy.tls.port",
};
const shown = (k: keyof typeof LABELS, v: string | number) => (k === "tlsHostPort" && Number(v) === 0 ? "off" : String(v));

const HOW =
    "Nothing was changed. Run it in a maintenance window: pulumi config set proxy.allowRestart true, pulumi up, then pulumi config rm proxy.allowRestart.";

/** What exists of the app's proxy when the guard runs. */
export interface ProxyPresence {
    portHolder: boolean;
    /** A proxy container of the layout before the port holder (it publishes the port itself). */
    legacy: boolean;
}

/**
 * The refusal, or undefined when the update may go on. `previous` is the fingerprint the
 * last successful run recorded.
 */
export function guardVerdict(previous: ProxyFingerprint | undefined, input: ProxyGuardInput, present: ProxyPresence): string | undefined {
    if (input.allowRestart) return undefined;
    if (present.legacy)
        return `the proxy container ${legacyProxyName(input.app)} publishes the port itself (the layout before the port holder); this update replaces it by a port holder and a proxy behind it, which closes every client connection for a moment. ${HOW}`;
    if (!previous) {
        return present.portHolder
            ? `the port holder ${portHolderName(input.app)} exists, but this stack has no record of its settings, so this update may replace it, which closes every client connection for a moment. ${HOW}`
            : undefined;
    }
    const changed = (Object.keys(LABELS) as (keyof typeof LABELS)[]).filter((k) => String(previous[k]) !== String(input[k]));
    if (changed.length === 0) return undefined;
    const what = changed.map((k) => `${LABELS[k]} ${shown(k, previous[k])} -> ${shown(k, input[k])}`).join(", ");
    return `this update replaces the container publishing the proxy's port (${what}), which closes every client connection for a moment. ${HOW}`;
}

export function previousFingerprint(stdout: string | undefined): ProxyFingerprint | undefined {
    try {
        return ProxyFingerprintSchema.parse(JSON.parse(stdout ?? ""));
    } catch {
        return undefined;
    }
}

const exists = (name: string) =>
    docker(["inspect", "--format", "{{.Id}}", name]).then(
        () => true,
        () => false,
    );

if (require.main === module) {
    (async () => {
        const input = proxyGuardContract.decode(process.env);
        const previous = previousFingerprint(process.env.PULUMI_COMMAND_STDOUT);
        const legacy = legacyProxyName(input.app);
        const present = { portHolder: await exists(portHolderName(input.app)), legacy: await exists(legacy) };
        const refusal = guardVerdict(previous, input, present);
        if (refusal) {
            process.stderr.write(`proxy guard: ${refusal}\n`);
            process.exit(1);
        }
        if (present.legacy) {
            // Maintenance window: free the port for the port holder (Pulumi then deletes the stopped container).
            await docker(["stop", "--time", "10", legacy], undefined, 30_000);
            process.stderr.write(`proxy guard: maintenance window: stopped ${legacy} (it published the port itself) for the port holder\n`);
        }
        const fingerprint: ProxyFingerprint = {
            listenAddress: input.listenAddress,
            hostPort: input.hostPort,
            tlsHostPort: input.tlsHostPort,
            layout: PROXY_LAYOUT,
        };
        process.stdout.write(JSON.stringify(fingerprint) + "\n");
    })().catch((err: Error) => {
        process.stderr.write(`proxy guard: ${err.message}\n`);
        process.exit(1);
    });
}
