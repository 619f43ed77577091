import { type ContainerState } from "./ports";
// The health gate's fast failure: a new release's container that exited, died or was
// restarted by its restart policy will not become healthy by waiting, so the gate fails
// at once instead of after healthGateTimeoutSeconds (pure; see engine/switch.ts).

/**
 * Why the release's container has crashed since the gate began (`restartsAtStart` is its
 * restart count then), or undefined while it may still become healthy.
 */
export function crashOf(state: ContainerState | undefined, restartsAtStart: number): string | undefined {
    if (!state) return "its container is gone";
    const restarts = state.restartCount - restartsAtStart;
    // Docker resets the exit code when it starts the container again: it is only known
    // while the container is down (restarting or exited).
    const code = state.running && state.status !== "restarting" ? "" : ` (last exit code ${state.exitCode})`;
    if (restarts > 0)
        return `its container crashed and was restarted ${restarts} time${restarts === 1 ? "" : "s"} by its restart policy${code}`;
    if (state.status === "restarting")
        return `its container crashed (exit code ${state.exitCode}) and is being restarted by its restart policy`;
    if (state.status === "exited" || state.status === "dead")
        return `its container ${state.status === "dead" ? "died" : "exited"} with code ${state.exitCode}`;
    return undefined;
}
