// Benchmark: knowledge hot reload through `pulumi up`, under load, for the shipped
// knowledge base and for one ten times its size.   npm run bench:reindex
// Prints the agent's own reindex time, the reindex command's time, pulumi up wall
// time and the failed requests seen by the strict client. Writes reports/reindex-*.json.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoadGenerator } from "../load/client";
import { standardLoad } from "../load/profile";
import { TestStack, freePort, uniqueName } from "../test/support/pulumi";

const ROOT = path.join(__dirname, "..");
const app = uniqueName("zbkb");
const stack = new TestStack(ROOT, app);

function folderBytes(dir: string): number {
    return fs
        .readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .reduce((n, e) => n + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
}

/** Ten copies of every file, each with its own wording, so nothing is de-duplicated. */
function tenfold(src: string, dst: string): void {
    for (const e of fs.readdirSync(src, { withFileTypes: true, recursive: true })) {
        if (!e.isFile()) continue;
        const rel = path.relative(src, path.join(e.parentPath, e.name));
        const text = fs.readFileSync(path.join(src, rel), "utf8");
        for (let i = 0; i < 10; i++) {
            const target = path.join(dst, path.dirname(rel), `${i}-${path.basename(rel)}`);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(
                target,
                rel.endsWith(".json")
                    ? JSON.stringify(
                          (JSON.parse(text) as { q: string; a: string }[]).map((e2) => ({
                              q: `${e2.q} (${i})`,
                              a: `${e2.a} [region ${i}]`,
                          })),
                      )
                    : text.replace(/\n\n/g, ` (region ${i})\n\n`),
            );
        }
    }
}

async function measure(kb: string, label: string, url: string, scope: string): Promise<Record<string, unknown>> {
    await stack.setConfig("agent.reindex.scope", scope);
    // Touch one file: the change that triggers the reindex.
    const first = fs.readdirSync(kb, { withFileTypes: true, recursive: true }).find((e) => e.isFile() && e.name.endsWith(".md"))!;
    fs.appendFileSync(path.join(first.parentPath, first.name), `\nUpdated at ${new Date().toISOString()}.\n`);
    const load = new LoadGenerator(standardLoad(url));
    load.start();
    const t0 = Date.now();
    const up = await stack.up();
    const upMs = Date.now() - t0;
    const traffic = await load.stop();
    if (up.code !== 0) throw new Error(`pulumi up failed:\n${up.stdout}${up.stderr}`);
    const out = await stack.outputs(true);
    const last = JSON.parse(out.lastReindex ?? "{}");
    return {
        knowledge: label,
        bytes: folderBytes(kb),
        scope,
        agentReindexMs: last.agentMs,
        reindexCommandMs: last.totalMs,
        filesParsed: last.reparsed?.length,
        pulumiUpMs: upMs,
        requests: traffic.requests,
        failed: traffic.failed,
    };
}

async function main(): Promise<void> {
    const kb = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-kb-bench-"));
    fs.chmodSync(kb, 0o755);
    fs.cpSync(path.join(ROOT, "knowledge"), kb, { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await stack.init({
        app,
        "agent.version": "1.0.0",
        "agent.image": "zdt-bench-agent",
        "agent.buildContext": "agent",
        "agent.knowledgeDir": kb,
        "proxy.port": String(port),
        "release.verifyWindowSeconds": "3",
    });
    const rows: Record<string, unknown>[] = [];
    try {
        const first = await stack.up();
        if (first.code !== 0) throw new Error(`first deploy failed:\n${first.stdout}${first.stderr}`);
        for (const scope of ["full", "incremental"]) rows.push(await measure(kb, "shipped", url, scope));
        tenfold(path.join(ROOT, "knowledge"), kb);
        for (const scope of ["full", "incremental"]) rows.push(await measure(kb, "10x shipped", url, scope));
        console.table(rows);
        const file = path.join(ROOT, "reports", `reindex-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(rows, null, 2) + "\n");
        console.log(`report: ${path.relative(process.cwd(), file)}`);
    } finally {
        await stack.remove();
        fs.rmSync(kb, { recursive: true, force: true });
    }
}

main().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
});
