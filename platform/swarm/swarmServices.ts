// A release on Docker Swarm is a service (platform/swarm/swarmRelease.ts), and a slot points at
// its tasks' DNS name, tasks.<service>. What the switch reads and does to a release there,
// in the shapes it uses for one host's container (ReleaseContainers): the tasks' state for
// the gate (a task that failed and was replaced counts as a restart), the service's logs,
// its stop (scaled to 0) and start, the tasks' memory (each node's engine), its labels and
// its retirement. Through the manager's engine (DOCKER_HOST), nodes' engines for memory.
import { docker, dockerAt, dockerStreams } from "../../docker/cli";
import { memoryOf } from "../../docker/releaseContainer";
import { type ContainerMemory, type ContainerState, type ReleaseContainers } from "../../engine/ports";

/** The DNS name of a service's tasks on its networks (dnsrr): what a slot's template resolves. */
export function tasksName(service: string): string {
    return `tasks.${service}`;
}

/** The service behind a slot's address (tasks.<service>). */
export function serviceOf(fqdn: string): string {
    return fqdn.replace(/^tasks\./, "");
}

/** One line of `docker service ps --format '{{.DesiredState}}|{{.CurrentState}}|{{.Error}}|{{.Node}}'` (the node is optional). */
export interface TaskRow {
    desired: string;
    current: string;
    error: string;
    node?: string;
}

export function parseTaskRows(out: string): TaskRow[] {
    return out
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            const [desired, current, error, node] = l.split("|");
            return {
                desired: desired.trim(),
                current: (current ?? "").trim(),
                error: (error ?? "").trim(),
                ...(node?.trim() ? { node: node.trim() } : {}),
            };
        });
}

/**
 * The tasks a retirement still waits for (pure): those the manager reports running or
 * starting on a node it reports ready. A task on a node that is down keeps its last
 * reported state ("Running") until the node returns, but nothing runs it: the node's
 * engine stopped its containers (Swarm runs without live restore).
 */
export function tasksStillRunning(rows: TaskRow[], readyNodes: ReadonlySet<string>): TaskRow[] {
    return rows.filter((r) => reportsRunning(r) && (r.node === undefined || readyNodes.has(r.node)));
}

/** Whether the manager reports a task running or on its way there. */
function reportsRunning(row: TaskRow): boolean {
    return /^(Running|Starting|Preparing)/.test(row.current);
}

/** The nodes `docker node ls --format '{{.Hostname}}|{{.Status}}'` reports ready (pure). */
export function readyNodes(out: string): Set<string> {
    return new Set(
        out
            .split("\n")
            .map((l) => l.trim().split("|"))
            .filter(([name, status]) => name && status?.trim().toLowerCase() === "ready")
            .map(([name]) => name),
    );
}

/**
 * A service's tasks as one container's state (pure): running when `replicas` tasks run;
 * every task that failed and was replaced is a restart; scaled to 0, it is "exited".
 */
export function serviceState(rows: TaskRow[], replicas: number, image: string): ContainerState {
    const running = rows.filter((r) => r.desired === "Running" && r.current.startsWith("Running")).length;
    const failed = rows.filter((r) => r.desired === "Shutdown" && /^(Failed|Rejected)/.test(r.current));
    const wanted = rows.filter((r) => r.desired === "Running").length;
    const status = replicas === 0 || wanted === 0 ? "exited" : running >= replicas ? "running" : failed.length ? "restarting" : "created";
    const exitCode = Number(
        /exit code (\d+)|\((\d+)\)/
            .exec(failed[0]?.error ?? "")
            ?.slice(1)
            .find(Boolean) ?? 0,
    );
    return {
        status,
        running: status === "running",
        exitCode,
        restartCount: failed.length,
        health: undefined,
        imageId: image,
        imageRef: image,
    };
}

/** Lines of each retired task's log read for its drain's outcome (`docker service logs --tail` counts per task). */
export const RETIRED_LOG_LINES = 50;

/** The count of streams every task of a retired service ended at its drain deadline, from the service's logs. */
export function streamsCutFromServiceLog(log: string): number {
    return [...log.matchAll(/retired: (\d+) streams ended at the drain deadline$/gm)].reduce((t, m) => t + Number(m[1]), 0);
}

export class SwarmServices implements ReleaseContainers {
    constructor(
        /** Every node's engine, for the tasks' memory. */
        private readonly engines: string[],
        private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    ) {}

    private async spec(service: string): Promise<{ replicas: number; image: string } | undefined> {
        const out = await docker([
            "service",
            "inspect",
            "--format",
            '{{index .Spec.Labels "zdt.replicas"}}|{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{end}}|{{.Spec.TaskTemplate.ContainerSpec.Image}}',
            service,
        ]).catch(() => "");
        if (!out.trim()) return undefined;
        const [declared, current, image] = out.trim().split("|");
        return { replicas: Number(current || 0) === 0 ? 0 : Number(declared || current), image };
    }

    async state(fqdn: string): Promise<ContainerState | undefined> {
        const service = serviceOf(fqdn);
        const spec = await this.spec(service);
        if (!spec) return undefined;
        const rows = parseTaskRows(
            await docker(["service", "ps", service, "--no-trunc", "--format", "{{.DesiredState}}|{{.CurrentState}}|{{.Error}}"]),
        );
        return serviceState(rows, spec.replicas, spec.image);
    }

    /** Scales a service stopped by a failed gate back to its declared replicas (label zdt.replicas). */
    async start(fqdn: string): Promise<void> {
        const service = serviceOf(fqdn);
        const declared = (await docker(["service", "inspect", "--format", '{{index .Spec.Labels "zdt.replicas"}}', service])).trim();
        await docker(["service", "scale", "--detach", `${service}=${declared || 1}`]);
    }

    /** A release that failed its gate: scaled to 0, so it does not crash-loop on the nodes. */
    async stop(fqdn: string): Promise<void> {
        await docker(["service", "scale", "--detach", `${serviceOf(fqdn)}=0`]);
    }

    async lastLogs(fqdn: string, lines: number): Promise<string> {
        const { stdout, stderr } = await dockerStreams([
            "service",
            "logs",
            "--no-task-ids",
            "--tail",
            String(lines),
            serviceOf(fqdn),
        ]).catch(() => ({ stdout: "", stderr: "" }));
        return (stdout + stderr).split("\n").filter(Boolean).slice(-lines).join("\n");
    }

    /** The tasks' memory, the highest share of its limit among them, read from every node's engine that answers. */
    async memory(fqdn: string): Promise<ContainerMemory | undefined> {
        const label = `label=com.docker.swarm.service.name=${serviceOf(fqdn)}`;
        const readings = await Promise.all(
            this.engines.map(async (engine) => {
                const ids = (await dockerAt(engine, ["ps", "-q", "--filter", label]).catch(() => "")).split("\n").filter(Boolean);
                if (ids.length === 0) return [];
                const out = await dockerAt(engine, ["stats", "--no-stream", "--format", "{{.MemPerc}} {{.MemUsage}}", ...ids]).catch(
                    () => "",
                );
                return out
                    .split("\n")
                    .map(memoryOf)
                    .filter((m): m is ContainerMemory => m !== undefined);
            }),
        );
        return readings.flat().sort((a, b) => b.percent - a.percent)[0];
    }

    /**
     * Retires a release's service: scaled to 0, each task gets SIGTERM and drains (the
     * agent's SHUTDOWN_GRACE_MS, the stop grace period after it); waits until no task runs,
     * then counts the streams the tasks ended at the drain deadline. Pulumi deletes the
     * service afterwards (it is no longer declared).
     */
    async retire(fqdn: string, drainMs: number): Promise<number> {
        const service = serviceOf(fqdn);
        if (!(await this.spec(service))) return 0;
        await docker(["service", "scale", "--detach", `${service}=0`]);
        const deadline = Date.now() + drainMs + 40_000;
        for (;;) {
            const rows = parseTaskRows(
                await docker(["service", "ps", service, "--format", "{{.DesiredState}}|{{.CurrentState}}||{{.Node}}"]),
            );
            // The nodes' states matter only while some task still reports itself running.
            const reported = rows.filter(reportsRunning);
            const left =
                reported.length === 0
                    ? []
                    : tasksStillRunning(reported, readyNodes(await docker(["node", "ls", "--format", "{{.Hostname}}|{{.Status}}"])));
            if (left.length === 0) break;
            if (Date.now() > deadline)
                throw new Error(
                    `${service}: ${left.length} task(s) still running ${drainMs / 1000 + 40}s after it was scaled to 0 (on ${[...new Set(left.map((r) => r.node))].join(", ")})`,
                );
            await this.sleep(500);
        }
        // The drain's last words are each task's last lines: its tail, not its whole log (which traffic grows).
        const { stdout, stderr } = await dockerStreams([
            "service",
            "logs",
            "--no-task-ids",
            "--raw",
            "--tail",
            String(RETIRED_LOG_LINES),
            service,
        ]).catch(() => ({
            stdout: "",
            stderr: "",
        }));
        return streamsCutFromServiceLog(stdout + stderr);
    }
}

/** The release id and version labels of the service behind a slot's address. */
export async function serviceLabels(fqdn: string): Promise<{ release: string; version?: string } | undefined> {
    const out = await docker([
        "service",
        "inspect",
        "--format",
        '{{index .Spec.Labels "zdt.release"}} {{index .Spec.Labels "zdt.version"}}',
        serviceOf(fqdn),
    ]).catch(() => "");
    const [release, version] = out.trim().split(" ");
    return release ? { release, version: version || undefined } : undefined;
}
