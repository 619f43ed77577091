// Probes through the proxy itself (curl inside the proxy container): the network path
// real traffic takes. A probe that cannot run counts as "no answer", never as a pass.
import type { ContainerExec } from "../docker/cli";
import { type Slot, slotOfServer } from "../core/slots";
import { EVALUATION_BODY_LIMIT, type HealthAnswer, type ProxyProbes, type Served } from "../engine/ports";
import type { TurnAnswer, TurnRequest } from "../core/evaluation";
import { REFERENCE_PROBE } from "../config/release";

function releaseIdOf(body: string): string | undefined {
    try {
        return (JSON.parse(body) as { releaseId?: string }).releaseId;
    } catch {
        return undefined;
    }
}

/**
 * The header the proxy adds to an answer to a request from inside its own container: the
 * name of the server that answered (proxy/haproxy.cfg.tmpl). Clients never see it.
 */
export const SERVER_HEADER = "x-zdt-server";
const WRITE_OUT = "%{http_code} %{time_total}";
/** Ends each answer's write-out when one curl makes several requests. */
export const ANSWER_END = "@@zdt-answer-end@@";

export interface CurlAnswer {
    /** HTTP status, 0 for no answer. */
    code: number;
    ms: number;
    /** Response headers, names in lower case. */
    headers: Record<string, string>;
    body: string;
}

/** `curl -sS -D - -w "\n%{http_code} %{time_total}"` output into its parts (pure). */
export function parseCurlAnswer(out: string): CurlAnswer {
    const lines = out.trimEnd().split("\n");
    const [code, secs] = (lines.pop() ?? "").split(" ");
    let rest = lines.join("\n");
    const headers: Record<string, string> = {};
    // Header blocks (a "100 Continue" may come first) end with an empty line.
    while (/^HTTP\/\S+ \d{3}/.test(rest)) {
        const end = rest.search(/\r?\n\r?\n/);
        const block = end < 0 ? rest : rest.slice(0, end);
        for (const line of block.split(/\r?\n/).slice(1)) {
            const i = line.indexOf(":");
            if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        rest = end < 0 ? "" : rest.slice(end).replace(/^\r?\n\r?\n/, "");
    }
    return { code: Number(code) || 0, ms: Math.round(Number(secs || 0) * 1000), headers, body: rest };
}

/** The answers of one curl that made several requests (each write-out ended by ANSWER_END), in order (pure). */
export function splitAnswers(out: string): CurlAnswer[] {
    return out
        .split(`\n${ANSWER_END}\n`)
        .slice(0, -1)
        .map((chunk) => parseCurlAnswer(chunk));
}

export class CurlProbes implements ProxyProbes {
    constructor(
        private readonly exec: ContainerExec,
        private readonly proxyPort: number,
        /** The agent's health path (agent.health.path). */
        private readonly healthPath = "/health",
        /** Where its Prometheus metrics are (agent.metrics.path); "" when it has none: none requested. */
        private readonly metricsPath = "/metrics",
        /** The synthetic request (release.probe). */
        private readonly probe: ProbeRequest = REFERENCE_PROBE,
    ) {}

    private url(path: string): string {
        return `http://127.0.0.1:${this.proxyPort}${path}`;
    }

    /** GET `path` through the proxy (pinned to `slot` if given), headers and body, then curl's status line. */
    private get(path: string, slot?: Slot): Promise<CurlAnswer> {
        const pin = slot ? ["-H", `x-zdt-slot: ${slot}`] : [];
        return this.exec(["curl", "-sS", "-D", "-", "--max-time", "5", ...pin, "-w", `\n${WRITE_OUT}`, this.url(path)]).then(
            parseCurlAnswer,
            (err: Error) => ({ code: 0, ms: 0, headers: {}, body: err.message }),
        );
    }

    /**
     * GET the health path through the proxy, pinned to one slot (the proxy routes a request
     * from inside its container with `x-zdt-slot` to that slot, whatever its weight).
     */
    async slotHealth(slot: Slot): Promise<HealthAnswer> {
        const a = await this.get(this.healthPath, slot);
        return { code: a.code, body: a.body, ms: a.ms, release: releaseIdOf(a.body), server: a.headers[SERVER_HEADER] };
    }

    /** GET /metrics of one slot's agent (pinned like slotHealth); undefined unless it answers 200. */
    async slotMetrics(slot: Slot): Promise<string | undefined> {
        if (!this.metricsPath) return undefined;
        const a = await this.get(this.metricsPath, slot);
        return a.code === 200 ? a.body : undefined;
    }

    /**
     * n GETs of the health path through the proxy (the weights decide) in one curl, one after
     * the other: the slot that answered each, as the proxy says, and the release if the agent
     * says it. No answer at all (curl failed) is one answer from no slot.
     */
    async served(n: number): Promise<Served[]> {
        const urls = Array.from({ length: n }, () => this.url(this.healthPath));
        const out = await this.exec(["curl", "-sS", "-D", "-", "--max-time", "5", "-w", `\n${WRITE_OUT}\n${ANSWER_END}\n`, ...urls]).catch(
            () => undefined,
        );
        if (out === undefined) return [{ slot: undefined }];
        return splitAnswers(out).map((a) => ({ slot: slotOfServer(a.headers[SERVER_HEADER]), release: releaseIdOf(a.body) }));
    }

    /** One evaluation turn, pinned to a slot (the body on stdin, the answer's first bytes read). */
    async slotRequest(slot: Slot, request: TurnRequest, timeoutMs: number): Promise<TurnAnswer> {
        const out = await this.exec(
            turnShell(slot, this.url(request.path), request, timeoutMs),
            request.body ?? "",
            timeoutMs + 10_000,
        ).catch((err: Error) => `no answer: ${err.message}`);
        return parseTurnOutput(out);
    }

    /** n synthetic requests (release.probe), in one curl: their answers count in the proxy's statistics like any request's. */
    async synthetic(n: number): Promise<void> {
        if (n <= 0) return;
        await this.exec(
            syntheticCurl(
                this.probe,
                Array.from({ length: n }, () => this.url(this.probe.path)),
            ),
        ).catch(() => undefined);
    }
}

/**
 * The shell line of an evaluation turn inside the proxy (pure): curl's arguments come as
 * the shell's own ("$@", never spliced into the script), its body on stdin; the headers and
 * the write-out first, then at most `limit` bytes of the body.
 */
export function turnShell(slot: Slot, url: string, request: TurnRequest, timeoutMs: number, limit = EVALUATION_BODY_LIMIT): string[] {
    const headers = Object.entries({ ...request.headers, "x-zdt-slot": slot }).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    const body = request.body !== undefined ? ["--data-binary", "@-"] : [];
    const script = `f=$(mktemp) || exit 1; curl "$@" -o "$f"; head -c ${limit} "$f"; rm -f "$f"`;
    const maxTime = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const args = [
        "-sS",
        "-D",
        "-",
        "--max-time",
        maxTime,
        "-X",
        request.method,
        ...headers,
        ...body,
        "-w",
        `\n${WRITE_OUT}\n${ANSWER_END}\n`,
        url,
    ];
    return ["sh", "-c", script, "sh", ...args];
}

/** turnShell's output: headers, the write-out line and its end mark, then the body (pure). */
export function parseTurnOutput(out: string): TurnAnswer {
    const mark = `\n${ANSWER_END}\n`;
    const at = out.indexOf(mark);
    if (at < 0) return { status: 0, ms: 0, body: out.slice(0, 200) };
    const head = parseCurlAnswer(out.slice(0, at));
    return { status: head.code, ms: head.ms, body: out.slice(at + mark.length) };
}

/** A synthetic request as release.probe describes it. */
export interface ProbeRequest {
    method: string;
    path: string;
    body: string;
    contentType: string;
}

/** The curl command of n synthetic requests (pure): a body and its type unless the method is GET. */
export function syntheticCurl(p: ProbeRequest, urls: string[]): string[] {
    const body = p.method === "GET" ? [] : ["-H", `content-type: ${p.contentType}`, "--data-binary", p.body];
    return ["curl", "-s", "-o", "/dev/null", "--max-time", "10", "-X", p.method, ...body, ...urls];
}
