// A complete, valid traffic-switch input for tests and fixtures: the schema's defaults
// for every release setting, with the given overrides.
import { ReleaseSchema } from "../../config/schema";
import { PROBES_PER_TICK } from "../../config/release";
import { SwitchInput, SwitchInputSchema, SwitchResult } from "../../contracts/switchContract";

export function switchInput(
    overrides: Partial<Omit<SwitchInput, "thresholds">> & { thresholds?: Partial<SwitchInput["thresholds"]> } = {},
): SwitchInput {
    const release = ReleaseSchema.parse({});
    return SwitchInputSchema.parse({
        proxyContainer: "app-proxy",
        proxyContainerId: "0123456789ab",
        proxyPort: 8080,
        agentPort: 8080,
        targetContainer: "app-agent-2-0-0-abcdef12",
        targetRelease: "2-0-0-abcdef12",
        targetVersion: "2.0.0",
        // The reference agent's: synthetic chats on.
        probeRequestsPerTick: PROBES_PER_TICK,
        ...release,
        ...overrides,
        thresholds: { ...release.thresholds, ...overrides.thresholds },
    });
}

/** The result of a switch run that made `release` (of `version`) live on blue, with no previous release. */
export function switchResult(release: string, version: string): SwitchResult {
    return {
        strategy: "blue-green",
        weights: { blue: 100, green: 0 },
        liveColor: "blue",
        liveRelease: release,
        liveVersion: version,
        previousColor: null,
        previousRelease: null,
        previousVersion: null,
        phases: {},
        verification: { requests: 0, errors5xx: 0, avgResponseMs: 0, maxHealthMs: 0, gates: [] },
        judgedAgainst: null,
        retirement: null,
        conversationTable: null,
        canarySteps: null,
        evaluation: null,
        nodesLost: [],
        keptImage: null,
        prunedImage: null,
    };
}
