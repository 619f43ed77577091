// Knowledge-base hot reload, run by the KnowledgeReload command resource when the
// knowledge folder's content digest changes: POST /admin/reindex on the live agent
// (through the proxy container's network, so it works with a remote Docker host),
// then wait until the agent reports that reindex done or failed. Input: the reindex
// contract in the environment, the admin token on stdin. The token reaches curl on
// its stdin (`-H @-`), never on a command line.
import { containerExec, docker } from "../../docker/cli";
import { HaproxyAdmin } from "../../haproxy/admin";
import { servingProxy } from "../../docker/servingProxy";
import { ReindexInput, reindexContract, ReindexResult, ReindexResultSchema } from "../../contracts/reindexContract";
import { liveSlot } from "../../core/slots";

const POLL_MS = 200;

interface Status {
    state: string;
    generation: number;
    accepted?: number;
    error?: string;
    durationMs?: number;
    reparsed?: string[];
    scope?: string;
}

/** The agent container the proxy serves now. */
async function liveAgent(proxy: string): Promise<string> {
    const slots = await new HaproxyAdmin(containerExec(proxy), proxy).slots();
    const live = liveSlot(slots);
    if (!live) throw new Error(`the proxy ${proxy} serves no release: nothing to reindex`);
    return slots[live].fqdn;
}

async function admin(
    input: ReindexInput,
    proxy: string,
    target: string,
    token: string,
    method: "GET" | "POST",
    body?: string,
): Promise<{ code: number; json: Status }> {
    const args = ["exec", "-i", proxy, "curl", "-sS", "--max-time", "10", "-H", "@-", "-X", method, "-w", "\n%{http_code}"];
    if (body) args.push("-H", "content-type: application/json", "-d", body);
    args.push(`http://${target}:${input.agentPort}/admin/reindex`);
    const out = await docker(args, `Authorization: Bearer ${token}\n`, 20_000).catch((err: Error) => {
        throw new Error(`cannot reach ${target} through ${proxy}: ${err.message}`);
    });
    const lines = out.trimEnd().split("\n");
    const code = Number(lines.pop());
    let json = {} as Status;
    try {
        json = JSON.parse(lines.join("\n"));
    } catch {
        /* non-JSON answer: judged by its code */
    }
    return { code, json };
}

/**
 * agent.reindex.mode hook: the agent's own reload request, once, on the live agent; done
 * when it answers 2xx. The token travels on curl's stdin as the header line (`-H @-`).
 */
async function hook(input: ReindexInput, proxy: string, target: string, token: string, t0: number): Promise<ReindexResult> {
    const args = ["exec", "-i", proxy, "curl", "-sS", "-o", "/dev/null", "--max-time", String(input.reindexTimeoutSeconds)];
    args.push("-H", "@-", "-X", input.hookMethod, "-w", "%{http_code}");
    if (input.hookBody && input.hookMethod !== "GET")
        args.push("-H", `content-type: ${input.hookContentType}`, "--data-binary", input.hookBody);
    args.push(`http://${target}:${input.agentPort}${input.hookPath}`);
    const line = `${input.hookHeader}: ${input.hookScheme === "bearer" ? "Bearer " : ""}${token}\n`;
    const out = await docker(args, line, (input.reindexTimeoutSeconds + 10) * 1000).catch((err: Error) => {
        throw new Error(`cannot reach ${target} through ${proxy}: ${err.message}`);
    });
    const status = Number(out.trim());
    const what = `${input.hookMethod} ${input.hookPath} (agent.reindex.hook) on ${target}`;
    if (status === 401 || status === 403)
        throw new Error(`${what} refused the token (${status}): does the agent check ${input.hookHeader} against its token variable?`);
    if (!(status >= 200 && status < 300)) throw new Error(`${what} answered ${status || "nothing"}; the agent keeps what it had`);
    process.stderr.write(`reload hook ${what}: ${status}\n`);
    return ReindexResultSchema.parse({ status, totalMs: Date.now() - t0, reparsed: [] });
}

export async function reindex(input: ReindexInput, token: string, t0 = Date.now()): Promise<ReindexResult> {
    const proxy = await servingProxy(input.app);
    const target = await liveAgent(proxy);
    if (input.reindexMode === "hook") return hook(input, proxy, target, token, t0);
    const started = await admin(input, proxy, target, token, "POST", JSON.stringify({ scope: input.reindexScope }));
    if (started.code === 401) throw new Error(`the agent ${target} rejected the admin token (401)`);
    if (started.code !== 202) throw new Error(`POST /admin/reindex on ${target} answered ${started.code}`);
    const generation = started.json.accepted ?? started.json.generation;
    process.stderr.write(`reindex (${input.reindexScope}) of ${target} accepted as generation ${generation}\n`);
    for (;;) {
        const { code, json } = await admin(input, proxy, target, token, "GET");
        if (code !== 200) throw new Error(`GET /admin/reindex on ${target} answered ${code}`);
        if (json.generation > generation || (json.generation === generation && (json.state === "done" || json.state === "failed"))) {
            if (json.generation === generation && json.state === "failed") {
                throw new Error(`reindex of ${target} failed: ${json.error}. The agent keeps answering from its previous index.`);
            }
            return ReindexResultSchema.parse({
                generation: json.generation,
                scope: json.scope,
                agentMs: json.durationMs,
                totalMs: Date.now() - t0,
                reparsed: json.reparsed ?? [],
            });
        }
        if (Date.now() - t0 > input.reindexTimeoutSeconds * 1000)
            throw new Error(`reindex of ${target} did not finish within ${input.reindexTimeoutSeconds}s (state: ${json.state})`);
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
}

async function readStdin(): Promise<string> {
    let data = "";
    for await (const chunk of process.stdin) data += chunk;
    return data.trim();
}

if (require.main === module) {
    (async () => {
        const t0 = Date.now();
        const input = reindexContract.decode(process.env);
        const token = await readStdin();
        if (!token) throw new Error("knowledge reindex: the admin token must come on stdin");
        process.stdout.write(JSON.stringify(await reindex(input, token, t0)) + "\n");
    })().catch((err: Error) => {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
    });
}
