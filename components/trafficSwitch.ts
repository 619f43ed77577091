// The traffic switch as a command resource: every release (a new target release
// id) runs the switch program (platform/docker/oneHostSwitch.ts), which gates the new release on
// health, flips the proxy, confirms, and verifies against the thresholds - flipping
// back and failing the update on a breach. Because the old release's resources are
// simply no longer declared, Pulumi deletes them only after this step succeeded.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { swarmSwitchContract } from "../contracts/swarmSwitchContract";
import { decodeSwitchResult, SwitchResult, switchContract } from "../contracts/switchContract";
import { ReleaseConfig, SwarmConfig } from "../config/schema";
import { PROXY_INTERNAL_PORT } from "../core/proxyNames";
import { type AgentHealth, expectedCode } from "../core/health";
import { programCommand } from "./compiledPrograms";
import type { EvaluationInput } from "./evaluationSet";

export interface TrafficSwitchArgs {
    proxyContainer: pulumi.Input<string>;
    proxyContainerId: pulumi.Input<string>;
    targetContainer: pulumi.Input<string>;
    targetRelease: string;
    targetVersion: string;
    release: ReleaseConfig;
    /** Synthetic requests per probe interval (config/schema.ts probesPerTick: none unless the agent asked). */
    probeRequestsPerTick: number;
    /** agent.health.docker image on one host: the gate waits for Docker's healthy too. */
    gateOnDockerHealth?: boolean;
    /** The port the agent listens on (agent.port): the slot the new release takes is pointed there. */
    agentPort: number;
    /** The agent's health endpoint (agent.health): what the gate and the verification request. */
    health: AgentHealth;
    /** The agent's metrics (agent.metrics): where, and the LLM latency histogram's name. */
    metrics: { path: string; llmHistogram: string };
    /**
     * On Docker Swarm: the proxy is the proxy's global service (proxyContainer its name), the
     * target the release service's tasks; every node's proxy switches together.
     */
    swarm?: { nodes: SwarmConfig["nodes"]; slotServers: number; replicas: number };
    /** The evaluation set and its gate (components/evaluationSet.ts evaluationInput); none: nothing is replayed. */
    evaluation?: EvaluationInput;
}

/** The switch's program, relative to the project folder (so state does not depend on where the project is checked out). */
export const SWITCH_PROGRAM = "platform/docker/oneHostSwitch.ts";
/** The switch on Docker Swarm. */
export const SWARM_SWITCH_PROGRAM = "platform/swarm/swarmSwitch.ts";

export class TrafficSwitch extends pulumi.ComponentResource {
    readonly result: pulumi.Output<SwitchResult>;
    readonly liveColor: pulumi.Output<string>;
    readonly liveVersion: pulumi.Output<string>;
    readonly previousVersion: pulumi.Output<string | null>;

    constructor(name: string, args: TrafficSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:TrafficSwitch", name, {}, opts);
        // release.evaluation names a file; the switch gets the cases themselves (args.evaluation).
        const { evaluation: _named, ...r } = args.release;
        const input = {
            proxyContainer: args.proxyContainer,
            proxyContainerId: args.proxyContainerId,
            proxyPort: PROXY_INTERNAL_PORT,
            agentPort: args.agentPort,
            targetContainer: args.targetContainer,
            targetRelease: args.targetRelease,
            targetVersion: args.targetVersion,
            healthPath: args.health.path,
            healthStatus: expectedCode(args.health.expectStatus),
            scrapeMetrics: args.metrics.path !== "",
            metricsPath: args.metrics.path || "/metrics",
            llmHistogram: args.metrics.llmHistogram,
            // Every release setting the contract carries (it takes its own from the stack's).
            ...r,
            probeRequestsPerTick: args.probeRequestsPerTick,
            gateOnDockerHealth: args.gateOnDockerHealth ?? false,
            ...(args.evaluation ? { evaluation: args.evaluation } : {}),
            ...(r.probe
                ? { probeMethod: r.probe.method, probePath: r.probe.path, probeBody: r.probe.body, probeContentType: r.probe.contentType }
                : {}),
        };
        const cmd = programCommand(args.swarm ? SWARM_SWITCH_PROGRAM : SWITCH_PROGRAM);
        const run = new command.local.Command(
            `${name}-switch`,
            {
                create: cmd,
                update: cmd,
                environment: args.swarm ? swarmSwitchContract.encode({ ...input, ...args.swarm }) : switchContract.encode(input),
                logging: "stderr",
            },
            { parent: this },
        );

        // The result holds no secret; the judge's key in the environment would make the engine
        // keep stdout secret (an input secret taints the outputs), and the stack's outputs unreadable.
        this.result = pulumi.unsecret(run.stdout).apply(decodeSwitchResult);
        this.liveColor = this.result.liveColor;
        this.liveVersion = this.result.liveVersion;
        this.previousVersion = this.result.previousVersion;
        this.registerOutputs({ result: this.result });
    }
}
