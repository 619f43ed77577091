// Reference agent: the HTTP contract the release program relies on (docs/agent-contract.md).
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { buildIndex, KnowledgeIndex, search } from "./knowledge";
import { LlmBackend, localBackend, openAiBackend } from "./llm";
import { Conversations } from "./conversations";
import { Metrics } from "./metrics";

const env = process.env;
const version = env.AGENT_VERSION ?? "0.0.0-dev";
const releaseId = env.RELEASE_ID ?? version;
const knowledgeDir = env.KNOWLEDGE_DIR ?? "/app/knowledge";
const port = Number(env.PORT ?? 8080);
const shutdownGraceMs = Number(env.SHUTDOWN_GRACE_MS ?? 30000);
/**
 * The release program writes the drain of the current config here before it stops this
 * release, so a retirement drains as long as the config says now, not as it said when
 * this release started.
 */
const DRAIN_FILE = env.DRAIN_FILE ?? "/tmp/zdt-drain-ms";
/** Open streams: at the drain deadline each gets a final `retired` event, so its client can resume. */
const openStreams = new Map<http.ServerResponse, string>();
const tokenDelayMs = Number(env.STREAM_TOKEN_DELAY_MS ?? 50);
// Fault injection for drills: slow start, failing health, an error rate on chat.
const faultStartDelayMs = Number(env.FAULT_START_DELAY_MS ?? 0);
const faultHealth = env.FAULT_HEALTH === "fail";
const faultErrorRate = Number(env.FAULT_ERROR_RATE ?? 0);
const faultReindexDelayMs = Number(env.FAULT_REINDEX_DELAY_MS ?? 0); // a slow reindex, for drills and tests
const faultCrashAtStart = env.FAULT_CRASH_AT_START === "1";
const faultLlmDelayMs = Number(env.FAULT_LLM_DELAY_MS ?? 0); // every answer takes this much longer
const faultHealthDelayMs = Number(env.FAULT_HEALTH_DELAY_MS ?? 0); // /health answers this much later
const faultAllocateMb = Number(env.FAULT_ALLOCATE_MB ?? 0); // memory held from the start
const faultRefuseNew = env.FAULT_REFUSE_NEW_CONVERSATIONS === "1"; // 429 to a conversation's first message
const held: Buffer[] = [];

const llm: LlmBackend =
    env.LLM_PROVIDER === "openai"
        ? openAiBackend(
              env.LLM_BASE_URL ?? "http://localhost:11434/v1",
              env.LLM_MODEL ?? "llama3.3",
              env.LLM_API_KEY,
              Number(env.LLM_TIMEOUT_MS ?? 5000),
          )
        : localBackend();
const metrics = new Metrics();
/** Per-conversation memory (turns); a conversation idle this long starts over. */
const conversations = new Conversations(Number(env.CONVERSATION_IDLE_MS ?? 30 * 60_000));
/** What a conversation id may look like (the proxy's are UUIDs; clients may bring their own). */
const CONVERSATION_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const startedAt = new Date().toISOString();

let index: KnowledgeIndex | undefined;
type ReindexState = {
    state: "idle" | "running" | "done" | "failed";
    scope?: string;
    error?: string;
    startedAt?: string;
    finishedAt?: string;
    durationMs?: number;
    reparsed?: string[];
    generation: number;
};
let reindex: ReindexState = { state: "idle", generation: 0 };
let running: Promise<void> | undefined;
let queued: { scope: "full" | "incremental" } | undefined;

/**
 * Builds a new index in the background and swaps it in. Requests that arrive while
 * one runs are coalesced into a single follow-up run (which sees the newest files);
 * returns the generation that will include the caller's request.
 */
function requestReindex(scope: "full" | "incremental"): number {
    if (!running) {
        running = runReindex(scope);
        return reindex.generation;
    }
    if (!queued) queued = { scope };
    else if (scope === "full") queued.scope = "full";
    return reindex.generation + 1;
}

async function runReindex(scope: "full" | "incremental"): Promise<void> {
    const generation = reindex.generation + 1;
    const t0 = Date.now();
    reindex = { state: "running", scope, startedAt: new Date().toISOString(), generation };
    await new Promise((r) => setTimeout(r, faultReindexDelayMs));
    try {
        const built = buildIndex(knowledgeDir, index, scope);
        index = built; // atomic swap: readers see the old or the new index, never a mix
        reindex = {
            ...reindex,
            state: "done",
            finishedAt: new Date().toISOString(),
            durationMs: Date.now() - t0,
            reparsed: built.reparsed,
        };
        console.log(
            `reindex ${generation} (${scope}) done in ${reindex.durationMs} ms: ${built.passages.length} passages, ${built.reparsed.length} files parsed`,
        );
    } catch (err) {
        reindex = {
            ...reindex,
            state: "failed",
            finishedAt: new Date().toISOString(),
            durationMs: Date.now() - t0,
            error: (err as Error).message,
        };
        console.error(`reindex ${generation} failed, still serving the previous index: ${(err as Error).message}`);
    }
    const next = queued;
    queued = undefined;
    running = next ? runReindex(next.scope) : undefined;
}

function startReindex(scope: "full" | "incremental"): Promise<void> {
    requestReindex(scope);
    return running ?? Promise.resolve();
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, {
        ...headers,
        // Which release answered, on every answer (errors too): a client can tell whose errors it saw.
        "x-release-id": releaseId,
        "content-type": typeof body === "string" ? "text/plain; version=0.0.4" : "application/json",
        "content-length": Buffer.byteLength(text),
    });
    res.end(text);
}

function readBody(req: http.IncomingMessage, limit = 1 << 20): Promise<string> {
    return new Promise((resolve, reject) => {
        let size = 0;
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => {
            size += c.length;
            if (size > limit) reject(new Error("request body too large"));
            else chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

/**
 * The admin token: a file the release writes into the container before it starts
 * (ADMIN_TOKEN_FILE; not in `docker inspect`, unlike an environment variable), or
 * ADMIN_TOKEN for agents run by hand.
 */
let adminToken: string | undefined;
function expectedToken(): string | undefined {
    if (adminToken === undefined && env.ADMIN_TOKEN_FILE) {
        try {
            adminToken = fs.readFileSync(env.ADMIN_TOKEN_FILE, "utf8").trim() || undefined;
        } catch {
            adminToken = undefined; // refuse every admin call rather than crash
        }
    }
    return adminToken ?? env.ADMIN_TOKEN;
}

function authorized(req: http.IncomingMessage): boolean {
    const expected = expectedToken();
    const given = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    if (!expected || !given) return false;
    const a = crypto.createHash("sha256").update(given).digest();
    const b = crypto.createHash("sha256").update(expected).digest();
    return crypto.timingSafeEqual(a, b);
}

async function health(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    checks.knowledge = index ? { ok: true, detail: `${index.passages.length} passages` } : { ok: false, detail: "not indexed yet" };
    if (reindex.state === "failed")
        checks.reindex = { ok: true, detail: `last reindex failed, serving the previous index: ${reindex.error}` };
    try {
        await llm.ping();
        checks.llm = { ok: true, detail: llm.name };
    } catch (err) {
        checks.llm = { ok: false, detail: `${llm.name}: ${(err as Error).message}` };
    }
    if (faultHealth) checks.fault = { ok: false, detail: "FAULT_HEALTH=fail" };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
}

async function chat(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
    let body: { message?: unknown; stream?: unknown; conversationId?: unknown };
    try {
        body = JSON.parse(await readBody(req));
    } catch {
        send(res, 400, { error: 'body must be JSON: {"message": string, "stream"?: boolean}' });
        return 400;
    }
    if (typeof body.message !== "string" || body.message.length === 0) {
        send(res, 400, { error: "message must be a non-empty string" });
        return 400;
    }
    if (faultErrorRate > 0 && Math.random() < faultErrorRate) {
        send(res, 500, { error: "injected fault (FAULT_ERROR_RATE)" });
        return 500;
    }
    // The conversation: the proxy's X-Conversation-Id header (it assigns one to a first
    // message), else the body's field, else a new one.
    const header = req.headers["x-conversation-id"];
    const conversationId =
        typeof header === "string" && CONVERSATION_ID.test(header)
            ? header
            : typeof body.conversationId === "string" && CONVERSATION_ID.test(body.conversationId)
              ? body.conversationId
              : crypto.randomUUID();
    if (faultRefuseNew && !conversations.knows(conversationId)) {
        send(res, 429, { error: "not taking new conversations (FAULT_REFUSE_NEW_CONVERSATIONS)" });
        return 429;
    }
    const { turn } = conversations.take(conversationId, body.message);
    const conversationHeader = { "x-conversation-id": conversationId };
    const t0 = process.hrtime.bigint();
    const passage = index ? search(index, body.message) : undefined;
    if (!passage) metrics.fallbackAnswers++;
    if (faultLlmDelayMs > 0) await new Promise((r) => setTimeout(r, faultLlmDelayMs));
    const answer = await llm.answer(body.message, passage?.text);
    metrics.llmLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    const meta = { conversationId, turn, version, releaseId, source: passage?.file ?? null };
    const wantsStream = body.stream === true || (req.headers.accept ?? "").includes("text/event-stream");
    if (!wantsStream) {
        send(res, 200, { ...meta, answer }, conversationHeader);
        return 200;
    }
    res.writeHead(200, {
        ...conversationHeader,
        "x-release-id": releaseId,
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
    });
    res.write(`event: meta\ndata: ${JSON.stringify(meta)}\n\n`);
    const tokens = answer.split(/(\s+)/).filter((t) => t.trim().length > 0);
    openStreams.set(res, conversationId);
    try {
        for (const token of tokens) {
            if (res.destroyed || res.writableEnded) return res.writableEnded ? 200 : 499;
            res.write(`data: ${JSON.stringify({ token })}\n\n`);
            await new Promise((r) => setTimeout(r, tokenDelayMs));
        }
        if (res.writableEnded) return 200; // ended by the retirement
        res.end(`event: done\ndata: ${JSON.stringify({ tokens: tokens.length })}\n\n`);
        return 200;
    } finally {
        openStreams.delete(res);
    }
}

async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
    const url = new URL(req.url ?? "/", "http://agent");
    const key = `${req.method} ${url.pathname}`;
    switch (key) {
        case "GET /health": {
            if (faultHealthDelayMs > 0) await new Promise((r) => setTimeout(r, faultHealthDelayMs));
            const h = await health();
            send(res, h.ok ? 200 : 503, { status: h.ok ? "ok" : "unhealthy", version, releaseId, checks: h.checks });
            return h.ok ? 200 : 503;
        }
        case "GET /version":
            send(res, 200, { version, releaseId, startedAt });
            return 200;
        case "GET /metrics":
            send(
                res,
                200,
                metrics.render({
                    agent_knowledge_passages: index?.passages.length ?? 0,
                    agent_reindex_generation: reindex.generation,
                    agent_conversations_remembered: conversations.active(),
                }),
            );
            return 200;
        case "POST /v1/chat":
            return chat(req, res);
        case "POST /admin/reindex":
        case "GET /admin/reindex": {
            if (!authorized(req)) {
                send(res, 401, { error: "missing or wrong bearer token" });
                return 401;
            }
            if (req.method === "GET") {
                send(res, 200, reindex);
                return 200;
            }
            let scope: "full" | "incremental" = "full";
            try {
                const raw = await readBody(req);
                const parsed = raw ? JSON.parse(raw) : {};
                if (parsed.scope !== undefined && parsed.scope !== "full" && parsed.scope !== "incremental") throw new Error("scope");
                scope = parsed.scope ?? "full";
            } catch {
                send(res, 400, { error: 'body must be JSON: {"scope": "full" | "incremental"}' });
                return 400;
            }
            const generation = requestReindex(scope);
            send(res, 202, { ...reindex, accepted: generation });
            return 202;
        }
        default:
            send(res, 404, { error: `no route ${key}` });
            return 404;
    }
}

const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    const isChat = req.url?.startsWith("/v1/chat");
    if (isChat) metrics.activeConversations++;
    void route(req, res)
        .catch((err) => {
            console.error(err);
            if (!res.headersSent) send(res, 500, { error: "internal error" });
            else res.destroy();
            return 500;
        })
        .then((status) => {
            if (isChat) metrics.activeConversations--;
            metrics.countRequest(status);
            metrics.requestDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        });
});
server.keepAliveTimeout = 65_000; // longer than the proxy's idle timeout, so the proxy closes first

function drainMs(): number {
    try {
        const ms = Number(fs.readFileSync(DRAIN_FILE, "utf8").trim());
        return Number.isFinite(ms) && ms >= 0 ? ms : shutdownGraceMs;
    } catch {
        return shutdownGraceMs;
    }
}

// Graceful stop: refuse new connections, let in-flight requests and streams finish; at the
// drain deadline, end the streams still open with a final event that says why.
function shutdown(signal: string): void {
    const grace = drainMs();
    console.log(
        `${signal}: draining (${metrics.activeConversations} conversations in flight, ${openStreams.size} streams, drain ${grace} ms)`,
    );
    let reported = false;
    const report = (cut: number) => {
        if (!reported) console.log(`retired: ${cut} streams ended at the drain deadline`);
        reported = true;
    };
    server.close(() => {
        report(0);
        process.exit(0);
    });
    server.closeIdleConnections();
    const idle = setInterval(() => server.closeIdleConnections(), 200);
    setTimeout(() => {
        clearInterval(idle);
        const cut = openStreams.size;
        for (const [res, conversationId] of openStreams) {
            res.end(
                `event: retired\ndata: ${JSON.stringify({ reason: "this release was retired before the answer ended", conversationId, resume: true })}\n\n`,
            );
        }
        report(cut);
        setTimeout(() => process.exit(0), 200).unref();
    }, grace).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

setTimeout(() => {
    if (faultCrashAtStart) {
        console.error("fault: FAULT_CRASH_AT_START=1, exiting with code 3 before listening");
        process.exit(3);
    }
    // Touched page by page (Buffer.alloc fills with zeros), so it counts against the limit.
    for (let mb = 0; mb < faultAllocateMb; mb++) held.push(Buffer.alloc(1 << 20, 1));
    void startReindex("full").then(() => {
        server.listen(port, () => console.log(`agent ${version} (${releaseId}) listening on :${port}, llm ${llm.name}`));
    });
}, faultStartDelayMs);
