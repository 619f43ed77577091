// The only way the rollout programs reach containers: the Docker CLI, bounded by a
// timeout. Nothing goes through localhost, so DOCKER_HOST=ssh://user@vps works.
import { execFile } from "child_process";

export const EXEC_TIMEOUT_MS = 15_000;

/** Runs a command in one container (`docker exec -i`), with `input` on its stdin. */
export type ContainerExec = (args: string[], input?: string, timeoutMs?: number) => Promise<string>;

export function docker(args: string[], input?: string, timeoutMs = EXEC_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`docker ${args.slice(0, 3).join(" ")}: ${(stderr || err.message).trim()}`));
            else resolve(stdout);
        });
        child.stdin?.end(input ?? "");
    });
}

export function containerExec(container: string): ContainerExec {
    return (args, input, timeoutMs) => docker(["exec", "-i", container, ...args], input, timeoutMs);
}

/** The release id and version labels of an agent container, if it has them. */
export async function releaseLabels(container: string): Promise<{ release: string; version?: string } | undefined> {
    const out = await docker([
        "inspect",
        "--format",
        '{{index .Config.Labels "zdt.release"}} {{index .Config.Labels "zdt.version"}}',
        container,
    ]).catch(() => "");
    const [release, version] = out.trim().split(" ");
    return release ? { release, version: version || undefined } : undefined;
}
