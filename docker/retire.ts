// Retires a release's container with the drain of the current config: writes the drain
// into the container (the agent reads it when it gets SIGTERM), stops the container
// (`docker stop` also tells the restart policy to leave it stopped), and reads from its
// log how many streams outlived the drain and got the final `retired` event.
import { docker } from "./cli";

/** Slack for the agent to end its streams and exit after the drain, before Docker kills it. */
const EXIT_SLACK_SECONDS = 10;
export const DRAIN_FILE = "/tmp/zdt-drain-ms";

/** The count the agent logs when it stops ("retired: N streams ended at the drain deadline"). */
export function streamsCutFromLog(log: string): number {
    const lines = [...log.matchAll(/^retired: (\d+) streams ended at the drain deadline$/gm)];
    return lines.length ? Number(lines[lines.length - 1][1]) : 0;
}

export async function retireContainer(container: string, drainMs: number): Promise<number> {
    const running = (await docker(["inspect", "--format", "{{.State.Running}}", container]).catch(() => "false")).trim() === "true";
    if (!running) return 0;
    await docker(["exec", "-i", container, "sh", "-c", `cat > ${DRAIN_FILE}`], String(drainMs)).catch(() => undefined);
    const stopSeconds = Math.ceil(drainMs / 1000) + EXIT_SLACK_SECONDS;
    await docker(["stop", "--time", String(stopSeconds), container], undefined, (stopSeconds + 30) * 1000);
    const logs = await docker(["logs", "--tail", "50", container]).catch(() => "");
    return streamsCutFromLog(logs);
}
