// Plugin processes a killed `pulumi up` leaves behind. The official provider plugins
// (pulumi-resource-docker, -command) run in process groups of their own and do not exit
// when their engine dies: after a SIGKILL of `pulumi up` they keep running, reparented,
// for about half an hour. The release helper ends them before its next update, and only
// those of this checkout and stack whose engine is gone - never a process by its name.
//
// How they are recognised: the helper (and the test stacks) start `pulumi up` through
// `updateCommand`, which puts two variables in the engine's environment, which every plugin
// it starts inherits: ZDT_UPDATE (this checkout and stack) and ZDT_UPDATE_ENGINE (the
// engine's own pid). A process carrying this update's ZDT_UPDATE, other than the engine,
// whose engine pid no longer runs a process carrying the same ZDT_UPDATE, was left by a
// killed update.
import * as fs from "fs";

export const UPDATE_VAR = "ZDT_UPDATE";
export const ENGINE_VAR = "ZDT_UPDATE_ENGINE";

/** The marker of this checkout's updates of a stack. */
export function updateMarker(checkout: string, stack: string): string {
    return `${checkout}#${stack}`;
}

/**
 * `pulumi <args>` as a command and environment whose process tree carries the update's
 * marker: `sh` exports its own pid, then becomes the engine (`exec`), so the pid is the engine's.
 */
export function updateCommand(
    checkout: string,
    stack: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    return {
        file: "sh",
        args: ["-c", `${ENGINE_VAR}=$$; export ${ENGINE_VAR}; exec pulumi "$@"`, "pulumi", ...args],
        env: { ...env, [UPDATE_VAR]: updateMarker(checkout, stack) },
    };
}

export interface ProcessInfo {
    pid: number;
    /** What it runs (for the log only; never what it is matched by). */
    command: string;
    /** Its ZDT_UPDATE and ZDT_UPDATE_ENGINE, if it carries them. */
    update?: string;
    engine?: number;
}

/** The processes left by a killed update of `marker` (pure): every carrier of the marker but the engine, whose engine is gone. */
export function leftByKilledUpdate(processes: ProcessInfo[], marker: string): ProcessInfo[] {
    const carriers = new Map(processes.filter((p) => p.update === marker).map((p) => [p.pid, p]));
    return [...carriers.values()].filter((p) => p.engine !== undefined && p.pid !== p.engine && !carriers.has(p.engine));
}

/** This machine's processes with the two variables (Linux /proc; processes it may not read are skipped). */
export function readProcesses(proc = "/proc"): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const entry of fs.readdirSync(proc)) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const env = fs.readFileSync(`${proc}/${entry}/environ`, "utf8").split("\0");
            const value = (name: string) => env.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
            const engine = value(ENGINE_VAR);
            out.push({
                pid: Number(entry),
                command: fs.readFileSync(`${proc}/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 120),
                update: value(UPDATE_VAR),
                engine: engine && /^\d+$/.test(engine) ? Number(engine) : undefined,
            });
        } catch {
            // gone meanwhile, or not ours to read
        }
    }
    return out;
}

/**
 * Ends the processes a killed update of this checkout and stack left behind: SIGTERM, then
 * SIGKILL for any still there after `graceMs`. Resolves to what it ended.
 */
export async function endLeftoverPlugins(checkout: string, stack: string, graceMs = 5_000): Promise<ProcessInfo[]> {
    const left = leftByKilledUpdate(readProcesses(), updateMarker(checkout, stack));
    for (const p of left) signal(p.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (left.some((p) => running(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const p of left) if (running(p.pid)) signal(p.pid, "SIGKILL");
    return left;
}

function signal(pid: number, s: NodeJS.Signals): void {
    try {
        process.kill(pid, s);
    } catch {
        // already gone
    }
}

/** Whether a process still runs (a zombie waiting for its reaper does not). */
export function running(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}
