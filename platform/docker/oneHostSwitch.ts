// The traffic switch's entry point on one Docker engine, run by the TrafficSwitch command
// resource: the release (engine/switch.ts, run by engine/switchRunner.ts) against one
// HAProxy through `docker exec` and a release that is one container. Where Docker Swarm
// differs: platform/swarm/swarmSwitch.ts.
import { containerExec, releaseLabels } from "../../docker/cli";
import { removeImage } from "../../docker/images";
import { dockerContainers } from "../../docker/releaseContainer";
import { retireContainer } from "../../docker/retire";
import { exitOnFailure, exitOnSuccess, runSwitchProgram, type SwitchProgram } from "../../engine/switchRunner";
import { HaproxyAdmin } from "../../haproxy/admin";
import { ProxyCanaryControl } from "../../haproxy/canaryControl";
import { CurlProbes } from "../../haproxy/probes";
import { probeOf, switchContract, type SwitchInput } from "../../contracts/switchContract";

export const oneHostSwitch: SwitchProgram<SwitchInput> = {
    decode: (env) => switchContract.decode(env),
    adapters: (input) => {
        const exec = containerExec(input.proxyContainer);
        return {
            admin: new HaproxyAdmin(exec, input.proxyContainer, input.agentPort),
            probes: new CurlProbes(exec, input.proxyPort, input.healthPath, input.scrapeMetrics ? input.metricsPath : "", probeOf(input)),
            releaseOf: releaseLabels,
            retire: retireContainer,
            containers: dockerContainers,
            canaryControl: new ProxyCanaryControl(exec),
            removeImage,
        };
    },
};

if (require.main === module) runSwitchProgram(oneHostSwitch, process.env).then(exitOnSuccess, exitOnFailure);
