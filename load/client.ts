// A strict load client: keep-alive connections, no retries, and every non-2xx
// answer, socket error, unparsable body or stream that ends before its "done"
// event counts as a failure. Runs short chat requests at a fixed rate and
// streaming chats that last several seconds, side by side.
import * as crypto from "crypto";
import * as http from "http";
import { percentile } from "./stats";
import { connectionAgent, requestFor, type TlsTrust } from "./transport";

export interface LoadOptions {
    url: string;
    /**
     * Several entry points (a Swarm cluster's proxies, one per node): every request goes to
     * the next in turn, so the turns of one conversation reach different proxies. Default [url].
     */
    urls?: string[];
    /** Short requests per second, spread over `shortLoops` keep-alive loops. */
    shortRps: number;
    shortLoops: number;
    /**
     * Of the short loops, how many open a new connection for every request and close it after
     * the answer (default 0), as webhook deliveries from many senders arrive: each reaches
     * whichever HAProxy worker, or proxy, accepts at that moment, so a new worker's or a new
     * proxy's first moments are measured, which keep-alive connections to the old one skip.
     */
    freshConnectionLoops?: number;
    /** Concurrent streaming conversations, each restarted as soon as it ends. */
    streams: number;
    /**
     * Concurrent multi-turn conversations: `turns` messages `pauseMs` apart, each restarted
     * when it ends. Every message carries the conversation's X-Conversation-Id: one the
     * client names from the first message on (as a channel's chat id), or with
     * `keylessFirst` the one the answer to a keyless first message carried
     * (proxy.conversations.pinKeyless).
     */
    conversations?: { concurrent: number; turns: number; pauseMs: number; keylessFirst?: boolean };
    requestTimeoutMs?: number;
    /** For https URLs: the CA to trust and the test's host names (load/transport.ts). */
    tls?: TlsTrust;
}

/** One answered message: what the agent said about it. */
interface Answer {
    /** When the message was sent (epoch ms): when the proxy chose its release. */
    sentAt: number;
    conversationId?: string;
    turn?: number;
    releaseId?: string;
}

export interface LoadReport {
    durationMs: number;
    requests: number;
    ok: number;
    failed: number;
    failures: Record<string, number>;
    streamsCompleted: number;
    streamsTruncated: number;
    /**
     * Streams a retiring release ended at its drain deadline with the documented final
     * `retired` event (the client can resume the conversation): neither complete nor silent.
     */
    streamsRetired: number;
    /** Multi-turn conversations that got every answer, from the release that answered their first message. */
    conversationsCompleted: number;
    /**
     * Conversations that lost their context: a turn answered by another release than the
     * first, or a turn number that did not follow on (the release never saw it).
     */
    conversationsBroken: number;
    /** Conversations that ended early because a message failed (counted in `failed` too). */
    conversationsFailed: number;
    /**
     * Per release, the time (ms since start) of the last later turn (2nd or after) it
     * answered: a release still answering later turns after another took the new
     * conversations shows that conversations stayed where they began.
     */
    lastLaterTurnMs: Record<string, number>;
    /**
     * Conversations that changed release, by "from -> to" (each counted once, at its
     * first hop): broken, unless the move was a canary's abort.
     */
    conversationHops: Record<string, number>;
    /** Every conversation: when its first message was sent (epoch ms), the release that answered it, and its verdict. */
    conversationLog: { startedAt: number; release: string; verdict: "completed" | "broken" | "failed" }[];
    /** Requests and failed requests (by reason) by the entry point they were sent to (LoadOptions.urls). */
    byUrl: Record<string, { requests: number; failed: number; failures: Record<string, number> }>;
    /**
     * The first FAILURE_LOG_LIMIT failures, each with when its request was sent and when it
     * failed (epoch ms), its entry point, reason, kind and the release that answered it: a
     * test can tell the requests in flight at an event from those sent after it.
     */
    failureLog: FailedRequest[];
    /** Failed requests by the release that answered them ("none": no answer from a release, e.g. a socket error). */
    failuresByRelease: Record<string, number>;
    /** Answers per release id, and the time (ms since start) of the first and last answer of each. */
    releases: Record<string, { answers: number; firstMs: number; lastMs: number }>;
    achievedRps: number;
    /** When the first and the last failure happened (ms since start): the unavailability window; null without failures. */
    failureWindowMs: { firstMs: number; lastMs: number } | null;
    /** Response times of the short requests that were answered (ms, from sending to the whole body). */
    shortLatencyMs: { p50: number | undefined; p99: number | undefined; samples: number };
}

/** One failed request of LoadReport.failureLog. */
export interface FailedRequest {
    sentAt: number;
    failedAt: number;
    url: string;
    reason: string;
    kind: RequestKind;
    release: string;
}

/** A short request, a streaming chat, or a conversation's turn. */
export type RequestKind = "short" | "stream" | "turn";

/** How many failures LoadReport.failureLog keeps (the count of all is LoadReport.failed). */
export const FAILURE_LOG_LIMIT = 200;

export class LoadGenerator {
    private readonly agent: http.Agent;
    /** The fresh-connection loops' agent: no keep-alive. */
    private readonly freshAgent: http.Agent;
    private running = false;
    private started = 0;
    private loops: Promise<void>[] = [];
    private readonly report: LoadReport = {
        durationMs: 0,
        requests: 0,
        ok: 0,
        failed: 0,
        failures: {},
        streamsCompleted: 0,
        streamsTruncated: 0,
        streamsRetired: 0,
        conversationsCompleted: 0,
        conversationsBroken: 0,
        conversationsFailed: 0,
        lastLaterTurnMs: {},
        conversationHops: {},
        conversationLog: [],
        failuresByRelease: {},
        releases: {},
        achievedRps: 0,
        failureWindowMs: null,
        shortLatencyMs: { p50: undefined, p99: undefined, samples: 0 },
        byUrl: {},
        failureLog: [],
    };
    private nextUrl = 0;
    private readonly shortLatencies: number[] = [];

    constructor(private readonly opts: LoadOptions) {
        this.agent = connectionAgent(
            opts.urls?.[0] ?? opts.url,
            opts.shortLoops + opts.streams + (opts.conversations?.concurrent ?? 0) + 4,
            opts.tls,
        );
        this.freshAgent = connectionAgent(opts.urls?.[0] ?? opts.url, opts.shortLoops + 4, opts.tls, false);
    }

    start(): void {
        this.running = true;
        this.started = Date.now();
        const interval = (1000 * this.opts.shortLoops) / this.opts.shortRps;
        for (let i = 0; i < this.opts.shortLoops; i++) this.loops.push(this.shortLoop(interval, i));
        for (let i = 0; i < this.opts.streams; i++) this.loops.push(this.streamLoop(i));
        for (let i = 0; i < (this.opts.conversations?.concurrent ?? 0); i++) this.loops.push(this.conversationLoop(i));
    }

    async stop(): Promise<LoadReport> {
        this.running = false;
        await Promise.all(this.loops);
        this.agent.destroy();
        this.freshAgent.destroy();
        this.report.durationMs = Date.now() - this.started;
        this.report.achievedRps = Math.round((1000 * this.report.requests) / this.report.durationMs);
        const l = this.shortLatencies;
        this.report.shortLatencyMs = { p50: percentile(l, 50), p99: percentile(l, 99), samples: l.length };
        return this.report;
    }

    /** A snapshot while running (for assertions during a test). */
    snapshot(): LoadReport {
        return JSON.parse(JSON.stringify(this.report));
    }

    private fail(reason: string, release = "none"): void {
        const t = Date.now() - this.started;
        this.report.failureWindowMs = { firstMs: this.report.failureWindowMs?.firstMs ?? t, lastMs: t };
        this.report.failed++;
        this.report.failures[reason] = (this.report.failures[reason] ?? 0) + 1;
        this.report.failuresByRelease[release] = (this.report.failuresByRelease[release] ?? 0) + 1;
    }

    private seen(release: string | undefined): void {
        if (!release) return;
        const t = Date.now() - this.started;
        const r = (this.report.releases[release] ??= { answers: 0, firstMs: t, lastMs: t });
        r.answers++;
        r.lastMs = t;
    }

    private async shortLoop(intervalMs: number, n: number): Promise<void> {
        await sleep((intervalMs * n) / this.opts.shortLoops);
        let next = Date.now();
        while (this.running) {
            const sent = performance.now(); // sub-millisecond: a proxy's overhead is about a millisecond
            if (await this.one("short", `load probe ${n} refund policy`, undefined, n < (this.opts.freshConnectionLoops ?? 0)))
                this.shortLatencies.push(performance.now() - sent);
            next += intervalMs;
            await sleep(Math.max(0, next - Date.now()));
        }
    }

    private async streamLoop(n: number): Promise<void> {
        await sleep(200 * n);
        while (this.running) {
            const failedBefore = this.report.failed;
            await this.one("stream", `stream ${n}: which channels does the agent support`);
            // A customer whose chat failed opens it again after a moment, not in a tight loop
            // (a refused connection fails at once: without the pause one outage counts thousands).
            if (this.report.failed > failedBefore) await sleep(1000);
        }
    }

    /** Conversations run to their end even when the load stops, so each one is judged whole. */
    private async conversationLoop(n: number): Promise<void> {
        const { turns, pauseMs } = this.opts.conversations!;
        // Spread the conversations over a whole conversation, so some are always mid-way.
        await sleep(((turns * pauseMs) / (this.opts.conversations!.concurrent || 1)) * n);
        while (this.running) {
            let id: string | undefined = this.opts.conversations!.keylessFirst ? undefined : `load-${crypto.randomUUID()}`;
            let first: Answer | undefined;
            let verdict: "completed" | "broken" | "failed" = "completed";
            for (let turn = 1; turn <= turns; turn++) {
                if (turn > 1) await sleep(pauseMs);
                const a = await this.one("turn", `conversation ${n} turn ${turn}: when are refunds paid`, id);
                if (!a) {
                    verdict = "failed";
                    break;
                }
                id ??= a.conversationId;
                first ??= a;
                if (verdict !== "broken" && (a.releaseId !== first.releaseId || a.turn !== turn || a.conversationId !== id)) {
                    verdict = "broken";
                    const hop = `${first.releaseId} -> ${a.releaseId}`;
                    this.report.conversationHops[hop] = (this.report.conversationHops[hop] ?? 0) + 1;
                }
                if (turn > 1 && a.releaseId) this.report.lastLaterTurnMs[a.releaseId] = Date.now() - this.started;
            }
            // A customer whose message failed tries again after a pause, not at once.
            if (verdict === "failed") await sleep(pauseMs);
            if (verdict === "completed") this.report.conversationsCompleted++;
            else if (verdict === "broken") this.report.conversationsBroken++;
            else this.report.conversationsFailed++;
            if (first?.releaseId) this.report.conversationLog.push({ startedAt: first.sentAt, release: first.releaseId, verdict });
        }
    }

    /** One request; `fresh`: on a connection of its own, closed after the answer. */
    private one(kind: RequestKind, message: string, conversationId?: string, fresh = false): Promise<Answer | undefined> {
        this.report.requests++;
        const stream = kind === "stream";
        const urls = this.opts.urls?.length ? this.opts.urls : [this.opts.url];
        const base = urls[this.nextUrl++ % urls.length];
        const at = (this.report.byUrl[base] ??= { requests: 0, failed: 0, failures: {} });
        at.requests++;
        const sentAt = Date.now();
        let failed = false;
        /** Counts the request as failed, once (a reset stream is both aborted and an error); false if it already was. */
        const fail = (reason: string, release = "none"): boolean => {
            if (failed) return false;
            failed = true;
            at.failed++;
            at.failures[reason] = (at.failures[reason] ?? 0) + 1;
            if (this.report.failureLog.length < FAILURE_LOG_LIMIT)
                this.report.failureLog.push({ sentAt, failedAt: Date.now(), url: base, reason, kind, release });
            this.fail(reason, release);
            return true;
        };
        const body = JSON.stringify({
            message,
            stream,
        });
        return new Promise((resolve) => {
            const req = requestFor(base)(
                `${base}/v1/chat`,
                {
                    method: "POST",
                    agent: fresh ? this.freshAgent : this.agent,
                    headers: {
                        "content-type": "application/json",
                        "content-length": Buffer.byteLength(body),
                        ...(conversationId ? { "x-conversation-id": conversationId } : {}),
                    },
                    timeout: this.opts.requestTimeoutMs ?? 30000,
                },
                (res) => {
                    const answeredBy = res.headers["x-release-id"];
                    const release = typeof answeredBy === "string" ? answeredBy : undefined;
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (d) => (text += d));
                    res.on("error", (err) => {
                        fail(`response ${(err as NodeJS.ErrnoException).code ?? err.message}`, release);
                        resolve(undefined);
                    });
                    res.on("aborted", () => {
                        if (fail(stream ? "stream aborted" : "response aborted", release) && stream) this.report.streamsTruncated++;
                        resolve(undefined);
                    });
                    res.on("end", () => {
                        if (res.statusCode !== 200) {
                            fail(`HTTP ${res.statusCode}`, release);
                        } else if (stream) {
                            const meta = /event: meta\ndata: (.*)\n/.exec(text);
                            if (meta && /\n\nevent: retired\ndata: .*"resume":true/.test(text)) {
                                this.report.streamsRetired++;
                                this.seen(JSON.parse(meta[1]).releaseId);
                            } else if (!meta || !text.includes("event: done\n")) {
                                if (fail("stream truncated", release)) this.report.streamsTruncated++;
                            } else {
                                this.report.ok++;
                                this.report.streamsCompleted++;
                                this.seen(JSON.parse(meta[1]).releaseId);
                            }
                        } else {
                            let parsed: Answer & { answer?: unknown };
                            try {
                                parsed = JSON.parse(text) as Answer & { answer?: unknown };
                                if (typeof parsed.answer !== "string") throw new Error("no answer");
                            } catch {
                                fail("unparsable body", release);
                                return resolve(undefined);
                            }
                            this.report.ok++;
                            this.seen(parsed.releaseId);
                            const header = res.headers["x-conversation-id"];
                            return resolve({
                                ...parsed,
                                sentAt,
                                conversationId: typeof header === "string" ? header : parsed.conversationId,
                            });
                        }
                        resolve(undefined);
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", (err) => {
                fail(`request ${(err as NodeJS.ErrnoException).code ?? err.message}`);
                resolve(undefined);
            });
            req.end(body);
        });
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
