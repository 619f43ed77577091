// The traffic switch's entry point on Docker Swarm, run by the TrafficSwitch command
// resource when platform is swarm: the same release (engine/switch.ts: gate, flip or
// canary, confirm, verify, flip back, retire; run by engine/switchRunner.ts) against every
// node's proxy at once (swarmProxies.ts) and a release that is a service (swarmServices.ts).
import { ProxyCanaryControl } from "../../haproxy/canaryControl";
import { type ContainerExec, docker, dockerAt } from "../../docker/cli";
import { exitOnFailure, exitOnSuccess, type PlatformAdapters, runSwitchProgram, type SwitchProgram } from "../../engine/switchRunner";
import { nodeMayBeGone, SwarmProxies } from "./swarmProxies";
import { NodeProxy, ProxyTaskGone } from "./nodeProxy";
import { serviceLabels, SwarmServices } from "./swarmServices";
import { swarmSwitchContract, type SwarmSwitchInput } from "../../contracts/swarmSwitchContract";
import { probeOf } from "../../contracts/switchContract";
import { ProxyError } from "../../engine/ports";
import { CurlProbes } from "../../haproxy/probes";

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

export const swarmSwitch: SwitchProgram<SwarmSwitchInput, PlatformAdapters & { admin: SwarmProxies }> = {
    decode: (env) => swarmSwitchContract.decode(env),
    adapters: (input, { log, clock }) => {
        const execs = input.nodes.map((n) => proxyTaskExec(n.engine, input.proxyContainer));
        const admin = new SwarmProxies(
            input.nodes.map((n, i) => ({
                node: n.name,
                proxy: new NodeProxy(execs[i], `the proxy on ${n.name}`, input.slotServers, input.replicas),
            })),
            {
                nodeState: async (name) => (await docker(["node", "inspect", "--format", "{{.Status.State}}", name])).trim(),
                sleep: (ms) => clock.sleep(ms),
                log,
            },
        );
        const anyProxy = firstAnswering(execs);
        const services = new SwarmServices(input.nodes.map((n) => n.engine));
        return {
            admin,
            probes: new CurlProbes(
                anyProxy,
                input.proxyPort,
                input.healthPath,
                input.scrapeMetrics ? input.metricsPath : "",
                probeOf(input),
            ),
            releaseOf: serviceLabels,
            retire: (fqdn, drainMs) => services.retire(fqdn, drainMs),
            containers: services,
            canaryControl: new ProxyCanaryControl(anyProxy),
            // Each node keeps the images it pulled; the switch removes none there.
            removeImage: async (image) => ({
                removed: false,
                detail: `${image.ref} stays on the nodes that pulled it (not pruned on Swarm)`,
            }),
        };
    },
    after: ({ admin }, _result, log) => {
        if (admin.lost.size) log(`nodes lost during the release: ${[...admin.lost].join(", ")}`);
    },
};

if (require.main === module) runSwitchProgram(swarmSwitch, process.env).then(exitOnSuccess, exitOnFailure);
