// What the switch reads and does to a release's own container, through the Docker API
// (`docker inspect/start/stop/logs`; works with DOCKER_HOST=ssh://): its state for the
// health gate, its last log lines for a failed gate's message, the image it runs, and its
// memory against its limit (`docker stats`) for the verification.
import { docker, dockerStreams } from "./cli";
import type { ContainerMemory, ContainerState, ReleaseContainers } from "../engine/ports";

const UNITS: Record<string, number> = {
    B: 1,
    KiB: 1024,
    MiB: 1024 ** 2,
    GiB: 1024 ** 3,
    TiB: 1024 ** 4,
    kB: 1e3,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
};

/** `docker stats --no-stream --format '{{.MemPerc}} {{.MemUsage}}'` ("12.50% 64MiB / 512MiB") as a reading (pure, for tests). */
export function memoryOf(line: string): ContainerMemory | undefined {
    const m = /^([\d.]+)%\s+([\d.]+)\s*([A-Za-z]+)\s*\/\s*([\d.]+)\s*([A-Za-z]+)/.exec(line.trim());
    if (!m || !UNITS[m[3]] || !UNITS[m[5]]) return undefined;
    const mb = (v: string, unit: string) => Math.round((Number(v) * UNITS[unit]) / 1024 ** 2);
    return { percent: Number(m[1]), usedMb: mb(m[2], m[3]), limitMb: mb(m[4], m[5]) };
}

interface Inspected {
    Image: string;
    RestartCount: number;
    Config: { Image: string };
    State: {
        Status: string;
        Running: boolean;
        ExitCode: number;
        Health?: { Status: string; Log?: { Output: string }[] };
    };
}

/** `docker inspect` of one container as a ContainerState (pure, for tests). */
export function containerStateOf(json: string): ContainerState {
    const c = (JSON.parse(json) as Inspected[])[0];
    const log = c.State.Health?.Log ?? [];
    return {
        status: c.State.Status,
        running: c.State.Running,
        exitCode: c.State.ExitCode,
        restartCount: c.RestartCount,
        health: c.State.Health && { status: c.State.Health.Status, lastOutput: (log[log.length - 1]?.Output ?? "").trim() },
        imageId: c.Image,
        imageRef: c.Config.Image,
    };
}

/**
 * A container's stdout and stderr lines (from `docker logs --timestamps`) in the order they
 * were written, without the timestamps: the last `lines` of them.
 */
export function mergeLogStreams(stdout: string, stderr: string, lines: number): string {
    const stamped = [...stdout.split("\n"), ...stderr.split("\n")].filter((l) => l.trim() !== "");
    return stamped
        .map((l) => ({ at: l.slice(0, l.indexOf(" ")), text: l.slice(l.indexOf(" ") + 1) }))
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
        .slice(-lines)
        .map((l) => l.text)
        .join("\n");
}

export const dockerContainers: ReleaseContainers = {
    async state(container) {
        const json = await docker(["inspect", "--type", "container", container]).catch((err: Error) => {
            if (/No such (object|container)/i.test(err.message)) return undefined;
            throw err;
        });
        return json === undefined ? undefined : containerStateOf(json);
    },
    async start(container) {
        await docker(["start", container]);
    },
    async stop(container) {
        await docker(["stop", "--time", "5", container], undefined, 60_000);
    },
    async lastLogs(container, lines) {
        const out = await dockerStreams(["logs", "--timestamps", "--tail", String(lines), container]).catch((err: Error) => err);
        return out instanceof Error ? `(no logs: ${out.message})` : mergeLogStreams(out.stdout, out.stderr, lines);
    },
    async memory(container) {
        const out = await docker(["stats", "--no-stream", "--format", "{{.MemPerc}} {{.MemUsage}}", container]).catch(() => "");
        return memoryOf(out);
    },
};
