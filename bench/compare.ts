// `npm run bench:compare -- [--reps 5] [--window 5] [--no-canary]`: the blueprint's nginx
// recipe, a naive recreate and our release, side by side on this machine, with the same
// agent and the same strict client (short requests, SSE streams, multi-turn
// conversations; keep-alive, no retries). Each method releases the next version once per
// repetition, in a rotated order. Then the proxies' latency overhead against a direct
// connection to an agent at the same rate. Prints progress; writes reports/compare-*.json.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoadGenerator } from "../load/client";
import type { TlsTrust } from "../load/transport";
import { standardLoad } from "../load/profile";
import { buildAgent, removeAgent, startAgent, waitHealthy } from "./compare/agents";
import type { ReleaseMethod } from "./compare/method";
import { NaiveRecreate } from "./compare/naive";
import { NginxRecipe } from "./compare/nginxRecipe";
import { OurRelease } from "./compare/ours";
import { type CompareReport, markdownTable, renderCompareHtml } from "./compare/report";
import { orderFor, rowOf, summarize, type ReleaseRow } from "./compare/summary";
import { freePort } from "../test/support/pulumi";
import { underLoad } from "../test/support/underLoad";
import { TestCa } from "../test/support/certificates";

const ROOT = path.join(__dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function args(argv: string[]): { reps: number; window: number; canary: boolean } {
    const out = { reps: 5, window: 5, canary: true };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--no-canary") out.canary = false;
        else if (argv[i] === "--reps" || argv[i] === "--window") {
            const n = Number(argv[++i]);
            if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`${argv[i - 1]} must be a whole number from 1 to 100`);
            out[argv[i - 1] === "--reps" ? "reps" : "window"] = n;
        } else throw new Error(`unknown argument "${argv[i]}"; allowed: --reps <n>, --window <seconds>, --no-canary`);
    }
    return out;
}

/** Short requests only, at a fixed rate, for `ms`: p50 and p99 of the answered ones. */
async function latency(url: string, ms: number, tls?: TlsTrust): Promise<{ p50?: number; p99?: number; samples: number; failed: number }> {
    const load = new LoadGenerator({ url, shortRps: 100, shortLoops: 4, streams: 0, tls });
    load.start();
    await sleep(ms);
    const r = await load.stop();
    return { ...r.shortLatencyMs, failed: r.failed };
}

/** Our proxy as shipped before it pooled server connections; measured for the latency only. */
const PER_REQUEST_VARIANT = "ours before pooling (a server connection per request)";
/** Our proxy terminating TLS (proxy.tls, a test CA's certificate): the latency over HTTPS, keep-alive connections. */
const TLS_VARIANT = "ours over HTTPS (TLS in the proxy)";
const TLS_HOST = "agents.test";

async function main(): Promise<void> {
    const opts = args(process.argv.slice(2));
    const t0 = Date.now();
    const log = (msg: string) => process.stderr.write(`[compare ${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
    const ports = await Promise.all(Array.from({ length: 10 }, () => freePort()));
    // The methods released under load; our proxy as it was before pooling joins for the latency only.
    const methods: ReleaseMethod[] = [
        new NginxRecipe(ports[0], [ports[1], ports[2]], opts.window * 1000),
        new NaiveRecreate(ports[3]),
        new OurRelease(ports[4], opts.window),
        ...(opts.canary ? [new OurRelease(ports[5], opts.window, "canary")] : []),
    ];
    const versions = Array.from({ length: opts.reps + 1 }, (_, i) => `${i + 1}.0.0`);
    const rows: ReleaseRow[] = [];
    const noChange: Record<string, number[]> = {};
    let overhead: Record<string, Awaited<ReturnType<typeof latency>>> = {};
    let ca: TestCa | undefined;
    try {
        log(`building the agent image for ${versions.length} versions`);
        for (const v of versions) await buildAgent(v);
        for (const m of methods) {
            log(`${m.name}: first deploy of 1.0.0`);
            await m.setup("1.0.0");
        }
        for (let rep = 0; rep < opts.reps; rep++) {
            const version = versions[rep + 1];
            for (const m of orderFor(methods, rep)) {
                log(`repetition ${rep + 1}/${opts.reps}: ${m.name} releases ${version} under load`);
                const { result: timings, report } = await underLoad(standardLoad(m.url), () => m.release(version));
                const row = rowOf(m.name, rep + 1, `${versions[rep]} -> ${version}`, report, timings);
                rows.push(row);
                log(
                    `  ${row.failed} failed of ${row.requests}${row.failures ? ` ${JSON.stringify(row.failures)}` : ""}, ${row.streamsTruncated} streams truncated, ${row.conversationsBroken} conversations broken, unavailable ${row.unavailableMs} ms, wall ${(row.wallMs / 1000).toFixed(1)} s`,
                );
            }
        }
        // The fixed cost: the same command with nothing to change, as often as there were releases.
        for (const m of methods.filter((x) => x.noChange))
            for (let rep = 0; rep < opts.reps; rep++) {
                log(`${m.name}: the same command with nothing to change (${rep + 1}/${opts.reps})`);
                noChange[m.name] = [...(noChange[m.name] ?? []), await m.noChange!()];
                log(`  wall ${(noChange[m.name].at(-1)! / 1000).toFixed(1)} s`);
            }
        log("proxy overhead: 100 short requests/s for 15 s each, direct and through each proxy");
        await startAgent("zdt-compare-direct", versions[versions.length - 1], ports[6]);
        await waitHealthy(`http://127.0.0.1:${ports[6]}`, 250);
        overhead = { direct: await latency(`http://127.0.0.1:${ports[6]}`, 15_000) };
        for (const m of methods.filter((x) => !(x instanceof NaiveRecreate))) overhead[m.name] = await latency(m.url, 15_000);
        // For comparison: our proxy as it was before it pooled server connections (a new
        // connection to the agent per request), measured in the same run.
        const template = fs.readFileSync(path.join(ROOT, "proxy", "haproxy.cfg.tmpl"), "utf8");
        if (!template.includes("\n  http-reuse safe\n")) throw new Error("proxy/haproxy.cfg.tmpl no longer says http-reuse safe");
        const perRequestTemplate = path.join(os.tmpdir(), `zdt-compare-${process.pid}.cfg.tmpl`);
        fs.writeFileSync(perRequestTemplate, template.replace("\n  http-reuse safe\n", "\n  option http-server-close\n"));
        const before = new OurRelease(ports[7], opts.window, "blue-green", {
            name: PER_REQUEST_VARIANT,
            config: { "proxy.configTemplate": perRequestTemplate },
        });
        methods.push(before);
        log(`${before.name}: deploy, then the same latency measurement`);
        await before.setup(versions[versions.length - 1]);
        overhead[before.name] = await latency(before.url, 15_000);
        // HTTPS beside plain HTTP: the same proxy and agent, TLS terminated in HAProxy.
        ca = TestCa.create("zdt bench CA");
        const issued = ca.issue([TLS_HOST], 30);
        const overTls = new OurRelease(ports[8], opts.window, "blue-green", {
            name: TLS_VARIANT,
            config: { "proxy.tls.mode": "certificate", "proxy.tls.hosts[0]": TLS_HOST, "proxy.tls.port": String(ports[9]) },
            secrets: { "proxy.tls.certificate": issued.certificate, "proxy.tls.key": issued.key },
            url: `https://${TLS_HOST}:${ports[9]}`,
        });
        methods.push(overTls);
        log(`${overTls.name}: deploy, then the same latency measurement over HTTPS`);
        await overTls.setup(versions[versions.length - 1]);
        overhead[overTls.name] = await latency(overTls.url, 15_000, { ca: ca.certificate, hosts: { [TLS_HOST]: "127.0.0.1" } });
    } finally {
        log("tearing down");
        await removeAgent("zdt-compare-direct");
        for (const m of methods) await m.teardown().catch((err: Error) => log(`teardown of ${m.name}: ${err.message}`));
        ca?.remove();
    }
    const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 1e9)} GB, load average ${os.loadavg()[0].toFixed(2)}`;
    const report: CompareReport = {
        at: new Date(t0).toISOString(),
        machine,
        command: `npm run bench:compare -- --reps ${opts.reps} --window ${opts.window}${opts.canary ? "" : " --no-canary"}`,
        reps: opts.reps,
        windowSeconds: opts.window,
        summary: summarize(rows),
        overhead,
        rows,
        noChange,
    };
    fs.mkdirSync(path.join(ROOT, "reports"), { recursive: true });
    const file = path.join(ROOT, "reports", `compare-${report.at.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    fs.writeFileSync(file.replace(/\.json$/, ".html"), renderCompareHtml(report));
    console.log(markdownTable(report));
    console.log(`\n${report.command}, ${Math.round((Date.now() - t0) / 60000)} min, on ${machine}`);
    console.log(`report: ${path.relative(process.cwd(), file)} and .html`);
}

main().catch((err: Error) => {
    console.error(`bench:compare: ${err.message}`);
    process.exit(1);
});
