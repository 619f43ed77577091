// Entry point of the traffic switch, run by the TrafficSwitch command resource:
// decodes its input (contracts/switchContract.ts), runs the release (engine/switch.ts)
// against the proxy through the Docker CLI, bounded by an overall timeout, and prints
// the result as one JSON line on stdout. Progress goes to stderr.
import { ProxyCanaryControl } from "../../haproxy/canaryControl";
import { CanaryAborted } from "../../engine/canaryRollout";
import { ancestry, goneAncestor } from "../../engine/caller";
import { containerExec, releaseLabels } from "../../docker/cli";
import { HaproxyAdmin, ProxyError } from "../../haproxy/admin";
import { ProxyProbes } from "../../haproxy/probes";
import { removeImage } from "../../docker/images";
import { dockerContainers } from "../../docker/releaseContainer";
import { retireContainer } from "../../docker/retire";
import { CONFIRM_TIMEOUT_MS, CONVERSATION_READ_MS, runSwitch, SwitchError } from "../../engine/switch";
import { encodeSwitchResult, lastSwitchResult, switchContract, type SwitchInput } from "../../contracts/switchContract";

/**
 * Slack on top of the gate and the window: the admin commands, the confirmation, and a
 * verification kept on for one more reading of active conversations.
 */
const OVERALL_SLACK_MS = 90_000 + CONFIRM_TIMEOUT_MS + CONVERSATION_READ_MS;

/**
 * The longest a run may take: the gate, the window, the conversation drain and the
 * retirement's drain (each up to drainTimeoutSeconds), plus slack for the admin commands.
 */
export function overallTimeoutMs(
    input: Pick<SwitchInput, "healthGateTimeoutSeconds" | "verifyWindowSeconds" | "drainTimeoutSeconds"> &
        Partial<Pick<SwitchInput, "strategy" | "canary">>,
): number {
    // A canary step lasts its pause, or up to twice that (plus 10 s) while it waits for enough requests.
    const canary = input.strategy === "canary" ? (input.canary?.steps ?? []).reduce((t, s) => t + 2 * s.pauseSeconds + 10, 0) : 0;
    return (input.healthGateTimeoutSeconds + input.verifyWindowSeconds + 2 * input.drainTimeoutSeconds + canary) * 1000 + OVERALL_SLACK_MS;
}

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const t0 = Date.now();
    const log = (msg: string) => process.stderr.write(`[switch +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
    const input = switchContract.decode(env);
    const exec = containerExec(input.proxyContainer);
    const deadline = setTimeout(() => {
        process.stderr.write(`traffic switch: gave up after ${Math.round((Date.now() - t0) / 1000)}s (overall timeout)\n`);
        process.exit(3);
    }, overallTimeoutMs(input));
    const callers = await ancestry(process.ppid);
    try {
        const result = await runSwitch(input, {
            admin: new HaproxyAdmin(exec, input.proxyContainer),
            probes: new ProxyProbes(exec, input.proxyPort),
            releaseOf: releaseLabels,
            retire: retireContainer,
            containers: dockerContainers,
            canaryControl: new ProxyCanaryControl(exec),
            removeImage,
            lastRun: lastSwitchResult(env.PULUMI_COMMAND_STDOUT),
            clock: { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
            log,
            stopReason: () => {
                const gone = goneAncestor(callers);
                return gone === undefined ? undefined : `the process that started it (pid ${gone}) is gone; was \`pulumi up\` killed?`;
            },
        });
        process.stdout.write(encodeSwitchResult(result) + "\n");
    } finally {
        clearTimeout(deadline);
    }
}

if (require.main === module) {
    main(process.env).catch((err: Error) => {
        const known = err instanceof SwitchError || err instanceof ProxyError || err instanceof CanaryAborted;
        process.stderr.write(`${known ? "" : "traffic switch: "}${err.message}\n`);
        process.exit(1);
    });
}
