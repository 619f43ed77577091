// Whether the `pulumi up` that started this program is still there. Plugins run in
// process groups of their own, so killing `pulumi up` (a lost SSH session, Ctrl-C
// twice, CI cancelling a job) leaves the command provider and this program running;
// a switch left running would go on verifying, or flip, beside the next `pulumi up`.
// The program records its ancestors (shell, command provider, pulumi CLI) when it
// starts and stops at its next safe point once any of them is gone.
import { execFile } from "child_process";
import * as fs from "fs";

/** The parent of a process, or undefined when it cannot be read. */
export type ParentOf = (pid: number) => Promise<number | undefined>;

/** Linux: /proc/<pid>/stat ("pid (comm) state ppid ..."); elsewhere `ps`. */
export const systemParent: ParentOf = async (pid) => {
    try {
        const stat = await fs.promises.readFile(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
    } catch {
        return new Promise((resolve) => {
            execFile("ps", ["-o", "ppid=", "-p", String(pid)], { timeout: 5000 }, (err, out) => {
                const ppid = Number(out.trim());
                resolve(err || !Number.isInteger(ppid) || ppid <= 0 ? undefined : ppid);
            });
        });
    }
};

/** The chain of ancestors from `pid` up to (not including) init, nearest first. */
export async function ancestry(pid: number, parentOf: ParentOf = systemParent, max = 16): Promise<number[]> {
    const chain: number[] = [];
    for (let p: number | undefined = pid; p !== undefined && p > 1 && chain.length < max; p = await parentOf(p)) chain.push(p);
    return chain;
}

export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
    }
}

/** The first recorded ancestor that is gone, if any. */
export function goneAncestor(chain: number[], alive: (pid: number) => boolean = isAlive): number | undefined {
    return chain.find((pid) => !alive(pid));
}
