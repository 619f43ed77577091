// The proxy guard, run by a command resource that the proxy container depends on: when
// an update would replace the proxy container (which closes every client connection),
// it fails the update before anything changes, unless `proxy.allowRestart` is set for a
// maintenance window. It prints the proxy's fingerprint, which the command provider
// hands to the next run (PULUMI_COMMAND_STDOUT) to compare against.
import { docker } from "./docker";
import { ProxyFingerprint, ProxyFingerprintSchema, ProxyGuardInput, proxyGuardContract } from "./proxyGuardContract";

const LABELS: Record<keyof ProxyFingerprint, string> = {
    proxyImage: "image",
    listenAddress: "proxy.listenAddress",
    hostPort: "proxy.port",
};

const HOW =
    "Nothing was changed. Run it in a maintenance window: pulumi config set proxy.allowRestart true, pulumi up, then pulumi config rm proxy.allowRestart.";

/**
 * The refusal, or undefined when the update may go on. `previous` is the fingerprint the
 * last successful run recorded; `containerExists` whether a proxy container is there.
 */
export function guardVerdict(previous: ProxyFingerprint | undefined, input: ProxyGuardInput, containerExists: boolean): string | undefined {
    if (input.allowRestart) return undefined;
    if (!previous) {
        // No record, but a proxy serves: an upgrade of this program (or lost state) that may replace it.
        return containerExists
            ? `the proxy container ${input.proxyContainer} exists, but this stack has no record of its settings (first run of this version?), so this update may replace it, which closes every client connection for a moment. ${HOW}`
            : undefined;
    }
    const changed = (Object.keys(LABELS) as (keyof ProxyFingerprint)[]).filter((k) => String(previous[k]) !== String(input[k]));
    if (changed.length === 0) return undefined;
    const what = changed.map((k) => `${LABELS[k]} ${previous[k]} -> ${input[k]}`).join(", ");
    return `this update replaces the proxy container (${what}), which closes every client connection for a moment. ${HOW}`;
}

export function previousFingerprint(stdout: string | undefined): ProxyFingerprint | undefined {
    try {
        return ProxyFingerprintSchema.parse(JSON.parse(stdout ?? ""));
    } catch {
        return undefined;
    }
}

if (require.main === module) {
    (async () => {
        const input = proxyGuardContract.decode(process.env);
        const previous = previousFingerprint(process.env.PULUMI_COMMAND_STDOUT);
        const exists = previous
            ? true
            : await docker(["inspect", "--format", "{{.Id}}", input.proxyContainer]).then(
                  () => true,
                  () => false,
              );
        const refusal = guardVerdict(previous, input, exists);
        if (refusal) {
            process.stderr.write(`proxy guard: ${refusal}\n`);
            process.exit(1);
        }
        const { proxyImage, listenAddress, hostPort } = input;
        process.stdout.write(JSON.stringify({ proxyImage, listenAddress, hostPort }) + "\n");
    })().catch((err: Error) => {
        process.stderr.write(`proxy guard: ${err.message}\n`);
        process.exit(1);
    });
}
