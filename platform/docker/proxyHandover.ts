// The proxy hand-over, run by a command resource right after a proxy container starts
// (before the traffic switch acts on it). The new proxy took the listening sockets over from
// the one before it when it started (start-proxy, HAProxy's -x), so both accept on the same
// sockets; this makes the new one the proxy the next one takes them from, and soft-stops
// every other proxy of the app: it stops accepting, finishes its requests and streams,
// answers its idle keep-alive connections' next request with "Connection: close", hands its
// stick table (pinned conversations) to the new proxy and exits. Pulumi then deletes its
// container. No connection is refused or reset.
import { docker } from "../../docker/cli";
import { type ProxyHandoverInput, proxyHandoverContract } from "../../contracts/proxyHandoverContract";
import { runningProxies } from "../../docker/servingProxy";

/** The proxies to stop: every running one but the one that takes over (full or short ids). */
export function proxiesToStop(running: { id: string; name: string }[], keepId: string): { id: string; name: string }[] {
    return running.filter(({ id }) => !keepId.startsWith(id) && !id.startsWith(keepId));
}

export async function handOver(input: ProxyHandoverInput, log: (line: string) => void): Promise<string[]> {
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
