// Bringing the new release up on the idle slot and gating it: the slot points at it with
// weight 0 (checked by the proxy, given no traffic); /health through the proxy, pinned to
// the slot, must answer 200 from the new release GATE_STREAK times in a row while the
// proxy's own check sees it UP. A container that exits or is restarted fails at once; one
// that stays unhealthy fails at healthGateTimeoutSeconds. A failed gate stops the
// container (it never had traffic) and quotes its last log lines.
import { dockerTimeoutHint, failedChecks, healthOk } from "../core/health";
import { slotOfServer } from "../core/slots";
import { crashOf } from "./crash";
import type { HealthAnswer } from "./ports";
import { checkpoint, FAILED_LOG_LINES, GATE_POLL_MS, GATE_STREAK, SwitchError, type SwitchRun } from "./switchRun";

/** Points the idle slot at the new release and starts its container if an earlier failed gate stopped it; resolves to its restart count. */
export async function bringUp(run: SwitchRun): Promise<number> {
    const { deps, input, live, liveInfo, before, slot } = run;
    const target = input.targetContainer;
    deps.log(
        `live: ${live ? `${live} (${liveInfo?.release ?? before[live].fqdn})` : "none (first deploy)"}; bringing ${input.targetRelease} up on ${slot}`,
    );
    await deps.admin.assign(slot, target);
    // A release whose gate failed before was stopped (so it would not crash-loop);
    // running the same config again starts it and gates it again.
    let state = await deps.containers.state(target);
    if (state && !state.running && state.status !== "restarting") {
        deps.log(`starting ${target} (${state.status}, left by an earlier failed gate)`);
        await deps.containers.start(target);
        state = await deps.containers.state(target);
    }
    return state?.restartCount ?? 0;
}

export async function healthGate(run: SwitchRun, restartsAtStart: number): Promise<void> {
    const { deps, input, slot } = run;
    const { clock, admin, probes } = deps;
    const target = input.targetContainer;
    const gateStart = clock.now();
    let last: HealthAnswer = { code: 0, body: "", ms: 0 };
    let streak = 0;
    for (;;) {
        checkpoint(run, "the health gate");
        const state = await deps.containers.state(target);
        const crash = crashOf(state, restartsAtStart);
        if (crash) await gateFailed(run, crash);
        last = await probes.slotHealth(slot);
        const s = (await admin.slots())[slot];
        // The answer's identity is the proxy's (the slot's server answered); an agent that names
        // its release must name this one.
        const fromTarget = slotOfServer(last.server) === slot && (last.release === undefined || last.release === input.targetRelease);
        // With the image's own HEALTHCHECK (agent.health.docker image), Docker must say healthy too.
        const dockerOk = !input.gateOnDockerHealth || state?.health?.status === "healthy";
        streak = healthOk(last.code, input.healthStatus) && fromTarget && s.up && dockerOk ? streak + 1 : 0;
        if (streak >= GATE_STREAK) break;
        if (clock.now() - gateStart > input.healthGateTimeoutSeconds * 1000) {
            const from =
                last.release && last.release !== input.targetRelease
                    ? ` (answered by ${last.release}, not the new release)`
                    : last.code && slotOfServer(last.server) !== slot
                      ? ` (answered by the proxy's server ${last.server ?? "(unnamed)"}, not ${slot})`
                      : "";
            const dockerHealth = state?.health
                ? `; Docker's health check: ${state.health.status}${state.health.lastOutput ? `, last output ${state.health.lastOutput}` : ""}` +
                  dockerTimeoutHint(state.health.lastOutput, input.gateOnDockerHealth)
                : "";
            await gateFailed(
                run,
                `did not pass ${input.healthPath} through the proxy within ${input.healthGateTimeoutSeconds}s ` +
                    `(last answer ${last.code || "none"}${from}: ${failedChecks(last.body)}${dockerHealth})`,
            );
        }
        await clock.sleep(GATE_POLL_MS);
    }
    run.phases.healthGateMs = clock.now() - gateStart;
    deps.log(`health gate passed in ${run.phases.healthGateMs} ms (/health ${last.ms} ms)`);
}

/** No request may ride a connection the slot opened to the release it held before. */
export async function emptyPool(run: SwitchRun): Promise<void> {
    const { deps, input, slot } = run;
    const poolStart = deps.clock.now();
    const emptied = await deps.admin.emptyPool(slot, input.drainTimeoutSeconds * 1000, (ms) => deps.clock.sleep(ms));
    run.phases.emptyPoolMs = deps.clock.now() - poolStart;
    if (emptied) deps.log(`${slot}: ${emptied} (opened before the gate passed)`);
}

async function gateFailed(run: SwitchRun, why: string): Promise<never> {
    const { input, live } = run;
    return refuseRelease(run, `health gate: ${input.targetRelease} ${why}; traffic stays on ${live ?? "nothing"}.`, true);
}

/**
 * A release refused before it had any traffic (its health gate, its evaluation): its slot in
 * maintenance, its container stopped (so it does not crash-loop), the update failed with
 * `message`, and the release's last log lines when they say why.
 */
export async function refuseRelease(run: SwitchRun, message: string, quoteLogs: boolean): Promise<never> {
    const { deps, input, slot } = run;
    const target = input.targetContainer;
    await deps.admin.maint(slot);
    const logs = quoteLogs ? (await deps.containers.lastLogs(target, FAILED_LOG_LINES)).trimEnd() : "";
    const stopped = await deps.containers.stop(target).then(
        () => `${target} is stopped; the next \`pulumi up\` starts it again (same config) or replaces it (changed config).`,
        (err: Error) => `${target} could not be stopped: ${err.message}`,
    );
    throw new SwitchError(
        `${message} ${stopped}` +
            (quoteLogs ? `\nLast ${FAILED_LOG_LINES} log lines of ${target}:\n${logs.replace(/^/gm, "  | ") || "  | (none)"}` : ""),
    );
}
