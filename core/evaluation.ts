// An evaluation set's verdicts (pure; docs/evaluation.md): a turn's answer against its
// expectations, and a release's pass rate against the minimum and against the live
// release's (the regression); a turn's request, and the judge's prompt and reply.

/** A turn's expectations, as config/evaluation.ts validates them (the judge's rubric is scored elsewhere). */
export interface TurnExpectation {
    contains: string[];
    notContains: string[];
    matches: string[];
    notMatches: string[];
    json: { path: string; equals: unknown }[];
    maxMs?: number;
}

/** An answer as the replay got it. */
export interface TurnAnswer {
    status: number;
    ms: number;
    body: string;
}

/** The value at a JSON path of keys and [index] (undefined when absent; pure). */
export function valueAt(value: unknown, path: string): unknown {
    let at: unknown = value;
    for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
        if (at === null || typeof at !== "object") return undefined;
        at = key !== undefined ? (at as Record<string, unknown>)[key] : (at as unknown[])[Number(index)];
    }
    return at;
}

/** The reply text of an answer: the value at replyPath in its JSON, or its whole body (pure). */
export function replyText(body: string, replyPath: string | undefined): string {
    if (!replyPath) return body;
    try {
        const v = valueAt(JSON.parse(body), replyPath);
        return typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v);
    } catch {
        return "";
    }
}

/** Deep equality of JSON values (pure). */
function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** What a turn's answer fails of its expectations, in words (empty: it passes; pure). */
export function turnFailures(answer: TurnAnswer, expect: TurnExpectation, replyPath?: string): string[] {
    const out: string[] = [];
    if (answer.status < 200 || answer.status > 299) out.push(`answered ${answer.status || "nothing"}`);
    const text = replyText(answer.body, replyPath);
    const lower = text.toLowerCase();
    for (const t of expect.contains) if (!lower.includes(t.toLowerCase())) out.push(`does not contain "${t}"`);
    for (const t of expect.notContains) if (lower.includes(t.toLowerCase())) out.push(`contains "${t}"`);
    for (const r of expect.matches) if (!new RegExp(r, "i").test(text)) out.push(`does not match /${r}/`);
    for (const r of expect.notMatches) if (new RegExp(r, "i").test(text)) out.push(`matches /${r}/`);
    if (expect.json.length) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(answer.body);
        } catch {
            out.push("is not JSON");
        }
        if (parsed !== undefined)
            for (const j of expect.json) {
                const v = valueAt(parsed, j.path);
                if (!sameJson(v, j.equals))
                    out.push(`${j.path} is ${v === undefined ? "absent" : JSON.stringify(v)}, not ${JSON.stringify(j.equals)}`);
            }
    }
    if (expect.maxMs !== undefined && answer.ms > expect.maxMs) out.push(`took ${Math.round(answer.ms)} ms (at most ${expect.maxMs})`);
    return out;
}

/** A case's outcome on one release: passed when every turn passed; the first failing turn's reasons. */
export interface CaseOutcome {
    name: string;
    passed: boolean;
    /** The failing turn (0-based) and why, when it failed. */
    failure?: { turn: number; reasons: string[] };
}

export interface EvaluationGate {
    minPassPercent: number;
    maxRegressionPoints: number;
}

export interface EvaluationVerdict {
    passed: boolean;
    newPassPercent: number;
    livePassPercent?: number;
    /** Cases the new release failed. */
    failed: string[];
    /** Cases the live release passed and the new one failed. */
    regressed: string[];
    /** Why it failed, in words, when it did. */
    reason?: string;
}

const percent = (outcomes: CaseOutcome[]) => (outcomes.length ? (100 * outcomes.filter((o) => o.passed).length) / outcomes.length : 100);

/**
 * The gate (pure): the new release's pass rate must reach minPassPercent and be at most
 * maxRegressionPoints below the live release's (when there is one, replayed at the same time).
 */
export function evaluationVerdict(next: CaseOutcome[], live: CaseOutcome[] | undefined, gate: EvaluationGate): EvaluationVerdict {
    const newPassPercent = percent(next);
    const livePassPercent = live ? percent(live) : undefined;
    const failed = next.filter((o) => !o.passed).map((o) => o.name);
    const livePassed = new Set((live ?? []).filter((o) => o.passed).map((o) => o.name));
    const regressed = failed.filter((n) => livePassed.has(n));
    const round = (p: number) => Math.round(p * 10) / 10;
    const reasons: string[] = [];
    if (newPassPercent < gate.minPassPercent)
        reasons.push(`passed ${round(newPassPercent)} % of the cases (at least ${gate.minPassPercent} % wanted)`);
    if (livePassPercent !== undefined && livePassPercent - newPassPercent > gate.maxRegressionPoints)
        reasons.push(
            `passed ${round(livePassPercent - newPassPercent)} points fewer than the live release (${round(newPassPercent)} % against ${round(livePassPercent)} %; at most ${gate.maxRegressionPoints} allowed)`,
        );
    return {
        passed: reasons.length === 0,
        newPassPercent,
        ...(livePassPercent !== undefined ? { livePassPercent } : {}),
        failed,
        regressed,
        ...(reasons.length ? { reason: `the evaluation set: ${reasons.join("; ")}; failed: ${failed.join(", ")}` } : {}),
    };
}

/** The header every evaluation request carries: an agent may skip side effects on it (no message sent, no order placed). */
export const EVALUATION_HEADER = "x-zdt-evaluation";
/** The reference agent's chat: where a `message` turn goes and where its answer's text is. */
export const CHAT_PATH = "/v1/chat";
export const CHAT_REPLY_PATH = "answer";
export const CHAT_CONVERSATION_HEADER = "x-conversation-id";
/** The most of an answer the report keeps (characters). */
export const ANSWER_CLIP = 400;

/** A turn as the switch sends it. */
export interface TurnRequest {
    method: string;
    path: string;
    /** The body's JSON text, when there is one. */
    body?: string;
    headers: Record<string, string>;
    replyPath?: string;
}

/** A turn as the set has it (config/evaluation.ts). */
export interface TurnSpec {
    message?: string;
    request?: { method: string; path: string; body?: unknown; replyPath?: string };
}

/**
 * The request of a turn (pure): a message is the reference agent's chat, in the case's own
 * conversation; a request is sent as the set gives it (a channel's payload names its chat).
 * Both carry the evaluation header, naming the case.
 */
export function turnRequest(turn: TurnSpec, caseName: string, conversation: string): TurnRequest {
    const headers: Record<string, string> = { [EVALUATION_HEADER]: caseName };
    if (turn.message !== undefined)
        return {
            method: "POST",
            path: CHAT_PATH,
            body: JSON.stringify({ message: turn.message }),
            headers: { ...headers, "content-type": "application/json", [CHAT_CONVERSATION_HEADER]: conversation },
            replyPath: CHAT_REPLY_PATH,
        };
    const r = turn.request!;
    return {
        method: r.method,
        path: r.path,
        ...(r.body !== undefined
            ? { body: JSON.stringify(r.body), headers: { ...headers, "content-type": "application/json" } }
            : { headers }),
        ...(r.replyPath ? { replyPath: r.replyPath } : {}),
    };
}

/** What a turn asks, in a line for the report (pure): the message, or the request's method, path and clipped body. */
export function questionOf(turn: TurnSpec): string {
    if (turn.message !== undefined) return turn.message;
    const r = turn.request!;
    return clip(`${r.method} ${r.path}${r.body !== undefined ? ` ${JSON.stringify(r.body)}` : ""}`);
}

/** Text cut to the report's length (pure). */
export function clip(text: string, max = ANSWER_CLIP): string {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A judge's reply: PASS or FAIL first, then why (pure); anything else is a failure that says what came. */
export function judgeReply(content: string): { pass: boolean; reason: string } {
    const m = /^\s*\**\s*(PASS|FAIL)\b[\s:.,*-]*([\s\S]*)$/i.exec(content);
    if (!m) return { pass: false, reason: `the judge's reply is neither PASS nor FAIL: ${clip(content.trim(), 120)}` };
    return { pass: m[1].toUpperCase() === "PASS", reason: m[2].trim() || m[1].toUpperCase() };
}

/** The judge's instructions and the question (pure): a rubric, the customer's message and the agent's answer. */
export function judgeMessages(rubric: string, question: string, answer: string): { role: "system" | "user"; content: string }[] {
    return [
        {
            role: "system",
            content:
                "You grade a customer-service agent's answer against a rubric. Reply with PASS or FAIL as the first word, then one sentence saying why. Judge only what the rubric asks.",
        },
        { role: "user", content: `Rubric: ${rubric}\nCustomer: ${question}\nAnswer: ${answer}` },
    ];
}
