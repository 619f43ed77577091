// The evaluation gate (release.evaluation; docs/evaluation.md): after the health gate and
// before any weight moves, the set's conversations are replayed through the proxy against
// the new release's slot and, at the same time, against the live release's. The new
// release must pass minPassPercent of the cases and be at most maxRegressionPoints below
// the live one; if not, it is refused like a release that failed its health gate (no
// customer traffic, the update fails naming each failed case with both answers).
import type { EvaluationInput, EvaluationRecord, Slot } from "../contracts/switchContract";
import {
    type CaseOutcome,
    clip,
    evaluationVerdict,
    type EvaluationVerdict,
    questionOf,
    replyText,
    turnFailures,
    turnRequest,
} from "../core/evaluation";
import { refuseRelease } from "./healthGate";
import type { Judge, ProxyProbes } from "./ports";
import { checkpoint, type SwitchRun } from "./switchRun";

type Answer = NonNullable<EvaluationRecord["cases"][number]["turns"][number]["next"]>;

/** One release's replay of the set: each case's outcome and its answers, turn by turn (a case stops at its first failed turn). */
export interface Replay {
    outcomes: CaseOutcome[];
    answers: Answer[][];
}

export async function evaluationGate(run: SwitchRun): Promise<void> {
    const { deps, input, live, slot } = run;
    const ev = input.evaluation;
    if (ev.cases.length === 0) return;
    checkpoint(run, "the evaluation");
    const start = deps.clock.now();
    const turns = ev.cases.reduce((n, c) => n + c.turns.length, 0);
    deps.log(
        `evaluation: replaying ${ev.cases.length} case${ev.cases.length === 1 ? "" : "s"} (${turns} turns) on ${input.targetRelease}` +
            (live ? ` and on the live release (${run.liveInfo?.release ?? live})` : ""),
    );
    const stamp = start.toString(36);
    const [next, old] = await Promise.all([
        replaySet(deps, ev, slot, `${stamp}-${slot}`),
        live ? replaySet(deps, ev, live, `${stamp}-${live}`) : Promise.resolve(undefined),
    ]);
    const tookMs = deps.clock.now() - start;
    const { record, verdict } = sideBySide(ev, next, old, tookMs);
    run.phases.evaluationMs = tookMs;
    run.evaluation = record;
    const rate = `${Math.round(verdict.newPassPercent)} %${verdict.livePassPercent !== undefined ? ` (live ${Math.round(verdict.livePassPercent)} %)` : ""}`;
    if (verdict.passed) {
        deps.log(`evaluation passed in ${tookMs} ms: ${rate} of the cases`);
        return;
    }
    await refuseRelease(
        run,
        `evaluation: ${input.targetRelease} ${verdict.reason}; no customer request reached it, traffic stays on ${live ?? "nothing"}.\n` +
            failedCases(record) +
            "\n",
        false,
    );
}

/** Both replays judged (core/evaluation.ts evaluationVerdict) and side by side, case by case, turn by turn. */
export function sideBySide(
    ev: EvaluationInput,
    next: Replay,
    old: Replay | undefined,
    tookMs: number,
): { record: EvaluationRecord; verdict: EvaluationVerdict } {
    const verdict = evaluationVerdict(next.outcomes, old?.outcomes, ev);
    const record: EvaluationRecord = {
        passed: verdict.passed,
        newPassPercent: verdict.newPassPercent,
        livePassPercent: verdict.livePassPercent ?? null,
        tookMs,
        cases: ev.cases.map((c, i) => ({
            name: c.name,
            passed: next.outcomes[i].passed,
            livePassed: old ? old.outcomes[i].passed : null,
            turns: c.turns.map((t, j) => ({ question: questionOf(t), next: next.answers[i][j] ?? null, live: old?.answers[i][j] ?? null })),
        })),
    };
    return { record, verdict };
}

/** The failed cases, each turn with both answers (the update's error); `labels` name the two sides. */
export function failedCases(record: EvaluationRecord, labels: { next: string; live: string } = { next: "new", live: "live" }): string {
    const width = Math.max(labels.next.length, labels.live.length) + 2;
    const answer = (a: Answer | null) =>
        a === null
            ? "(not asked: an earlier turn failed)"
            : `${a.failures.length ? a.failures.join("; ") : "passed"}: "${clip(a.text, 200)}"`;
    return record.cases
        .filter((c) => !c.passed)
        .map(
            (c) =>
                `  case "${c.name}":\n` +
                c.turns
                    .filter((t) => t.next !== null || t.live !== null)
                    .map(
                        (t, j) =>
                            `    turn ${j + 1}: ${clip(t.question, 160)}\n      ${`${labels.next}:`.padEnd(width)}${answer(t.next)}` +
                            (record.livePassPercent !== null ? `\n      ${`${labels.live}:`.padEnd(width)}${answer(t.live)}` : ""),
                    )
                    .join("\n"),
        )
        .join("\n");
}

/**
 * The set on one slot, case after case, turn after turn: each case its own conversation
 * (named after `stamp`, unique per replay), the evaluation header on every request.
 */
export async function replaySet(
    deps: { probes: ProxyProbes; judge?: Judge },
    ev: EvaluationInput,
    slot: Slot,
    stamp: string,
): Promise<Replay> {
    const outcomes: CaseOutcome[] = [];
    const answers: Answer[][] = [];
    for (const [i, c] of ev.cases.entries()) {
        const conversation = `zdt-eval-${stamp}-${i + 1}`;
        const got: Answer[] = [];
        let failure: CaseOutcome["failure"];
        for (const [j, turn] of c.turns.entries()) {
            const request = turnRequest(turn, c.name, conversation);
            const a = await deps.probes.slotRequest(slot, request, ev.turnTimeoutSeconds * 1000);
            const text = replyText(a.body, request.replyPath);
            const failures = turnFailures(a, turn.expect, request.replyPath);
            if (turn.expect.judge !== undefined && failures.length === 0)
                failures.push(...(await judged(deps.judge, turn.expect.judge, questionOf(turn), text)));
            got.push({ status: a.status, ms: a.ms, text: clip(text), failures });
            if (failures.length) {
                failure = { turn: j, reasons: failures };
                break;
            }
        }
        outcomes.push({ name: c.name, passed: failure === undefined, ...(failure ? { failure } : {}) });
        answers.push(got);
    }
    return { outcomes, answers };
}

/** A rubric's failures by the judge (none when it passes); a judge that cannot score fails the turn, saying why. */
async function judged(judge: Judge | undefined, rubric: string, question: string, answer: string): Promise<string[]> {
    if (!judge) return ["has a judge rubric and release.evaluation.judge is not set"];
    const v = await judge
        .score(rubric, question, answer)
        .catch((err: Error) => ({ pass: false, reason: `the judge did not answer: ${err.message}` }));
    return v.pass ? [] : [`the judge: ${v.reason}`];
}
