// The only way the rollout programs reach containers: the Docker CLI, bounded by a
// timeout. Nothing goes through localhost, so DOCKER_HOST=ssh://user@vps works.
import { execFile } from "child_process";

export const EXEC_TIMEOUT_MS = 15_000;

/** Runs a command in one container (`docker exec -i`), with `input` on its stdin. */
export type ContainerExec = (args: string[], input?: string, timeoutMs?: number) => Promise<string>;

/** How long a command waits for the Docker daemon to come back (a restart or upgrade of the engine). */
export const DAEMON_OUTAGE_MS = 90_000;
const DAEMON_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|daemon is not running/i;

/**
 * Runs `attempt` again while it fails because the Docker daemon is unreachable, for up to
 * `outageMs`. With the engine's live restore the containers keep serving meanwhile, so a
 * release rides out the outage instead of failing. Every command the rollout programs
 * send is idempotent (absolute weights, reads, whole-file writes), so a retry is safe.
 */
export async function ridingOutDaemonOutage<T>(
    attempt: () => Promise<T>,
    clock: { now(): number; sleep(ms: number): Promise<void> } = { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    outageMs = DAEMON_OUTAGE_MS,
    onWait: (err: Error) => void = (err) => process.stderr.write(`docker daemon unreachable, retrying: ${err.message}\n`),
): Promise<T> {
    const start = clock.now();
    let warned = false;
    for (;;) {
        try {
            return await attempt();
        } catch (err) {
            const e = err as Error;
            if (!DAEMON_DOWN.test(e.message) || clock.now() - start > outageMs) throw e;
            if (!warned) onWait(e);
            warned = true;
            await clock.sleep(1000);
        }
    }
}

/** A docker command that failed without a word on stderr (Node's "Command failed: docker ..."). */
const SILENT_FAILURE = /Command failed: docker /;

/**
 * A command under way when the daemon stops (an exec's stream cut) fails without saying why.
 * When the daemon then does not answer (`answers`, asked only for such a failure), the error
 * says so, and the outage is ridden out like any other; otherwise it is the command's own.
 */
export async function cutByOutage(err: Error, answers: () => Promise<boolean>): Promise<Error> {
    if (DAEMON_DOWN.test(err.message) || !SILENT_FAILURE.test(err.message) || (await answers())) return err;
    return new Error(`${err.message} (the Docker daemon stopped during the command: Cannot connect to the Docker daemon)`);
}

/** Whether the engine of DOCKER_HOST answers at all (false only when it is unreachable). */
async function daemonAnswers(): Promise<boolean> {
    try {
        await dockerOnce(["version", "--format", "{{.Server.Version}}"], undefined, 5_000);
        return true;
    } catch (err) {
        return !DAEMON_DOWN.test((err as Error).message);
    }
}

/** One attempt of a command against DOCKER_HOST's engine, a cut by a stopping daemon said as such. */
async function dockerAttempt(args: string[], input: string | undefined, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
    try {
        return await dockerOnce(args, input, timeoutMs);
    } catch (err) {
        throw await cutByOutage(err as Error, daemonAnswers);
    }
}

export function docker(args: string[], input?: string, timeoutMs = EXEC_TIMEOUT_MS): Promise<string> {
    return ridingOutDaemonOutage(() => dockerAttempt(args, input, timeoutMs)).then((r) => r.stdout);
}

/** Both output streams of a docker command (`docker logs` replays a container's stderr on its own). */
export function dockerStreams(args: string[], timeoutMs = EXEC_TIMEOUT_MS): Promise<{ stdout: string; stderr: string }> {
    return ridingOutDaemonOutage(() => dockerAttempt(args, undefined, timeoutMs));
}

/**
 * `docker` against another engine than DOCKER_HOST's (a Swarm node's), once: a node whose
 * engine does not answer may be lost, and the caller decides what that means.
 */
export function dockerAt(host: string, args: string[], input?: string, timeoutMs = EXEC_TIMEOUT_MS): Promise<string> {
    return dockerOnce(args, input, timeoutMs, { ...process.env, DOCKER_HOST: host }).then((r) => r.stdout);
}

/** Whether a docker command failed because its engine does not answer (rather than refusing the command). */
export function engineUnreachable(err: Error): boolean {
    return DAEMON_DOWN.test(err.message);
}

function dockerOnce(
    args: string[],
    input: string | undefined,
    timeoutMs: number,
    env?: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 << 20, env }, (err, stdout, stderr) => {
            if (err) reject(new Error(`docker ${args.slice(0, 3).join(" ")}: ${(stderr || err.message).trim()}`));
            else resolve({ stdout, stderr });
        });
        // A command that exits before reading its input (a missing container, a failed exec)
        // closes the pipe: the error is in its exit status, not an uncaught EPIPE.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(input ?? "");
    });
}

export function containerExec(container: string): ContainerExec {
    return (args, input, timeoutMs) => docker(["exec", "-i", container, ...args], input, timeoutMs);
}

/** The release id and version labels of an agent container, if it has them. */
export async function releaseLabels(container: string): Promise<{ release: string; version?: string } | undefined> {
    const out = await docker([
        "inspect",
        "--format",
        '{{index .Config.Labels "zdt.release"}} {{index .Config.Labels "zdt.version"}}',
        container,
    ]).catch(() => "");
    const [release, version] = out.trim().split(" ");
    return release ? { release, version: version || undefined } : undefined;
}
