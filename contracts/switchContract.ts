// What the TrafficSwitch component gives the switch program (platform/docker/oneHostSwitch.ts), and
// what the program returns on stdout. The release settings are the stack schema's own
// (config/schema.ts), so their defaults and limits live in one place.
import { z } from "zod";
import { bool } from "../core/values";
import { ProbeSchema, ReleaseSchema } from "../config/schema";
import { EnvContract } from "./envContract";
import { METRICS, STATUSES } from "../core/verdict";

import { SLOTS } from "../core/slots";
import { ANY_STATUS } from "../core/health";
import { CaseSchema, EvaluationConfigSchema, JudgeSchema } from "../config/evaluation";

export { SLOTS, type Slot } from "../core/slots";

const port = z.coerce.number().int().min(1).max(65535);

/** The evaluation set as the switch and the knowledge reload get it: its cases, its gate, its judge (release.evaluation). */
export const EvaluationInputSchema = z.object({
    cases: z.array(CaseSchema).default([]),
    ...EvaluationConfigSchema.pick({ minPassPercent: true, maxRegressionPoints: true, turnTimeoutSeconds: true }).shape,
    judgeUrl: JudgeSchema.shape.url.optional(),
    judgeModel: JudgeSchema.shape.model.optional(),
    judgeApiKey: JudgeSchema.shape.apiKey,
    judgeTimeoutSeconds: JudgeSchema.shape.timeoutSeconds,
});
export type EvaluationInput = z.output<typeof EvaluationInputSchema>;

export const SwitchInputSchema = z.object({
    /** The proxy container; every probe and admin command runs inside it (`docker exec`). */
    proxyContainer: z.string().min(1),
    /**
     * The proxy container's id. The switch does not use it; it is here so that a new
     * proxy container (a maintenance change) re-runs the switch, which re-applies and
     * re-verifies the live slots and keeps the stack's outputs true.
     */
    proxyContainerId: z.string().min(1),
    /** The port HAProxy listens on inside its container. */
    proxyPort: port,
    /** The port the agents listen on (HAProxy's server lines carry it). */
    agentPort: port,
    /** The new release: its container (the address the idle slot is pointed at), release id and version. */
    targetContainer: z.string().min(1),
    targetRelease: z.string().min(1),
    targetVersion: z.string().min(1),
    /** The agent's health endpoint and the status it answers when it can serve (agent.health). */
    healthPath: z.string().startsWith("/").default("/health"),
    healthStatus: z.coerce
        .number()
        .int()
        .refine((c) => c === ANY_STATUS || (c >= 200 && c <= 399), "a status from 200 to 399, or 0 for any answer below 500")
        .default(200),
    /** agent.health.docker image (one host): the image's own HEALTHCHECK must say healthy too before the release gets traffic. */
    gateOnDockerHealth: bool().default(false),
    /** Whether the agent has Prometheus metrics, where, and its LLM latency histogram (agent.metrics; an empty variable reads as unset, so "none" is said by scrapeMetrics). */
    scrapeMetrics: bool().default(true),
    metricsPath: z.string().default("/metrics"),
    llmHistogram: z.string().min(1).default("agent_llm_latency_seconds"),
    ...ReleaseSchema.pick({
        strategy: true,
        canary: true,
        healthGateTimeoutSeconds: true,
        verifyWindowSeconds: true,
        drainTimeoutSeconds: true,
        probeIntervalMs: true,
        thresholds: true,
    }).shape,
    /** Synthetic requests per probe interval (config/schema.ts probesPerTick: 0 unless the agent asked), and the request. */
    probeRequestsPerTick: z.coerce.number().int().min(0).max(50),
    probeMethod: ProbeSchema.shape.method,
    probePath: ProbeSchema.shape.path,
    probeBody: ProbeSchema.shape.body,
    probeContentType: ProbeSchema.shape.contentType,
    /** The evaluation set's cases and its gate (release.evaluation; no cases: none is replayed). */
    evaluation: EvaluationInputSchema.prefault({}),
});
export type SwitchInput = z.output<typeof SwitchInputSchema>;
export type { Thresholds } from "../core/thresholds";

export const switchContract = new EnvContract("traffic switch", SwitchInputSchema);

/** The synthetic request the input describes (release.probe, or the reference agent's chat). */
export function probeOf(i: Pick<SwitchInput, "probeMethod" | "probePath" | "probeBody" | "probeContentType">) {
    return { method: i.probeMethod, path: i.probePath, body: i.probeBody, contentType: i.probeContentType };
}

/** One release's answer to a turn of the evaluation set, clipped (core/evaluation.ts clip), and what it failed. */
export const EvaluationAnswerSchema = z.object({ status: z.number(), ms: z.number(), text: z.string(), failures: z.array(z.string()) });

/** The evaluation set's replay (engine/evaluationGate.ts): each case side by side, the new release's answers and the live one's. */
export const EvaluationRecordSchema = z.object({
    passed: z.boolean(),
    newPassPercent: z.number(),
    /** null on a first deploy (no live release to compare with). */
    livePassPercent: z.number().nullable(),
    tookMs: z.number(),
    cases: z.array(
        z.object({
            name: z.string(),
            passed: z.boolean(),
            livePassed: z.boolean().nullable(),
            /** Each turn: what it asked, and each release's answer (null where that release did not get this far). */
            turns: z.array(
                z.object({ question: z.string(), next: EvaluationAnswerSchema.nullable(), live: EvaluationAnswerSchema.nullable() }),
            ),
        }),
    ),
});
export type EvaluationRecord = z.output<typeof EvaluationRecordSchema>;

/** A node found lost by the switch: its name, the manager's word for it, and when (epoch ms). */
export const LostNodeSchema = z.object({ node: z.string(), state: z.string(), foundAt: z.number() });
export type LostNode = z.output<typeof LostNodeSchema>;

export const SwitchResultSchema = z.object({
    /** How this release took the traffic (release.strategy). */
    strategy: z.enum(["blue-green", "canary"]).default("blue-green"),
    /** The slots' weights when the run ended (0 for a slot in maintenance): the share of new conversations each takes. */
    weights: z.object({ blue: z.number(), green: z.number() }).nullable().default(null),
    liveColor: z.enum(SLOTS),
    liveRelease: z.string(),
    liveVersion: z.string(),
    previousColor: z.enum(SLOTS).nullable(),
    previousRelease: z.string().nullable(),
    previousVersion: z.string().nullable(),
    /** Durations in ms of the phases this run went through (a re-verification has no gate or flip). */
    phases: z.object({
        healthGateMs: z.number().optional(),
        /** Replaying the evaluation set on both releases (release.evaluation), after the gate. */
        evaluationMs: z.number().optional(),
        /** Emptying the slot's connection pool after the gate (waiting for what still ran there). */
        emptyPoolMs: z.number().optional(),
        /** A canary's steps, from its first weight to its last step's judgement. */
        canaryMs: z.number().optional(),
        flipMs: z.number().optional(),
        confirmMs: z.number().optional(),
        verifyMs: z.number().optional(),
    }),
    /** The new release's figures over the verification window (proxy statistics of its server). */
    verification: z.object({
        requests: z.number(),
        errors5xx: z.number(),
        avgResponseMs: z.number(),
        maxHealthMs: z.number(),
        /** Each gate's last judgement of the window: ok, warn (outside the acceptable range), no-data, ... */
        gates: z
            .array(
                z.object({
                    metric: z.enum(METRICS),
                    status: z.enum(STATUSES),
                    message: z.string(),
                }),
            )
            .default([]),
    }),
    /** What the release was judged against: the thresholds, and for a canary its comparison with stable. */
    judgedAgainst: z
        .object({
            thresholds: ReleaseSchema.shape.thresholds.unwrap(),
            canary: ReleaseSchema.shape.canary.unwrap().omit({ steps: true }).nullable(),
            /** The health endpoint the probes requested (the status view requests it too). */
            health: z.object({ path: z.string(), expectStatus: z.number() }).default({ path: "/health", expectStatus: 200 }),
        })
        .nullable()
        .default(null),
    /**
     * The previous release's retirement, after the verification passed: drained with this
     * run's drainTimeoutSeconds; streams still open at its end got a final `retired` event.
     */
    retirement: z
        .object({
            container: z.string(),
            drainMs: z.number(),
            tookMs: z.number(),
            streamsCut: z.number(),
            /**
             * The conversation drain before it (engine/conversationDrain.ts): how long the
             * switch waited for the conversations pinned to the old release to end their
             * exchange, how many were still pinned (and so moved to the new release) when it
             * stopped waiting, how many of those had had more than one message, and how many
             * were still talking (moved mid-exchange: the drain's limit cut them).
             */
            conversations: z
                .object({
                    waitedMs: z.number(),
                    moved: z.number(),
                    movedUnderWay: z.number().default(0),
                    movedTalking: z.number().default(0),
                })
                .default({ waitedMs: 0, moved: 0, movedUnderWay: 0, movedTalking: 0 }),
        })
        .nullable()
        .default(null),
    /**
     * The proxy's pinning table, the fuller of two readings (before any weight moved, and
     * at the end): a full table evicts pinned conversations (core/conversationTables.ts).
     */
    conversationTable: z
        .object({ size: z.number(), used: z.number(), percent: z.number(), warning: z.string().nullable() })
        .nullable()
        .default(null),
    /** The evaluation set's replay before any weight moved (release.evaluation); null without a set. */
    evaluation: EvaluationRecordSchema.nullable().default(null),
    /** A canary release's steps: the weight, duration and both releases' figures of each. */
    canarySteps: z
        .array(
            z.object({
                weight: z.number(),
                /** When the step's weights were set (epoch ms). */
                startedAt: z.number().default(0),
                tookMs: z.number(),
                canary: z.object({ requests: z.number(), errors5xx: z.number(), avgResponseMs: z.number() }),
                stable: z.object({ requests: z.number(), errors5xx: z.number(), avgResponseMs: z.number() }),
            }),
        )
        .nullable()
        .default(null),
    /**
     * Swarm: the nodes found lost during the run (their engine silent, the manager reporting
     * them down) and when: their proxies were left out from then on, and what was in flight
     * through them or on their tasks failed. Empty on one host.
     */
    nodesLost: z.array(LostNodeSchema).default([]),
    /** The image of the last retired release, kept for a roll back (docker/images.ts). */
    keptImage: z.object({ id: z.string(), ref: z.string() }).nullable().default(null),
    /** The image this run removed: the one kept before keptImage. */
    prunedImage: z.string().nullable().default(null),
});
export type SwitchResult = z.output<typeof SwitchResultSchema>;

export function encodeSwitchResult(result: SwitchResult): string {
    return JSON.stringify(SwitchResultSchema.parse(result));
}

/** The switch's stdout back into its result; throws naming what is wrong. */
export function decodeSwitchResult(stdout: string): SwitchResult {
    let json: unknown;
    try {
        json = JSON.parse(stdout);
    } catch {
        throw new Error(`traffic switch result is not JSON: ${stdout.slice(0, 200)}`);
    }
    const parsed = SwitchResultSchema.safeParse(json);
    if (!parsed.success)
        throw new Error(`traffic switch result: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return parsed.data;
}

/** The last successful run's result, which the command provider passes to the next run (PULUMI_COMMAND_STDOUT). */
export function lastSwitchResult(stdout: string | undefined): SwitchResult | undefined {
    try {
        return stdout ? decodeSwitchResult(stdout) : undefined;
    } catch {
        return undefined;
    }
}
