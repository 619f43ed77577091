// An evaluation set (docs/evaluation.md), and the stack's release.evaluation that names it:
// conversations of one or more turns, each turn a request to
// the agent and expectations on its answer. A turn is the reference agent's chat message,
// or any agent's own request (a channel's webhook payload, with the JSON path of the reply
// text in its answer). Validated by this schema: an error names the case and the field.
import { z } from "zod";
import { num } from "../core/values";
import { seconds } from "./forms";

/** The most cases a set may hold: each is replayed on both releases at every release (one LLM call per turn per release). */
export const MAX_CASES = 50;
/** The most turns of one case. */
export const MAX_TURNS = 10;

/** A required field's message when it is missing (the schema's own otherwise). */
const required = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined);

/** A regular expression given as text: it must compile (the error says why not). */
const regexText = () =>
    z.string().superRefine((text, ctx) => {
        try {
            new RegExp(text, "i");
        } catch (err) {
            ctx.addIssue({ code: "custom", message: `not a regular expression: ${(err as Error).message}` });
        }
    });

/** A JSON path as the answers are read: dotted keys and [index], such as reply.text or messages[0].text. */
export const JsonPathSchema = z
    .string()
    .regex(
        /^[A-Za-z_$][\w$-]*(\[\d+\])*(\.[A-Za-z_$][\w$-]*(\[\d+\])*)*$/,
        "a JSON path of keys and [index], such as answer or messages[0].text",
    );

export const ExpectationSchema = z
    .object({
        contains: z.array(z.string().min(1)).default([]).describe("Texts the answer must contain (case-insensitive)."),
        notContains: z.array(z.string().min(1)).default([]).describe("Texts the answer must not contain (case-insensitive)."),
        matches: z.array(regexText()).default([]).describe("Regular expressions the answer must match (case-insensitive)."),
        notMatches: z.array(regexText()).default([]).describe("Regular expressions the answer must not match."),
        json: z
            .array(z.object({ path: JsonPathSchema, equals: z.unknown() }).strict())
            .default([])
            .describe("Values the answer's JSON must hold at these paths."),
        maxMs: num().pipe(z.number().int().min(1).max(600_000)).optional().describe("The most the answer may take, in milliseconds."),
        judge: z
            .string()
            .min(1)
            .optional()
            .describe(
                'A rubric the judge (release.evaluation.judge) scores the answer against ("says annual plans are refundable within 30 days").',
            ),
    })
    .strict();
export type Expectation = z.output<typeof ExpectationSchema>;

export const TurnSchema = z
    .object({
        message: z
            .string()
            .min(1)
            .optional()
            .describe("The reference agent's chat: POST /v1/chat {message}; the answer's text is its `answer`."),
        request: z
            .object({
                method: z.enum(["GET", "POST", "PUT", "PATCH"]).default("POST"),
                path: z.string().regex(/^\/\S{0,200}$/, "a URL path starting with /"),
                body: z.unknown().optional().describe("JSON sent as the body (a channel's webhook payload, as the channel documents it)."),
                replyPath: JsonPathSchema.optional().describe("Where the reply text is in the answer's JSON; the whole body when absent."),
            })
            .strict()
            .optional()
            .describe("Any agent's own request instead of a chat message."),
        expect: ExpectationSchema.default({ contains: [], notContains: [], matches: [], notMatches: [], json: [] }),
    })
    .strict()
    .refine((t) => (t.message === undefined) !== (t.request === undefined), "a turn is either a message or a request, one of them");
export type Turn = z.output<typeof TurnSchema>;

export const CaseSchema = z
    .object({
        name: z.string().regex(/^[a-z0-9][a-z0-9 ._-]{0,79}$/, "lower-case letters, digits, spaces, dots, dashes (up to 80)"),
        turns: z.array(TurnSchema).min(1, "at least one turn").max(MAX_TURNS, `at most ${MAX_TURNS} turns`),
    })
    .strict();
export type EvaluationCase = z.output<typeof CaseSchema>;

export const EvaluationSetSchema = z
    .object({
        cases: z
            .array(CaseSchema)
            .min(1, "at least one case")
            .max(MAX_CASES, `at most ${MAX_CASES} cases (each is replayed on both releases at every release)`)
            .superRefine((cases, ctx) => {
                const seen = new Set<string>();
                for (const [i, c] of cases.entries()) {
                    if (seen.has(c.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `case ${c.name} is listed twice` });
                    seen.add(c.name);
                }
            }),
    })
    .strict();
export type EvaluationSet = z.output<typeof EvaluationSetSchema>;

/** A set's text (parsed JSON or YAML) validated, or an error naming each case and field that is wrong (pure). */
export function parseEvaluationSet(raw: unknown, file: string): EvaluationSet {
    const parsed = EvaluationSetSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const where = (path: PropertyKey[]): string => {
        const [top, i, ...rest] = path;
        if (top === "cases" && typeof i === "number") {
            const name = (raw as { cases?: { name?: unknown }[] })?.cases?.[i]?.name;
            const label = typeof name === "string" ? `case "${name}"` : `case ${i + 1}`;
            const field = rest
                .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
                .join("")
                .replace(/^\./, "");
            return field ? `${label} ${field}` : label;
        }
        return path.map(String).join(".") || "(the file)";
    };
    throw new Error(
        `${file}: the evaluation set is not valid:\n${parsed.error.issues.map((i) => `  - ${where(i.path)}: ${i.message}`).join("\n")}`,
    );
}

/** The judge (release.evaluation.judge): an OpenAI-compatible chat endpoint that scores rubric expectations. */
export const JudgeSchema = z
    .object({
        url: z
            .string({ error: required("the judge's base URL, such as https://api.openai.com/v1") })
            .regex(/^https?:\/\/\S+$/, "an http(s) URL, the API's base such as https://api.openai.com/v1")
            .describe(
                "The judge's OpenAI-compatible base URL; the switch POSTs to <url>/chat/completions from the machine running `pulumi up`.",
            ),
        model: z
            .string({ error: required("the judge's model, such as gpt-4o-mini") })
            .min(1)
            .describe("The judge's model."),
        apiKey: z
            .string()
            .min(1)
            .optional()
            .describe(
                "Its API key, if it needs one: set with `pulumi config set --secret --path release.evaluation.judge.apiKey` (it asks for the value), never in plain text.",
            ),
        timeoutSeconds: seconds(1, 300).default(30).describe("How long one judgement may take."),
    })
    .strict();
export type JudgeConfig = z.output<typeof JudgeSchema>;

/** The stack's release.evaluation: where its set is, and the gate. */
export const EvaluationConfigSchema = z
    .object({
        set: z
            .string({ error: required("the set's JSON file, such as evaluation/dev.json") })
            .regex(/\.json$/, "a JSON file (relative paths start at the project folder), such as evaluation/dev.json")
            .describe(
                "The evaluation set, a JSON file (docs/evaluation.md): replayed against the new release through its pinned slot after the health gate and before any weight moves, and against the live release at the same time.",
            ),
        minPassPercent: num()
            .pipe(z.number().min(0).max(100))
            .default(100)
            .describe("The share of cases the new release must pass (percent)."),
        maxRegressionPoints: num()
            .pipe(z.number().min(0).max(100))
            .default(0)
            .describe("How many points the new release's pass rate may be below the live release's."),
        turnTimeoutSeconds: seconds(1, 300).default(30).describe("How long one turn's answer may take before it counts as no answer."),
        judge: JudgeSchema.optional().describe("Scores the cases' `judge` rubrics; a set with a rubric needs one."),
    })
    .strict();
export type EvaluationConfig = z.output<typeof EvaluationConfigSchema>;
