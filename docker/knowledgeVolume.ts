// The knowledge volume's content (core/proxyNames.ts knowledgeVolumeName), written and read
// through the Docker API only: a short-lived helper container of an image the stack already
// has (the proxy's: it has sh and tar) mounts the volume, and the files travel as a tar
// stream on its stdin or stdout. So it works with a remote engine (DOCKER_HOST=ssh://), and
// the agent's own image needs nothing (a third party's may have no shell at all).
import { spawn } from "child_process";
import * as fs from "fs";
import { docker } from "./cli";

/** How long one copy may take: a knowledge base is documents, not a data set. */
export const COPY_TIMEOUT_MS = 120_000;

/** The image a container runs (the serving proxy's, for the helper). */
export async function imageOf(container: string): Promise<string> {
    return (await docker(["inspect", "--format", "{{.Config.Image}}", container])).trim();
}

const helper = (volume: string, image: string, readOnly: boolean) => [
    "run",
    "--rm",
    "-i",
    "--network",
    "none",
    "--label",
    "zdt.role=knowledge-copy",
    "-v",
    `${volume}:/knowledge${readOnly ? ":ro" : ""}`,
    "--entrypoint",
    "sh",
    image,
    "-c",
];

/** Replaces the volume's files with `dir`'s (the working folder: the new knowledge). */
export function writeFolder(volume: string, image: string, dir: string): Promise<void> {
    return pipe(["tar", "-c", "-C", dir, "."], ["docker", ...helper(volume, image, false), REPLACE]);
}

/** The volume's files as a tar file at `file` (the knowledge that serves, kept for a rollback). */
export function saveTo(volume: string, image: string, file: string): Promise<void> {
    return pipe(["docker", ...helper(volume, image, true), "tar -c -C /knowledge ."], undefined, file);
}

/** Replaces the volume's files with those `saveTo` kept in `file`. */
export function restoreFrom(volume: string, image: string, file: string): Promise<void> {
    return pipe(["docker", ...helper(volume, image, false), REPLACE], undefined, undefined, file);
}

/** Every file out, then the stream's in: what the volume holds is exactly the folder (a removed document is gone). */
const REPLACE = "find /knowledge -mindepth 1 -delete && tar -x --no-same-owner -C /knowledge";

/**
 * Runs `first` (or reads `fromFile`) into `second`'s stdin (or, without `second`, runs
 * `first` into `toFile`), both bounded by COPY_TIMEOUT_MS; fails with either's stderr.
 */
function pipe(first: string[], second?: string[], toFile?: string, fromFile?: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const procs = [first, ...(second ? [second] : [])].map((cmd) =>
            spawn(cmd[0], cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"], timeout: COPY_TIMEOUT_MS }),
        );
        const errs = procs.map(() => "");
        const [a, b] = procs;
        if (fromFile) fs.createReadStream(fromFile).pipe(a.stdin);
        else a.stdin.end();
        if (b) a.stdout.pipe(b.stdin);
        const out = b ?? a;
        let left = procs.length + (toFile ? 1 : 0);
        let failed: string | undefined;
        const done = () => {
            if (--left > 0) return;
            if (failed) reject(new Error(`knowledge copy: ${failed}`));
            else resolve();
        };
        if (toFile) {
            const file = fs.createWriteStream(toFile);
            file.on("error", (err) => (failed ??= `${toFile}: ${err.message}`));
            file.on("close", done);
            out.stdout.pipe(file);
        } else out.stdout.resume();
        procs.forEach((p, i) => {
            p.stdin.on("error", () => undefined);
            p.stderr.on("data", (d: Buffer) => (errs[i] = (errs[i] + d.toString()).slice(-2000)));
            p.on("error", (err) => (failed ??= `${[first, second][i]![0]}: ${err.message}`));
            p.on("close", (code, signal) => {
                if (code !== 0) failed ??= `${[first, second][i]!.slice(0, 3).join(" ")} ended with ${code ?? signal}: ${errs[i].trim()}`;
                done();
            });
        });
    });
}
