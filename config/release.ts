// The stack config's release section: the strategy, the canary's steps, the windows and
// probes, the thresholds (core/thresholds.ts), the evaluation set (config/evaluation.ts).
import { z } from "zod";
import { seconds } from "./forms";
import { num } from "../core/values";
import { stepProblems } from "../core/canary";
import { ThresholdsSchema } from "../core/thresholds";
import { EvaluationConfigSchema } from "./evaluation";

export const CanaryStepSchema = z
    .object({
        weight: num()
            .pipe(z.number().int().min(1).max(100))
            .describe("Share of new conversations the canary takes during the step (percent)."),
        pauseSeconds: seconds(0, 86400).describe("How long the step lasts, judged all along, before the next one."),
    })
    .strict();

/** The reference agent's chat: what a synthetic request is unless release.probe says otherwise. */
export const REFERENCE_PROBE = {
    method: "POST",
    path: "/v1/chat",
    body: '{"message":"release verification probe"}',
    contentType: "application/json",
} as const;
/** Synthetic requests per probe interval, when they are on. */
export const PROBES_PER_TICK = 5;

export const ProbeSchema = z
    .object({
        method: z.enum(["GET", "POST", "PUT", "PATCH"]).default(REFERENCE_PROBE.method).describe("The synthetic request's method."),
        path: z
            .string()
            .regex(/^\/[A-Za-z0-9._~%/?=&:@+,;-]{0,200}$/, "a URL path starting with /, such as /v1/chat or /api/ping?probe=1")
            .default(REFERENCE_PROBE.path)
            .describe("Its path (and query)."),
        body: z.string().max(4096, "at most 4096 characters").default(REFERENCE_PROBE.body).describe("Its body (not sent with GET)."),
        contentType: z
            .string()
            .regex(/^[a-z]+\/[a-z0-9.+-]+$/, "a media type such as application/json")
            .default(REFERENCE_PROBE.contentType)
            .describe("Its Content-Type."),
    })
    .strict();

export const AnswerSignalSchema = z
    .object({
        metric: z
            .string()
            .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/, "a Prometheus counter name such as agent_fallback_answers_total")
            .describe("The counter's name (its samples summed over their labels), e.g. agent_fallback_answers_total."),
        maxDeltaPercent: num()
            .pipe(z.number().min(0).max(100))
            .default(5)
            .describe("How many more per 100 requests the canary may count than stable over the same interval."),
    })
    .strict();

/** The blueprint's canary: 5 -> 25 -> 50 -> 100 %, an hour per step. */
export const BLUEPRINT_CANARY_STEPS = [5, 25, 50]
    .map((weight) => ({ weight, pauseSeconds: 3600 }))
    .concat([{ weight: 100, pauseSeconds: 0 }]);

export const CanarySchema = z
    .object({
        steps: z
            .array(CanaryStepSchema)
            .superRefine((steps, ctx) => {
                for (const message of stepProblems(steps)) ctx.addIssue({ code: "custom", message });
            })
            .default(BLUEPRINT_CANARY_STEPS)
            .describe("The canary's steps: weights that rise to 100, each with its pause (blueprint: 5, 25, 50, 100 %, an hour each)."),
        maxErrorRateDeltaPercent: num()
            .pipe(z.number().min(0).max(100))
            .default(1)
            .describe("How many points the canary's 5xx rate may exceed stable's over the same interval."),
        maxLatencyRatio: num()
            .pipe(z.number().min(1))
            .default(2)
            .describe("How many times stable's average response time the canary's may be over the same interval."),
        answerSignal: AnswerSignalSchema.optional().describe(
            "An answer-quality counter the agent exports on agent.metrics.path (fallbacks, hand-offs to a human): at each step the canary's count per 100 requests is compared with stable's over the same interval. Unset: not judged.",
        ),
    })
    .strict();

export const ReleaseSchema = z
    .object({
        strategy: z
            .enum(["blue-green", "canary"])
            .default("blue-green")
            .describe(
                "blue-green: after its gate the new release takes every new conversation at once; canary: it takes them in steps (release.canary), judged at each step against the thresholds and against stable.",
            ),
        canary: CanarySchema.prefault({}),
        verifyWindowSeconds: seconds(0, 7200)
            .default(900)
            .describe("How long the new colour is watched after the flip before the old one retires (blueprint: 15 minutes)."),
        healthGateTimeoutSeconds: seconds(5, 1800)
            .default(120)
            .describe("How long the switch waits for the new colour to pass /health through the proxy's network."),
        drainTimeoutSeconds: seconds(0, 3600)
            .default(60)
            .describe("How long a retiring colour may take to finish in-flight requests and streams."),
        probeIntervalMs: num().pipe(z.number().int().min(200).max(60000)).default(1000).describe("Interval of the verification probes."),
        probeRequestsPerTick: num()
            .pipe(z.number().int().min(0).max(50))
            .optional()
            .describe(
                `Synthetic requests per probe interval (release.probe), so thresholds are judged even without traffic. Each is a real request to the agent: behind an LLM a paid call, and a made-up customer in its transcripts. Default: ${PROBES_PER_TICK} for the reference agent (agent.conversation its default X-Conversation-Id header) or when release.probe describes the request; 0 for any other agent, so none reaches an agent that did not ask.`,
            ),
        probe: ProbeSchema.optional().describe(
            "The synthetic request the verification sends through the proxy (method, path, body, Content-Type); unset: the reference agent's chat, POST /v1/chat. Its answers count in the proxy's 5xx rate and response time like any request's.",
        ),
        thresholds: ThresholdsSchema.prefault({}),
        evaluation: EvaluationConfigSchema.optional().describe(
            "An evaluation set that gates the release on its answers (docs/evaluation.md): unset, none is replayed.",
        ),
    })
    .strict();
