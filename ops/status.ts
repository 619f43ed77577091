// `npm run status`: the blueprint's monitoring table for the live release (and a canary,
// during one), refreshed in place. Each refresh judges the interval since the last one
// with the verification's own rules and thresholds (the stack's, from its last release
// report), so OK / WARN / ALERT here mean what they mean to a release.
//
//   npm run status -- [--stack <name>] [--proxy <container>] [--interval <seconds>] [--once]
//
// --once prints one table (after one interval) and exits: 0, or 2 when a row is ALERT
// (the proxy's conversation table full, evicting pins, is one too; on Swarm, a node's
// proxy that does not answer).
import { execFile } from "child_process";
import { countsSince } from "../core/counters";
import { histogramDelta, parseHistogram, quantile, type Histogram } from "../core/agentMetrics";
import { containerExec } from "../docker/cli";
import { activeOf, fillOf, pinnedOf, type TableFill, type TableSummary } from "../core/conversationTables";
import { BACKEND, HaproxyAdmin } from "../haproxy/admin";
import { dockerContainers } from "../docker/releaseContainer";
import { LATENCY_QUANTILE, LLM_HISTOGRAM } from "../engine/releaseReadings";
import { conversationSample } from "../core/verdict";
import { SLOTS, type Slot, type Thresholds } from "../contracts/switchContract";
import { ReleaseSchema } from "../config/schema";
import { servingProxyExec } from "../docker/servingProxy";
import { stackOf } from "./findProxy";
import {
    activeConversationTotal,
    certificateStatus,
    type NodeStatus,
    nodeLines,
    renderStatus,
    statusRows,
    tableStatus,
    type ReleaseStatus,
} from "./statusTable";
import { clusterProxies } from "../platform/swarm/clusterProxies";
import { runsProxy } from "../config/swarm";
import type { SwarmProxies } from "../platform/swarm/swarmProxies";
import { SwarmServices } from "../platform/swarm/swarmServices";
import { HaproxyCertificates, keeperStatusText } from "../haproxy/certificates";
import { TlsSchema } from "../config/tls";
import { type ContainerMemory, type ProxyAdmin, type ServerStats, type ProxyProbes } from "../engine/ports";
import { CurlProbes } from "../haproxy/probes";
import { CERTIFICATE_FILE, PROXY_INTERNAL_PORT, swarmProxyService } from "../core/proxyNames";
import { acmeStatusLine, parseAcmeStatus } from "../core/acmeStatus";
import { type AgentHealth, expectedCode, failedChecks, HEALTH_DEFAULTS } from "../core/health";

export class StatusError extends Error {}

export interface StatusArgs {
    stack?: string;
    proxy?: string;
    intervalSeconds: number;
    once: boolean;
}

export function parseStatusArgs(argv: string[]): StatusArgs {
    const args: StatusArgs = { intervalSeconds: 5, once: false };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--once") {
            args.once = true;
            continue;
        }
        const value = argv[i + 1];
        if (!["--stack", "--proxy", "--interval"].includes(flag))
            throw new StatusError(`unknown argument "${flag}"; allowed: --stack <name>, --proxy <container>, --interval <seconds>, --once`);
        if (value === undefined || value.startsWith("--")) throw new StatusError(`${flag} needs a value`);
        if (flag === "--interval") {
            const n = Number(value);
            if (!Number.isInteger(n) || n < 1 || n > 3600)
                throw new StatusError(`--interval must be whole seconds from 1 to 3600, not "${value}"`);
            args.intervalSeconds = n;
        } else args[flag === "--stack" ? "stack" : "proxy"] = value;
        i++;
    }
    return args;
}

function pulumiOutput(name: string, stack: string | undefined): Promise<string> {
    const args = ["stack", "output", name, "--json", ...(stack ? ["--stack", stack] : [])];
    return new Promise((resolve, reject) =>
        execFile("pulumi", args, { timeout: 60_000 }, (err, stdout, stderr) =>
            err ? reject(new StatusError(`pulumi ${args.join(" ")}: ${(stderr || err.message).trim()}`)) : resolve(stdout.trim()),
        ),
    );
}

/** One reading of a serving slot: what later readings are counted from. */
interface Reading {
    stats: ServerStats;
    llm: Histogram | undefined;
    hasMetrics: boolean;
}

/** What the view reads: one host's proxy (HaproxyAdmin), or every node's proxy of a swarm as one (SwarmProxies). */
type StatusProxy = Pick<ProxyAdmin, "slots" | "stats"> & { tables(): Promise<Map<string, TableSummary>> };

async function read(admin: StatusProxy, probes: ProxyProbes, slot: Slot): Promise<Reading> {
    const [stats, text] = await Promise.all([admin.stats(slot), probes.slotMetrics(slot)]);
    const llm = text === undefined ? undefined : parseHistogram(text, LLM_HISTOGRAM);
    return { stats, llm, hasMetrics: llm !== undefined };
}

/**
 * What a refresh compares with: each slot's last reading, the active conversations at the
 * first refresh, and how many refreshes in a row showed a drop (as the gate counts readings).
 */
interface Previous {
    readings: Map<string, Reading>;
    /** On Swarm: each node's proxy's totals (its frontend) at the last refresh. */
    nodes?: Map<string, { requests: number; errors5xx: number }>;
    conversationsAtStart?: number | null;
    dropStreak?: number;
}

/**
 * The releases taking traffic, judged over the interval since `previous`, and the pinning
 * table's fill: the stick tables are read once (their header lines) for every count.
 */
async function statuses(
    admin: StatusProxy,
    probes: ProxyProbes,
    previous: Previous,
    thresholds: Thresholds,
    agentHealth: AgentHealth,
    /** A release's memory against its limit: its container's, or on Swarm its highest task's (each node's engine). */
    memoryOf: (fqdn: string) => Promise<ContainerMemory | undefined>,
): Promise<{ releases: ReleaseStatus[]; table: TableFill | undefined }> {
    const [slots, tables] = await Promise.all([admin.slots(), admin.tables()]);
    const serving = SLOTS.filter((s) => !slots[s].maint && slots[s].weight > 0).sort((a, b) => slots[b].weight - slots[a].weight);
    const releases = await Promise.all(
        serving.map(async (slot, i): Promise<ReleaseStatus> => {
            const key = `${slot} ${slots[slot].fqdn}`;
            const [now, health, memory] = await Promise.all([
                read(admin, probes, slot),
                probes.slotHealth(slot),
                memoryOf(slots[slot].fqdn),
            ]);
            const [pinned, active] = [pinnedOf(tables, slot), activeOf(tables, slot)];
            const before = previous.readings.get(key);
            previous.readings.set(key, now);
            const window = now.llm && histogramDelta(before?.llm, now.llm);
            // The proxy's counters since the last refresh: a reload or a hand-over between the two restarted them.
            const counts = countsSince(before && { req: before.stats.req, err5xx: before.stats.err5xx }, {
                req: now.stats.req,
                err5xx: now.stats.err5xx,
            }).counts;
            const q = window && quantile(window, LATENCY_QUANTILE);
            return {
                slot,
                release: health.release ?? slots[slot].fqdn,
                weight: slots[slot].weight,
                role: i === 0 ? "live" : "canary",
                conversations: pinned.count,
                activeConversations: active,
                sample: {
                    requests: counts.req,
                    errors5xx: counts.err5xx,
                    avgResponseMs: now.stats.rtimeMs,
                    health: {
                        code: health.code,
                        ms: health.ms,
                        // What a failing answer said (its failed checks, or its first words), on one line.
                        failedChecks:
                            health.code === expectedCode(agentHealth.expectStatus)
                                ? ""
                                : failedChecks(health.body).replace(/\s+/g, " ").slice(0, 80),
                        badStreak: 0,
                        expected: expectedCode(agentHealth.expectStatus),
                    },
                    llm: now.hasMetrics ? { p95Ms: q === undefined ? undefined : q * 1000, answers: window?.count ?? 0 } : null,
                    memory: memory ?? null,
                },
            };
        }),
    );
    // The conversation gate's question, asked of the view: have active conversations (all
    // releases) dropped since the view started? The first refresh is the baseline.
    const total = activeConversationTotal(releases);
    if (previous.conversationsAtStart === undefined) previous.conversationsAtStart = total;
    const baseline = previous.conversationsAtStart;
    const conversations = conversationSample(
        total === null || baseline === null ? null : { active: total, baseline },
        previous.dropStreak ?? 0,
        thresholds,
    );
    previous.dropStreak = conversations?.dropStreak ?? 0;
    for (const r of releases) r.sample.conversations = conversations;
    return { releases, table: fillOf(tables, BACKEND) };
}

/** Each node's proxy on a swarm over the interval since the last refresh (one `show stat` each: its frontend), or why it did not answer. */
async function nodeStatuses(cluster: SwarmProxies, previous: Previous): Promise<NodeStatus[]> {
    previous.nodes ??= new Map();
    return (await cluster.totalsByNode()).map(({ node, totals, why }) => {
        if (!totals) return { node, why };
        const before = previous.nodes!.get(node);
        previous.nodes!.set(node, totals);
        return { node, ...countsSince(before, totals).counts };
    });
}

async function main(argv: string[]): Promise<void> {
    const args = parseStatusArgs(argv);
    // The proxy: the one named, or whichever of the stack's app serves at each reading (a
    // proxy image change hands over to a new container while the view runs), or, when no
    // stack file names the app, the stack's output. A swarm stack: every node's proxy,
    // summed, through each node's engine (the stack file's swarm.nodes).
    const stack = args.proxy ? undefined : stackOf(__dirname, args.stack);
    const [app, swarm] = [stack?.app, stack?.swarm];
    const cluster =
        swarm && app
            ? clusterProxies(swarm.nodes, swarmProxyService(app), swarm, {
                  log: () => undefined,
                  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
              })
            : undefined;
    const proxy =
        args.proxy ??
        (cluster
            ? `the proxies of ${app} on ${swarm!.nodes
                  .filter(runsProxy)
                  .map((n) => n.name)
                  .join(", ")}`
            : app
              ? `the serving proxy of ${app}`
              : JSON.parse(await pulumiOutput("proxyContainer", args.stack)));
    let thresholds: Thresholds = ReleaseSchema.parse({}).thresholds;
    let source = "the schema's defaults";
    let agentHealth: AgentHealth = HEALTH_DEFAULTS;
    if (!args.proxy || args.stack) {
        const report = JSON.parse(await pulumiOutput("releaseReport", args.stack).catch(() => "null"));
        if (report?.judgedAgainst?.thresholds) {
            thresholds = report.judgedAgainst.thresholds;
            agentHealth = report.judgedAgainst.health ?? HEALTH_DEFAULTS;
            source = "the stack's last release";
        }
    }
    const exec = cluster ? cluster.anyProxy : app ? servingProxyExec(app) : containerExec(proxy);
    const admin: StatusProxy = cluster ? cluster.admin : new HaproxyAdmin(exec, proxy);
    const probes = new CurlProbes(exec, PROXY_INTERNAL_PORT, agentHealth.path);
    const previous: Previous = { readings: new Map() };
    const services = swarm && new SwarmServices(swarm.nodes.map((n) => n.engine));
    const memory = (fqdn: string) => (services ? services.memory(fqdn) : dockerContainers.memory(fqdn));
    await statuses(admin, probes, previous, thresholds, agentHealth, memory);
    if (cluster) await nodeStatuses(cluster.admin, previous);
    for (;;) {
        await new Promise((r) => setTimeout(r, args.intervalSeconds * 1000));
        const { releases, table } = await statuses(admin, probes, previous, thresholds, agentHealth, memory);
        const nodes = cluster ? nodeLines(await nodeStatuses(cluster.admin, previous), args.intervalSeconds) : [];
        const title = `${proxy}: the last ${args.intervalSeconds}s, judged against ${source} (${new Date().toISOString().slice(11, 19)} UTC)`;
        // The certificate HAProxy serves (proxy.tls), warned of at the schema's proxy.tls.minValidDays.
        const served = await new HaproxyCertificates(exec).served(CERTIFICATE_FILE).catch(() => undefined);
        const certificate = certificateStatus(served, new Date(), TlsSchema.parse({}).minValidDays);
        // The certificate keeper (proxy.tls.mode acme): its last attempt, from its status file in the proxy's state volume.
        const keeperFile = await keeperStatusText(exec);
        const keeper = keeperFile.trim() ? acmeStatusLine(parseAcmeStatus(keeperFile), new Date()) : undefined;
        const text = renderStatus(title, releases, thresholds, table, certificate, keeper, nodes);
        if (args.once) {
            process.stdout.write(text + "\n");
            const alert =
                tableStatus(table).status === "ALERT" ||
                certificate?.status === "ALERT" ||
                keeper?.status === "ALERT" ||
                nodes.some((n) => n.status === "ALERT") ||
                releases.some((r) => statusRows(r, thresholds).some((row) => row.status === "ALERT"));
            process.exit(alert ? 2 : 0);
        }
        // Refreshed in place: back to the top left, clear, draw.
        process.stdout.write(`\x1b[H\x1b[2J${text}\n(refreshing every ${args.intervalSeconds}s; Ctrl-C to stop)\n`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: Error) => {
        process.stderr.write(`status: ${err.message}\n`);
        process.exit(1);
    });
}
