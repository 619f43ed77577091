// Benchmark: knowledge hot reload through `pulumi up`, under load, for the shipped
// knowledge base and for one ten times its size.   npm run bench:reindex
// Prints the agent's own reindex time, the reindex command's time, pulumi up wall
// time and the failed requests seen by the strict client. Writes reports/reindex-*.json.
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { LoadGenerator } from "./loadClient";

const ROOT = path.join(__dirname, "..");
const app = `zbkb${crypto.randomBytes(3).toString("hex")}`;

function pulumi(args: string[]): string {
    return execFileSync("pulumi", [...args, "--stack", app, "--non-interactive"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const srv = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function folderBytes(dir: string): number {
    return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile()).reduce((n, e) => n + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
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
            fs.writeFileSync(target, rel.endsWith(".json")
                ? JSON.stringify((JSON.parse(text) as { q: string; a: string }[]).map((e2) => ({ q: `${e2.q} (${i})`, a: `${e2.a} [region ${i}]` })))
                : text.replace(/\n\n/g, ` (region ${i})\n\n`));
        }
    }
}

async function measure(kb: string, label: string, url: string, scope: string): Promise<Record<string, unknown>> {
    pulumi(["config", "set", "--path", "agent.reindex.scope", scope]);
    // Touch one file: the change that triggers the reindex.
    const first = fs.readdirSync(kb, { withFileTypes: true, recursive: true }).find((e) => e.isFile() && e.name.endsWith(".md"))!;
    fs.appendFileSync(path.join(first.parentPath, first.name), `\nUpdated at ${new Date().toISOString()}.\n`);
    const load = new LoadGenerator({ url, shortRps: 120, shortLoops: 6, streams: 4 });
    load.start();
    const t0 = Date.now();
    // Asynchronously, so the load client keeps running during the update.
    await promisify(execFile)("pulumi", ["up", "--yes", "--skip-preview", "--stack", app, "--non-interactive"], { cwd: ROOT });
    const upMs = Date.now() - t0;
    const traffic = await load.stop();
    const out = JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets"]));
    const last = JSON.parse(out.lastReindex ?? "{}");
    return { knowledge: label, bytes: folderBytes(kb), scope, agentReindexMs: last.agentMs, reindexCommandMs: last.totalMs, filesParsed: last.reparsed?.length, pulumiUpMs: upMs, requests: traffic.requests, failed: traffic.failed };
}

async function main(): Promise<void> {
    const kb = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-kb-bench-"));
    fs.chmodSync(kb, 0o755);
    fs.cpSync(path.join(ROOT, "knowledge"), kb, { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    execFileSync("pulumi", ["stack", "init", app, "--non-interactive"], { cwd: ROOT, stdio: "ignore" });
    const set = (k: string, v: string) => pulumi(["config", "set", "--path", k, v]);
    set("app", app);
    set("agent.version", "1.0.0");
    set("agent.image", "zdt-bench-agent");
    set("agent.buildContext", "agent");
    set("agent.knowledgeDir", kb);
    set("proxy.port", String(port));
    set("release.verifyWindowSeconds", "3");
    const rows: Record<string, unknown>[] = [];
    try {
        pulumi(["up", "--yes", "--skip-preview"]);
        for (const scope of ["full", "incremental"]) rows.push(await measure(kb, "shipped", url, scope));
        tenfold(path.join(ROOT, "knowledge"), kb);
        for (const scope of ["full", "incremental"]) rows.push(await measure(kb, "10x shipped", url, scope));
        console.table(rows);
        const file = path.join(ROOT, "reports", `reindex-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(rows, null, 2) + "\n");
        console.log(`report: ${path.relative(process.cwd(), file)}`);
    } finally {
        try {
            pulumi(["destroy", "--yes", "--skip-preview"]);
            pulumi(["stack", "rm", "--yes", "--force"]);
        } catch (err) {
            console.error(`cleanup of stack ${app} failed: ${(err as Error).message}`);
        }
        fs.rmSync(path.join(ROOT, `Pulumi.${app}.yaml`), { force: true });
        fs.rmSync(kb, { recursive: true, force: true });
    }
}

main().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
});
