// The traffic switch as a command resource: every release (a new target release
// id) runs scripts/traffic-switch.ts, which gates the new release on health,
// flips the proxy, confirms, and verifies against the thresholds - flipping back
// and failing the update on a breach. Because the old release's resources are
// simply no longer declared, Pulumi deletes them only after this step succeeded.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AGENT_PORT } from "./agentRelease";
import { ReleaseConfig } from "./config";
import { PROXY_INTERNAL_PORT } from "./trafficProxy";

export interface TrafficSwitchArgs {
    proxyContainer: pulumi.Input<string>;
    targetContainer: pulumi.Input<string>;
    targetRelease: string;
    targetVersion: string;
    release: ReleaseConfig;
}

export interface SwitchResult {
    liveColor: "blue" | "green";
    liveRelease: string;
    liveVersion: string;
    previousColor: string | null;
    previousRelease: string | null;
    previousVersion: string | null;
    phases: Record<string, number>;
    verification: { requests: number; errors5xx: number; avgResponseMs: number; maxHealthMs: number };
}

/** The command line, relative to the project folder, so state does not depend on where the project is checked out. */
export const SWITCH_COMMAND = "node -r ts-node/register/transpile-only scripts/traffic-switch.ts";

export class TrafficSwitch extends pulumi.ComponentResource {
    readonly result: pulumi.Output<SwitchResult>;
    readonly liveColor: pulumi.Output<string>;
    readonly liveVersion: pulumi.Output<string>;
    readonly previousVersion: pulumi.Output<string | null>;

    constructor(name: string, args: TrafficSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zdt:agents:TrafficSwitch", name, {}, opts);
        const r = args.release;
        const t = r.thresholds;
        const run = new command.local.Command(`${name}-switch`, {
            create: SWITCH_COMMAND,
            update: SWITCH_COMMAND,
            environment: {
                PROXY_CONTAINER: args.proxyContainer,
                PROXY_PORT: String(PROXY_INTERNAL_PORT),
                AGENT_PORT: String(AGENT_PORT),
                TARGET_CONTAINER: args.targetContainer,
                TARGET_RELEASE: args.targetRelease,
                TARGET_VERSION: args.targetVersion,
                HEALTH_GATE_TIMEOUT_SECONDS: String(r.healthGateTimeoutSeconds),
                VERIFY_WINDOW_SECONDS: String(r.verifyWindowSeconds),
                PROBE_INTERVAL_MS: String(r.probeIntervalMs),
                PROBE_REQUESTS_PER_TICK: String(r.probeRequestsPerTick),
                MAX_ERROR_RATE_PERCENT: String(t.maxErrorRatePercent),
                MAX_LATENCY_MS: String(t.maxLatencyMs),
                MAX_HEALTH_RESPONSE_MS: String(t.maxHealthResponseMs),
                MIN_REQUESTS: String(t.minRequests),
            },
            logging: "stderr",
        }, { parent: this });

        this.result = run.stdout.apply((out) => JSON.parse(out) as SwitchResult);
        this.liveColor = this.result.liveColor;
        this.liveVersion = this.result.liveVersion;
        this.previousVersion = this.result.previousVersion;
        this.registerOutputs({ result: this.result });
    }
}
