// What a release is judged against (release.thresholds in the stack config): the
// blueprint's alert levels, and its acceptable ranges outside which a release passes with
// a warning. A section of the stack schema that lives beside the verdict that reads it
// (core/verdict.ts), so the pure core needs nothing from the layers above it.
import { z } from "zod";
import { num } from "./values";

export const ThresholdsSchema = z
    .object({
        maxErrorRatePercent: num()
            .pipe(z.number().min(0).max(100))
            .default(1)
            .describe("Highest 5xx share of requests to the new colour (blueprint alert level: 1%)."),
        maxLatencyMs: num()
            .pipe(z.number().int().min(1))
            .default(5000)
            .describe(
                "Highest p95 LLM latency of the new colour, from the agent's agent_llm_latency_seconds histogram over the window (blueprint alert: 5 s). An agent without the histogram is judged on HAProxy's average response time instead, and the report says so.",
            ),
        maxHealthResponseMs: num()
            .pipe(z.number().int().min(1))
            .default(500)
            .describe("Highest /health response time (blueprint alert level: 500 ms)."),
        maxMemoryPercent: num()
            .pipe(z.number().min(1).max(100))
            .default(90)
            .describe(
                "Highest memory use of the new colour's container, in percent of its limit, as the Docker engine reports it (blueprint alert: 90 %).",
            ),
        maxConversationDropPercent: num()
            .pipe(z.number().min(1).max(100))
            .default(20)
            .describe(
                "Largest drop of active conversations (answered 200 within proxy.conversations.idleTimeoutSeconds, counted by the proxy's count tables; both releases together) below the count just before the flip, in two readings in a row 5 s apart (blueprint alert: a drop over 20 %).",
            ),
        minConversations: num()
            .pipe(z.number().int().min(1))
            .default(50)
            .describe(
                "Active conversations needed before the flip to judge a drop: with fewer, chance moves the count by more than the threshold (50: one standard deviation is about 14 %).",
            ),
        minRequests: num()
            .pipe(z.number().int().min(1))
            .default(20)
            .describe("Requests (and LLM answers) needed before the 5xx rate and latency are judged."),
        acceptable: z
            .object({
                errorRatePercent: num()
                    .pipe(z.number().min(0).max(100))
                    .default(0.1)
                    .describe("5xx rate above this is a warning (blueprint: < 0.1 %)."),
                latencyMs: num()
                    .pipe(z.number().int().min(1))
                    .default(2000)
                    .describe("p95 LLM latency above this is a warning (blueprint: < 2 s)."),
                healthResponseMs: num()
                    .pipe(z.number().int().min(1))
                    .default(200)
                    .describe("/health slower than this is a warning (blueprint: < 200 ms)."),
                conversationChangePercent: num()
                    .pipe(z.number().min(0).max(100))
                    .default(10)
                    .describe(
                        "Active conversations further than this from the count before the flip is a warning (blueprint: baseline +- 10 %).",
                    ),
                memoryPercent: num()
                    .pipe(z.number().min(1).max(100))
                    .default(80)
                    .describe("Memory above this share of the limit is a warning (blueprint: < 80 %)."),
            })
            .strict()
            .prefault({})
            .describe("The blueprint's acceptable ranges: outside them a release passes with a warning in the report."),
    })
    .strict();

export type Thresholds = z.output<typeof ThresholdsSchema>;
