// LLM backends. "local" composes the answer from the best knowledge passage, so the
// reference agent runs anywhere with no model; "openai" calls any OpenAI-compatible
// endpoint (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY) with the passage as context.
export interface LlmBackend {
    name: string;
    answer(question: string, context: string | undefined): Promise<string>;
    /** Resolves when the backend answers; rejects with the reason otherwise. */
    ping(): Promise<void>;
}

export function localBackend(): LlmBackend {
    return {
        name: "local",
        answer: async (question, context) =>
            context ? `From our knowledge base: ${context}` : `I could not find anything about "${question}" in the knowledge base.`,
        ping: async () => undefined,
    };
}

export function openAiBackend(baseUrl: string, model: string, apiKey: string | undefined, timeoutMs: number): LlmBackend {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const url = baseUrl.replace(/\/+$/, "");
    return {
        name: `openai:${model}`,
        answer: async (question, context) => {
            const res = await fetch(`${url}/chat/completions`, {
                method: "POST",
                headers,
                signal: AbortSignal.timeout(timeoutMs),
                body: JSON.stringify({
                    model,
                    messages: [
                        { role: "system", content: `Answer from this context only:\n${context ?? "(no matching context)"}` },
                        { role: "user", content: question },
                    ],
                }),
            });
            if (!res.ok) throw new Error(`LLM endpoint answered ${res.status}`);
            const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
            return body.choices?.[0]?.message?.content ?? "";
        },
        ping: async () => {
            const res = await fetch(`${url}/models`, { headers, signal: AbortSignal.timeout(timeoutMs) });
            if (!res.ok) throw new Error(`LLM endpoint answered ${res.status}`);
        },
    };
}
