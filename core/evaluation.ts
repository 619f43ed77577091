// An evaluation set's verdicts (pure; issue 29, under way): a turn's answer against its
// expectations, and a release's pass rate against the minimum and against the live
// release's (the regression). The switch does not replay a set yet.

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
