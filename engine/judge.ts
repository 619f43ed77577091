// The judge of release.evaluation.judge: an OpenAI-compatible chat endpoint, asked from the
// machine running `pulumi up` to score a turn's answer against its rubric. It answers PASS
// or FAIL and why (core/evaluation.ts judgeMessages, judgeReply).
import { judgeMessages, judgeReply } from "../core/evaluation";
import type { EvaluationInput } from "../contracts/switchContract";
import type { Judge } from "./ports";

/** The most of the judge's reply read (bytes): a grade and a sentence. */
const REPLY_LIMIT = 16_384;

export function openAiJudge(url: string, model: string, apiKey: string | undefined, timeoutMs: number): Judge {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const endpoint = `${url.replace(/\/+$/, "")}/chat/completions`;
    return {
        async score(rubric, question, answer) {
            const res = await fetch(endpoint, {
                method: "POST",
                headers,
                signal: AbortSignal.timeout(timeoutMs),
                body: JSON.stringify({ model, temperature: 0, messages: judgeMessages(rubric, question, answer) }),
            });
            const text = await readSome(res, REPLY_LIMIT);
            if (!res.ok) throw new Error(`${endpoint} answered ${res.status}`);
            let content: unknown;
            try {
                content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
            } catch {
                throw new Error(`${endpoint} answered no JSON`);
            }
            if (typeof content !== "string") throw new Error(`${endpoint} answered no choices[0].message.content`);
            return judgeReply(content);
        },
    };
}

/** The judge release.evaluation.judge describes, or none without one (the switch and the knowledge reload alike). */
export function judgeOf(ev: EvaluationInput): { judge?: Judge } {
    return ev.judgeUrl && ev.judgeModel
        ? { judge: openAiJudge(ev.judgeUrl, ev.judgeModel, ev.judgeApiKey, ev.judgeTimeoutSeconds * 1000) }
        : {};
}

/** At most `limit` bytes of a response's body, the rest left unread. */
async function readSome(res: Response, limit: number): Promise<string> {
    if (!res.body) return "";
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < limit) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
    }
    await reader.cancel().catch(() => undefined);
    return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}
