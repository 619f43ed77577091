// Knowledge-base hot reload, run by the KnowledgeReload command resource when the
// knowledge folder's content digest changes: POST /admin/reindex on the live agent
// (through the proxy container's network, so it works with a remote Docker host),
// then wait until the agent reports that reindex done or failed.
// The admin token reaches curl on stdin (`-H @-`), never on a command line.
import { execFile } from "child_process";

const env = process.env;
function need(name: string): string {
    const v = env[name];
    if (!v) throw new Error(`reindex: environment variable ${name} is required`);
    return v;
}
const PROXY = need("PROXY_CONTAINER");
const TARGET = need("TARGET_CONTAINER");
const TOKEN = need("ADMIN_TOKEN");
const PORT = env.AGENT_PORT ?? "8080";
const SCOPE = env.REINDEX_SCOPE ?? "incremental";
const TIMEOUT_MS = Number(env.REINDEX_TIMEOUT_SECONDS ?? 120) * 1000;
const t0 = Date.now();

interface Status { state: string; generation: number; accepted?: number; error?: string; durationMs?: number; reparsed?: string[]; scope?: string }

function admin(method: "GET" | "POST", body?: string): Promise<{ code: number; json: Status }> {
    const args = ["exec", "-i", PROXY, "curl", "-sS", "--max-time", "10", "-H", "@-", "-X", method, "-w", "\n%{http_code}"];
    if (body) args.push("-H", "content-type: application/json", "-d", body);
    args.push(`http://${TARGET}:${PORT}/admin/reindex`);
    return new Promise((resolve, reject) => {
        const child = execFile("docker", args, { timeout: 20000 }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`cannot reach ${TARGET} through ${PROXY}: ${(stderr || err.message).trim()}`));
            const lines = stdout.trimEnd().split("\n");
            const code = Number(lines.pop());
            let json = {} as Status;
            try {
                json = JSON.parse(lines.join("\n"));
            } catch {
                /* non-JSON answer: judged by its code */
            }
            resolve({ code, json });
        });
        child.stdin?.end(`Authorization: Bearer ${TOKEN}\n`);
    });
}

async function main(): Promise<void> {
    const started = await admin("POST", JSON.stringify({ scope: SCOPE }));
    if (started.code === 401) throw new Error(`the agent ${TARGET} rejected the admin token (401)`);
    if (started.code !== 202) throw new Error(`POST /admin/reindex on ${TARGET} answered ${started.code}`);
    const generation = started.json.accepted ?? started.json.generation;
    process.stderr.write(`reindex (${SCOPE}) of ${TARGET} accepted as generation ${generation}\n`);
    for (;;) {
        const { code, json } = await admin("GET");
        if (code !== 200) throw new Error(`GET /admin/reindex on ${TARGET} answered ${code}`);
        if (json.generation > generation || (json.generation === generation && (json.state === "done" || json.state === "failed"))) {
            if (json.generation === generation && json.state === "failed") {
                throw new Error(`reindex of ${TARGET} failed: ${json.error}. The agent keeps answering from its previous index.`);
            }
            process.stdout.write(JSON.stringify({ generation: json.generation, scope: json.scope, agentMs: json.durationMs, totalMs: Date.now() - t0, reparsed: json.reparsed ?? [] }) + "\n");
            return;
        }
        if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`reindex of ${TARGET} did not finish within ${TIMEOUT_MS / 1000}s (state: ${json.state})`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

main().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
});
