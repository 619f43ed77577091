// The switch program's run, the same on every platform: decodes the input the command
// resource passed, runs the release (engine/switch.ts) with the platform's adapters,
// bounded by an overall timeout, stops at a safe point when the `pulumi up` that started
// it is gone, and prints the result as one JSON line on stdout. Progress goes to stderr.
// The platforms' entry points (platform/docker/oneHostSwitch.ts,
// platform/swarm/swarmSwitch.ts) only build their adapters.
import { CanaryAborted } from "./canaryRollout";
import { ancestry, goneAncestor } from "./caller";
import { judgeOf } from "./judge";
import { type Clock, ProxyError } from "./ports";
import { CONFIRM_TIMEOUT_MS, CONVERSATION_READ_MS, runSwitch, type SwitchDeps, SwitchError } from "./switch";
import { encodeSwitchResult, lastSwitchResult, type SwitchInput, type SwitchResult } from "../contracts/switchContract";

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
        Partial<Pick<SwitchInput, "strategy" | "canary" | "evaluation">>,
): number {
    // A canary step lasts its pause, or up to twice that (plus 10 s) while it waits for enough requests.
    const canary = input.strategy === "canary" ? (input.canary?.steps ?? []).reduce((t, s) => t + 2 * s.pauseSeconds + 10, 0) : 0;
    // The evaluation: every turn may take its timeout and, with a rubric, the judge's (both releases at once).
    const ev = input.evaluation;
    const evaluation = ev
        ? ev.cases.reduce(
              (t, c) => t + c.turns.reduce((u, x) => u + ev.turnTimeoutSeconds + (x.expect.judge ? ev.judgeTimeoutSeconds : 0) + 10, 0),
              0,
          )
        : 0;
    return (
        (input.healthGateTimeoutSeconds + evaluation + input.verifyWindowSeconds + 2 * input.drainTimeoutSeconds + canary) * 1000 +
        OVERALL_SLACK_MS
    );
}

/** What a platform's entry point builds: its adapters, given the run's log and clock. */
export type PlatformAdapters = Omit<SwitchDeps, "log" | "clock" | "lastRun" | "stopReason" | "judge">;

export interface SwitchProgram<I extends SwitchInput, A extends PlatformAdapters = PlatformAdapters> {
    /** The platform's input, decoded from the environment (its contract). */
    decode(env: NodeJS.ProcessEnv): I;
    adapters(input: I, run: { log: (message: string) => void; clock: Clock }): A;
    /** Called after a successful release, before the result is printed: a platform's own remarks, and its additions to the result. */
    after?(adapters: A, result: SwitchResult, log: (message: string) => void): SwitchResult;
}

/** One run of the switch program; resolves when the result is on stdout. */
export async function runSwitchProgram<I extends SwitchInput, A extends PlatformAdapters>(
    program: SwitchProgram<I, A>,
    env: NodeJS.ProcessEnv,
): Promise<void> {
    const t0 = Date.now();
    const log = (msg: string) => process.stderr.write(`[switch +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
    const input = program.decode(env);
    const clock: Clock = { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const adapters = program.adapters(input, { log, clock });
    const deadline = setTimeout(() => {
        process.stderr.write(`traffic switch: gave up after ${Math.round((Date.now() - t0) / 1000)}s (overall timeout)\n`);
        process.exit(3);
    }, overallTimeoutMs(input));
    const callers = await ancestry(process.ppid);
    try {
        const result = await runSwitch(input, {
            ...adapters,
            ...judgeOf(input.evaluation),
            lastRun: lastSwitchResult(env.PULUMI_COMMAND_STDOUT),
            clock,
            log,
            stopReason: () => {
                const gone = goneAncestor(callers);
                return gone === undefined ? undefined : `the process that started it (pid ${gone}) is gone; was \`pulumi up\` killed?`;
            },
        });
        const final = program.after ? program.after(adapters, result, log) : result;
        await new Promise<void>((resolve) => process.stdout.write(encodeSwitchResult(final) + "\n", () => resolve()));
    } finally {
        clearTimeout(deadline);
    }
}

/** The entry point's end after a result: at once, not when the last handle of a child process or socket closes. */
export function exitOnSuccess(): never {
    process.exit(0);
}

/** The entry point's last word: a known failure's message as it is, anything else named, exit 1. */
export function exitOnFailure(err: Error): never {
    const known = err instanceof SwitchError || err instanceof ProxyError || err instanceof CanaryAborted;
    process.stderr.write(`${known ? "" : "traffic switch: "}${err.message}\n`);
    process.exit(1);
}
