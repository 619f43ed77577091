// The proxy hand-over, run by a command resource right after a proxy container starts
// (before the traffic switch acts on it). It waits until the new proxy serves. The new proxy
// took the listening sockets over from the one before it when it started (start-proxy,
// HAProxy's -x), so both accept on the same sockets; this makes the new one the proxy the
// next one takes them from, and soft-stops every other proxy of the app: it stops accepting,
// finishes its requests and streams, answers its idle keep-alive connections' next request
// with "Connection: close", hands its stick table (pinned conversations) to the new proxy
// and exits. Pulumi then deletes its container. No connection is refused or reset.
import { docker, dockerStreams } from "../../docker/cli";
import { type ProxyHandoverInput, proxyHandoverContract } from "../../contracts/proxyHandoverContract";
import { runningProxies } from "../../docker/servingProxy";
import { PROXY_ANSWERS } from "../../components/healthChecks";

/** How long a new proxy may take to serve (render its config, start HAProxy, take the sockets over). */
export const PROXY_SERVE_TIMEOUT_MS = 60_000;
const SERVE_POLL_MS = 250;
const LOG_LINES = 20;

/** What the wait for a new proxy asks of its container. */
export interface ServeProbe {
    /** Whether HAProxy answers on the proxy's admin socket (PROXY_ANSWERS). */
    answers(): Promise<boolean>;
    /** Docker's status of the container: created, running, restarting, exited, dead. */
    status(): Promise<string>;
    lastLogs(): Promise<string>;
    now(): number;
    sleep(ms: number): Promise<void>;
}

/**
 * Waits until the new proxy serves; resolves to how long that took. A proxy that stops or
 * restarts first (HAProxy refused its config), or does not answer within the timeout, fails
 * the hand-over with its last log lines, before any other proxy is stopped.
 */
export async function untilServing(container: string, probe: ServeProbe, timeoutMs = PROXY_SERVE_TIMEOUT_MS): Promise<number> {
    const start = probe.now();
    for (;;) {
        if (await probe.answers()) return probe.now() - start;
        const status = await probe.status();
        const why = ["exited", "dead", "restarting"].includes(status)
            ? `stopped before it served (${status})`
            : probe.now() - start >= timeoutMs
              ? `did not answer on its admin socket within ${timeoutMs / 1000}s (${status})`
              : undefined;
        if (why) {
            const logs = (await probe.lastLogs()).trimEnd();
            throw new Error(
                `${container} ${why}; no other proxy was stopped. Its last log lines:\n${logs.replace(/^/gm, "  | ") || "  | (none)"}`,
            );
        }
        await probe.sleep(SERVE_POLL_MS);
    }
}

/** The probe of a proxy container through the Docker engine. */
export function containerProbe(container: string): ServeProbe {
    return {
        answers: () =>
            docker(["exec", container, ...PROXY_ANSWERS], undefined, 10_000).then(
                () => true,
                () => false,
            ),
        status: () =>
            docker(["inspect", "--format", "{{.State.Status}}", container]).then(
                (s) => s.trim(),
                () => "gone",
            ),
        lastLogs: () =>
            dockerStreams(["logs", "--tail", String(LOG_LINES), container]).then(
                (l) => l.stdout + l.stderr,
                () => "",
            ),
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
}

/** The proxies to stop: every running one but the one that takes over (full or short ids). */
export function proxiesToStop(running: { id: string; name: string }[], keepId: string): { id: string; name: string }[] {
    return running.filter(({ id }) => !keepId.startsWith(id) && !id.startsWith(keepId));
}

export async function handOver(input: ProxyHandoverInput, log: (line: string) => void): Promise<string[]> {
    const tookMs = await untilServing(input.proxyContainer, containerProbe(input.proxyContainer));
    log(`${input.proxyContainer} serves (answered in ${(tookMs / 1000).toFixed(1)} s)`);
    log((await docker(["exec", input.proxyContainer, "start-proxy", "promote"], undefined, 30_000)).trim());
    const stopped: string[] = [];
    for (const old of proxiesToStop(await runningProxies(input.app), input.proxyContainerId)) {
        // Not restarted by its restart policy once it has exited (a stop by signal is not `docker stop`).
        await docker(["update", "--restart", "no", old.id]);
        await docker(["kill", "--signal", "USR1", old.id]);
        log(`${old.name} handed over to ${input.proxyContainer}: soft stop (it finishes its requests and streams, then exits)`);
        stopped.push(old.name);
    }
    if (stopped.length === 0) log(`${input.proxyContainer} serves; no other proxy was running`);
    return stopped;
}

if (require.main === module) {
    const input = proxyHandoverContract.decode(process.env);
    handOver(input, (line) => process.stderr.write(`proxy hand-over: ${line}\n`)).then(
        (stopped) => process.stdout.write(JSON.stringify({ proxyContainer: input.proxyContainer, stopped }) + "\n"),
        (err: Error) => {
            process.stderr.write(`proxy hand-over: ${err.message}\n`);
            process.exit(1);
        },
    );
}
