// Entry point of the traffic switch on Docker Swarm, run by the TrafficSwitch command
// resource when platform is swarm: the same release (engine/switch.ts: gate, flip or
// canary, confirm, verify, flip back, retire) against every node's proxy at once
// (platform/swarm/swarmProxies.ts) and a release that is a service (platform/swarm/swarmServices.ts).
// Prints the result as one JSON line on stdout; progress goes to stderr.
import { ProxyCanaryControl } from "../../haproxy/canaryControl";
import { CanaryAborted } from "../../engine/canaryRollout";
import { ancestry, goneAncestor } from "../../engine/caller";
import { type ContainerExec, docker, dockerAt, engineUnreachable } from "../../docker/cli";
import { ProxyError } from "../../haproxy/admin";
import { overallTimeoutMs } from "../docker/oneHostSwitch";
import { ProxyProbes } from "../../haproxy/probes";
import { SwarmProxies } from "./swarmProxies";
import { SwarmProxy } from "./nodeProxy";
import { serviceLabels, SwarmServices } from "./swarmServices";
import { runSwitch, SwitchError } from "../../engine/switch";
import { swarmSwitchContract } from "../../contracts/swarmSwitchContract";
import { encodeSwitchResult, lastSwitchResult } from "../../contracts/switchContract";

/** `docker exec` into the proxy service's task on one node, through that node's engine (the task is looked up again when it changed). */
export function proxyTaskExec(engine: string, service: string): ContainerExec {
    let task: string | undefined;
    const find = async () => {
        const ids = (await dockerAt(engine, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]))
            .split("\n")
            .filter(Boolean);
        if (ids.length === 0) throw new ProxyError(`no task of ${service} runs on the node of ${engine}`);
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

/** The first of several execs whose engine answers (probes go through any node's proxy). */
export function firstAnswering(execs: ContainerExec[]): ContainerExec {
    return async (args, input, timeoutMs) => {
        let last: Error | undefined;
        for (const exec of execs) {
            try {
                return await exec(args, input, timeoutMs);
            } catch (err) {
                last = err as Error;
                if (!engineUnreachable(last)) throw last;
            }
        }
        throw last ?? new ProxyError("no proxy");
    };
}

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const t0 = Date.now();
    const log = (msg: string) => process.stderr.write(`[switch +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
    const input = swarmSwitchContract.decode(env);
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const execs = input.nodes.map((n) => proxyTaskExec(n.engine, input.proxyContainer));
    const admin = new SwarmProxies(
        input.nodes.map((n, i) => ({
            node: n.name,
            proxy: new SwarmProxy(execs[i], `the proxy on ${n.name}`, input.slotServers, input.replicas),
        })),
        {
            nodeState: async (name) => (await docker(["node", "inspect", "--format", "{{.Status.State}}", name])).trim(),
            engineAnswers: (name) =>
                dockerAt(
                    input.nodes.find((n) => n.name === name)!.engine,
                    ["version", "--format", "{{.Server.Version}}"],
                    undefined,
                    5_000,
                ).then(
                    () => true,
                    () => false,
                ),
            sleep,
            log,
        },
    );
    const anyProxy = firstAnswering(execs);
    const deadline = setTimeout(() => {
        process.stderr.write(`traffic switch: gave up after ${Math.round((Date.now() - t0) / 1000)}s (overall timeout)\n`);
        process.exit(3);
    }, overallTimeoutMs(input));
    const callers = await ancestry(process.ppid);
    const services = new SwarmServices(input.nodes.map((n) => n.engine));
    try {
        const result = await runSwitch(input, {
            admin,
            probes: new ProxyProbes(anyProxy, input.proxyPort),
            releaseOf: serviceLabels,
            retire: (fqdn, drainMs) => services.retire(fqdn, drainMs),
            containers: services,
            canaryControl: new ProxyCanaryControl(anyProxy),
            // Each node keeps the images it pulled; the switch removes none there.
            removeImage: async (image) => ({
                removed: false,
                detail: `${image.ref} stays on the nodes that pulled it (not pruned on Swarm)`,
            }),
            lastRun: lastSwitchResult(env.PULUMI_COMMAND_STDOUT),
            clock: { now: Date.now, sleep },
            log,
            stopReason: () => {
                const gone = goneAncestor(callers);
                return gone === undefined ? undefined : `the process that started it (pid ${gone}) is gone; was \`pulumi up\` killed?`;
            },
        });
        if (admin.lost.size) log(`nodes lost during the release: ${[...admin.lost].join(", ")}`);
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
