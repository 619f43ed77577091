// The one way a test puts load around a change: the load starts, the change begins once the
// load has had a given amount of traffic answered (so conversations and streams are under
// way when it begins), and the load goes on after it for as much traffic again (so what
// the change left is measured under load too). Waits are counted in answers, not in
// seconds, so a loaded machine gets the same traffic before and after as an idle one; each
// wait is bounded by a deadline. Every request, stream and conversation is counted.
import { LoadGenerator, type LoadOptions, type LoadReport } from "../../load/client";

export interface LoadWindows {
    /** Load before the change, in seconds of the profile's short-request rate (answered requests). */
    beforeSeconds?: number;
    /** Load after the change, likewise. */
    afterSeconds?: number;
    /** The most a window may take (a proxy that answers nothing fails the test instead of hanging it). */
    timeoutMs?: number;
}

/** Resolves when the load has `more` answers beyond `from`; rejects after `timeoutMs`. */
export async function answered(
    load: { snapshot(): { ok: number } },
    more: number,
    timeoutMs: number,
    from = load.snapshot().ok,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (load.snapshot().ok < from + more) {
        if (Date.now() > deadline)
            throw new Error(`the load got ${load.snapshot().ok - from} of ${more} answers within ${timeoutMs} ms: is the proxy answering?`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** A load a test runs around a change: the strict client, or a channel simulator. */
export interface RunningLoad {
    start(): void;
    stop(): Promise<unknown>;
    snapshot(): { ok: number };
}

/**
 * Runs `fn` with `load` before, during and after it, `before` and `after` answers either
 * side; resolves to what `fn` returned and the load's report. The load is stopped however `fn` ends.
 */
export async function around<L extends RunningLoad, T>(
    load: L,
    fn: (load: L) => Promise<T>,
    answers: { before: number; after: number; timeoutMs?: number },
): Promise<{ result: T; report: Awaited<ReturnType<L["stop"]>> }> {
    const timeoutMs = answers.timeoutMs ?? 60_000;
    load.start();
    try {
        await answered(load, answers.before, timeoutMs);
        const result = await fn(load);
        await answered(load, answers.after, timeoutMs);
        return { result, report: (await load.stop()) as Awaited<ReturnType<L["stop"]>> };
    } catch (err) {
        await load.stop();
        throw err;
    }
}

/**
 * Runs `fn` with `options`' load (the strict client) before, during and after it, each
 * window counted in seconds of the profile's short-request rate.
 */
export function underLoad<T>(
    options: LoadOptions,
    fn: (load: LoadGenerator) => Promise<T>,
    windows: LoadWindows = {},
): Promise<{ result: T; report: LoadReport }> {
    const { beforeSeconds = 1.5, afterSeconds = 1.5, timeoutMs } = windows;
    return around(new LoadGenerator(options), fn, {
        before: Math.ceil(options.shortRps * beforeSeconds),
        after: Math.ceil(options.shortRps * afterSeconds),
        timeoutMs,
    });
}
