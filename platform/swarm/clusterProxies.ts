// Every node's proxy of a swarm, reached through each node's own engine (`docker exec` into
// the proxy service's task there; Swarm has no exec through the manager): the switch and
// the operator commands (npm run status, npm run abort) talk to the cluster the same way.
import { type ContainerExec, docker, dockerAt } from "../../docker/cli";
import { ProxyError } from "../../engine/ports";
import { NodeProxy, ProxyTaskGone } from "./nodeProxy";
import { nodeMayBeGone, SwarmProxies } from "./swarmProxies";
import { runsProxy } from "../../config/swarm";

/** A node as the stack config names it: its hostname, its engine (a DOCKER_HOST), and whether it runs the proxy (default). */
export interface ClusterNode {
    name: string;
    engine: string;
    proxy?: boolean;
}

/** `docker exec` into the proxy service's task on one node, through that node's engine (the task is looked up again when it changed). */
export function proxyTaskExec(engine: string, service: string): ContainerExec {
    let task: string | undefined;
    const find = async () => {
        const ids = (await dockerAt(engine, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]))
            .split("\n")
            .filter(Boolean);
        if (ids.length === 0) throw new ProxyTaskGone(`no task of ${service} runs on the node of ${engine}`);
        return ids[0];
    };
    return async (args, input, timeoutMs) => {
        task ??= await find();
        try {
            return await dockerAt(engine, ["exec", "-i", task, ...args], input, timeoutMs);
        } catch (err) {
            if (!/No such container|is not running/i.test((err as Error).message)) throw err;
            task = await find();
            return dockerAt(engine, ["exec", "-i", task, ...args], input, timeoutMs);
        }
    };
}

/** The first of several execs whose proxy answers (probes go through any node's proxy; HAProxy's own refusal is final). */
export function firstAnswering(execs: ContainerExec[]): ContainerExec {
    return async (args, input, timeoutMs) => {
        let last: Error | undefined;
        for (const exec of execs) {
            try {
                return await exec(args, input, timeoutMs);
            } catch (err) {
                last = err as Error;
                if (!nodeMayBeGone(last)) throw last;
            }
        }
        throw last ?? new ProxyError("no proxy");
    };
}

/**
 * The cluster's proxies as one (all or nothing for weights, a lost node left out), and one
 * exec for what any proxy can answer (probes, the canary's control file: the first node
 * listed whose proxy answers, the same one for the switch and for `npm run abort`).
 */
export function clusterProxies(
    /** Every node of the stack; those with proxy: false run none and are not reached. */
    nodes: ClusterNode[],
    proxyService: string,
    /** Servers per slot template, and the tasks of a release (platform/swarm/swarmSlots.ts, slotServers). */
    sizes: { slotServers: number; replicas: number },
    run: { log: (message: string) => void; sleep: (ms: number) => Promise<void> },
): { admin: SwarmProxies; anyProxy: ContainerExec } {
    const proxied = nodes.filter(runsProxy);
    const execs = proxied.map((n) => proxyTaskExec(n.engine, proxyService));
    const admin = new SwarmProxies(
        proxied.map((n, i) => ({
            node: n.name,
            proxy: new NodeProxy(execs[i], `the proxy on ${n.name}`, sizes.slotServers, sizes.replicas),
        })),
        {
            nodeState: async (name) => (await docker(["node", "inspect", "--format", "{{.Status.State}}", name])).trim(),
            sleep: run.sleep,
            log: run.log,
        },
    );
    return { admin, anyProxy: firstAnswering(execs) };
}
