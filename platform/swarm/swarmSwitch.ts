// The traffic switch's entry point on Docker Swarm, run by the TrafficSwitch command
// resource when platform is swarm: the same release (engine/switch.ts: gate, flip or
// canary, confirm, verify, flip back, retire; run by engine/switchRunner.ts) against every
// node's proxy at once (swarmProxies.ts) and a release that is a service (swarmServices.ts).
import { ProxyCanaryControl } from "../../haproxy/canaryControl";
import { exitOnFailure, exitOnSuccess, type PlatformAdapters, runSwitchProgram, type SwitchProgram } from "../../engine/switchRunner";
import type { SwarmProxies } from "./swarmProxies";
import { clusterProxies } from "./clusterProxies";
import { removeImageOnNodes } from "./nodeImages";
import { serviceLabels, SwarmServices } from "./swarmServices";
import { swarmSwitchContract, type SwarmSwitchInput } from "../../contracts/swarmSwitchContract";
import { probeOf } from "../../contracts/switchContract";
import { CurlProbes } from "../../haproxy/probes";

export const swarmSwitch: SwitchProgram<SwarmSwitchInput, PlatformAdapters & { admin: SwarmProxies }> = {
    decode: (env) => swarmSwitchContract.decode(env),
    adapters: (input, { log, clock }) => {
        const { admin, anyProxy } = clusterProxies(input.nodes, input.proxyContainer, input, { log, sleep: (ms) => clock.sleep(ms) });
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
            // Each node keeps what it pulled: the single host's rule on every node's engine.
            removeImage: (image) => removeImageOnNodes(input.nodes, image),
        };
    },
    after: ({ admin }, result, log) => {
        if (admin.lost.size) log(`nodes lost during the release: ${[...admin.lost.keys()].join(", ")}`);
        return { ...result, nodesLost: [...admin.lost.values()] };
    },
};

if (require.main === module) runSwitchProgram(swarmSwitch, process.env).then(exitOnSuccess, exitOnFailure);
