// Waits for the proxy's rolling update on Docker Swarm: the official provider returns as soon
// as the manager took the new service spec (a global service has no convergeConfig), while
// Swarm replaces one node's proxy after another. `pulumi up` should say when that is over,
// and fail when Swarm rolled it back. Done when no update is under way and every task that
// should run runs the new image; failed when the update was rolled back or paused. Through
// the manager (DOCKER_HOST). Run by a command resource of the SwarmProxy:
//   node proxyRollout.js
import { docker } from "../../docker/cli";
import { type ProxyRolloutInput, proxyRolloutContract } from "../../contracts/proxyRolloutContract";
import { runCommandProgram } from "../../contracts/commandProgram";

/** The rollout's state from the service's update status and its tasks (pure). */
export function rolloutState(
    update: { state: string; message: string },
    tasks: { image: string; current: string }[],
    image: string,
): { done: true } | { done: false; failed?: string; waiting: string } {
    if (/^(rollback_|paused)/.test(update.state))
        return { done: false, failed: `Swarm ${update.state.replace("_", " ")} the proxy's update: ${update.message}`, waiting: "" };
    const behind = tasks.filter((t) => t.image !== image || !t.current.startsWith("Running"));
    if (update.state === "updating" || behind.length > 0 || tasks.length === 0)
        return {
            done: false,
            waiting: `${tasks.length - behind.length} of ${tasks.length} proxies run the new image${update.state ? ` (update ${update.state})` : ""}`,
        };
    return { done: true };
}

async function read(service: string) {
    const [state = "", message = ""] = (
        await docker([
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}{{end}}",
            service,
        ])
    )
        .trim()
        .split("|");
    const tasks = (
        await docker([
            "service",
            "ps",
            service,
            "--no-trunc",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Image}}|{{.CurrentState}}",
        ])
    )
        .split("\n")
        .filter(Boolean)
        .map((l) => {
            const [image, current] = l.split("|");
            return { image, current };
        });
    return { update: { state, message }, tasks };
}

export async function waitForRollout(
    input: ProxyRolloutInput,
    log: (m: string) => void,
    clock = { now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) },
): Promise<string> {
    const start = clock.now();
    let said = "";
    for (;;) {
        const { update, tasks } = await read(input.service);
        const s = rolloutState(update, tasks, input.image);
        if (s.done) return `${input.service}: every proxy runs ${input.image} (${((clock.now() - start) / 1000).toFixed(1)} s)`;
        if (s.failed) throw new Error(s.failed);
        if (s.waiting !== said) log(`${input.service}: ${(said = s.waiting)}`);
        if (clock.now() - start > input.timeoutSeconds * 1000)
            throw new Error(`${input.service}: the rolling update is not over after ${input.timeoutSeconds} s: ${s.waiting}`);
        await clock.sleep(1000);
    }
}

if (require.main === module)
    runCommandProgram("proxy rollout", proxyRolloutContract, async (input) => ({
        said: await waitForRollout(input, (m) => process.stderr.write(`proxy rollout: ${m}\n`)),
        result: { service: input.service, image: input.image },
    }));
