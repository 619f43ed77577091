// Knowledge-base hot reload, run by the KnowledgeReload command resource when the
// knowledge folder's content digest changes: the evaluation set on the live release (its
// answers with the knowledge that serves), the volume's files kept, the folder put in the
// volume, POST /admin/reindex on the live agent (through the proxy container's network, so
// it works with a remote Docker host) and its status polled (or the agent's own reload
// hook), then the set again. A regression (core/evaluation.ts evaluationVerdict, as a
// release's) puts the kept files back, reindexes them, and fails the update naming each
// case with both answers. Input: the reindex contract in the environment, the admin token
// on stdin. The token reaches curl on its stdin (`-H @-`), never on a command line.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { containerExec, docker } from "../../docker/cli";
import { imageOf, restoreFrom, saveTo, writeFolder } from "../../docker/knowledgeVolume";
import { failedCases, replaySet, sideBySide } from "../../engine/evaluationGate";
import { judgeOf } from "../../engine/judge";
import { CurlProbes } from "../../haproxy/probes";
import type { Slot } from "../../core/slots";
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

/** The agent container the proxy serves now, and its slot. */
async function liveAgent(proxy: string): Promise<{ slot: Slot; fqdn: string }> {
    const slots = await new HaproxyAdmin(containerExec(proxy), proxy).slots();
    const live = liveSlot(slots);
    if (!live) throw new Error(`the proxy ${proxy} serves no release: nothing to reindex`);
    return { slot: live, fqdn: slots[live].fqdn };
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

/** The live agent reindexes what its knowledge folder holds now (its endpoint, or its own reload hook). */
async function reindexLive(input: ReindexInput, proxy: string, target: string, token: string, t0: number): Promise<ReindexResult> {
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

/**
 * The reload: the set on the live release (the knowledge that serves), its files kept, the
 * folder in the volume, the reindex, the set again; a regression puts the kept files back.
 */
export async function reindex(input: ReindexInput, token: string, t0 = Date.now()): Promise<ReindexResult> {
    const proxy = await servingProxy(input.app);
    const live = await liveAgent(proxy);
    const ev = input.evaluation;
    const evaluate = ev.cases.length > 0;
    const deps = {
        probes: new CurlProbes(containerExec(proxy), input.proxyPort),
        ...judgeOf(ev),
    };
    const stamp = `${t0.toString(36)}-reload`;
    const evalStart = Date.now();
    const before = evaluate ? await replaySet(deps, ev, live.slot, `${stamp}-before`) : undefined;
    const beforeMs = Date.now() - evalStart;
    const helper = await imageOf(proxy);
    const kept = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-knowledge-"));
    const keptFile = path.join(kept, "previous.tar");
    try {
        await saveTo(input.volume, helper, keptFile);
        await writeFolder(input.volume, helper, input.knowledgeDir);
        let result: ReindexResult;
        try {
            result = await reindexLive(input, proxy, live.fqdn, token, t0);
        } catch (err) {
            // The agent keeps its previous index; the volume gets the previous files back, so
            // what it holds is what serves (a later restart reads the same).
            await restoreFrom(input.volume, helper, keptFile);
            throw err;
        }
        if (!evaluate) return result;
        const afterStart = Date.now();
        const after = await replaySet(deps, ev, live.slot, `${stamp}-after`);
        const { record, verdict } = sideBySide(ev, after, before, beforeMs + Date.now() - afterStart);
        if (verdict.passed) {
            process.stderr.write(
                `evaluation after the reindex passed: ${Math.round(verdict.newPassPercent)} % (before ${Math.round(verdict.livePassPercent ?? 0)} %)\n`,
            );
            return { ...result, totalMs: Date.now() - t0, evaluation: record };
        }
        const back = Date.now();
        await restoreFrom(input.volume, helper, keptFile);
        await reindexLive({ ...input, reindexScope: "full" }, proxy, live.fqdn, token, back);
        throw new Error(
            `knowledge reload rolled back: with the new knowledge ${live.fqdn} ${verdict.reason} (the live release: the same agent with the previous knowledge, before the reindex). ` +
                `The previous knowledge is back in ${input.volume} and reindexed in ${Date.now() - back} ms; it serves again.\n` +
                failedCases(record, { next: "new knowledge", live: "previous" }),
        );
    } finally {
        fs.rmSync(kept, { recursive: true, force: true });
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
