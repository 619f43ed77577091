// The stack's evaluation set (release.evaluation.set): read from the project folder and
// validated before anything is declared, so a wrong set fails the update naming the case
// and the field, and the switch gets the cases themselves (its contract carries them).
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { type EvaluationConfig, type EvaluationSet, parseEvaluationSet } from "../config/evaluation";

/** The set the config names, validated; throws naming release.evaluation.set and what is wrong. */
export function readEvaluationSet(
    evaluation: Pick<EvaluationConfig, "set" | "judge">,
    projectDir: string,
    readFile: (p: string) => string,
): EvaluationSet {
    const file = path.resolve(projectDir, evaluation.set);
    let text: string;
    try {
        text = readFile(file);
    } catch {
        throw new Error(`release.evaluation.set: ${file} cannot be read (relative paths start at the project folder)`);
    }
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (err) {
        throw new Error(`release.evaluation.set: ${file} is not JSON: ${(err as Error).message}`);
    }
    let set: EvaluationSet;
    try {
        set = parseEvaluationSet(raw, file);
    } catch (err) {
        throw new Error(`release.evaluation.set: ${(err as Error).message}`);
    }
    const judged = set.cases.filter((c) => c.turns.some((t) => t.expect.judge !== undefined)).map((c) => c.name);
    if (judged.length && !evaluation.judge)
        throw new Error(
            `release.evaluation.judge: the set's cases ${judged.join(", ")} have a judge rubric; set the judge (url and model of an OpenAI-compatible endpoint) or remove the rubrics`,
        );
    return set;
}

/**
 * The most the set may weigh as the switch's input: it travels in one environment variable,
 * and Linux refuses a variable over 128 KiB when it starts the switch.
 */
export const MAX_SET_BYTES = 100_000;

/** What the switch gets of release.evaluation: the cases themselves, the gate, the judge (its key a Pulumi secret). */
export interface EvaluationInput {
    cases: EvaluationSet["cases"];
    minPassPercent: number;
    maxRegressionPoints: number;
    turnTimeoutSeconds: number;
    judgeUrl?: string;
    judgeModel?: string;
    judgeApiKey?: pulumi.Output<string>;
    judgeTimeoutSeconds?: number;
}

/** release.evaluation as the switch's input, or undefined when the stack has no set (nothing is replayed). */
export function evaluationInput(
    evaluation: EvaluationConfig | undefined,
    projectDir: string,
    readFile: (p: string) => string = (p) => fs.readFileSync(p, "utf8"),
): EvaluationInput | undefined {
    if (!evaluation) return undefined;
    const set = readEvaluationSet(evaluation, projectDir, readFile);
    const size = Buffer.byteLength(JSON.stringify(set.cases));
    if (size > MAX_SET_BYTES)
        throw new Error(
            `release.evaluation.set: the set is ${size} bytes as JSON, over ${MAX_SET_BYTES}; keep fewer or shorter cases (each is replayed on both releases at every release)`,
        );
    const judge = evaluation.judge;
    return {
        cases: set.cases,
        minPassPercent: evaluation.minPassPercent,
        maxRegressionPoints: evaluation.maxRegressionPoints,
        turnTimeoutSeconds: evaluation.turnTimeoutSeconds,
        ...(judge
            ? {
                  judgeUrl: judge.url,
                  judgeModel: judge.model,
                  judgeTimeoutSeconds: judge.timeoutSeconds,
                  ...(judge.apiKey !== undefined ? { judgeApiKey: pulumi.secret(judge.apiKey) } : {}),
              }
            : {}),
    };
}
