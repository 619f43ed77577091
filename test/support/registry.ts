// A real registry for the tests: Debian's docker-registry started by the project's own
// scripts/registry on a port and folder of the suite's, and scripts/publish to build and
// push the agent image into it, as users and the workflow do.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, mustRun, run } from "./pulumi";

const ROOT = path.join(__dirname, "..", "..");

export class LocalRegistry {
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-registry-"));
    private port = 0;

    /** host:port, the registry part of an image reference. */
    get host(): string {
        return `127.0.0.1:${this.port}`;
    }

    private env(): NodeJS.ProcessEnv {
        return { ZDT_REGISTRY_PORT: String(this.port), ZDT_REGISTRY_DIR: this.dir };
    }

    async start(): Promise<void> {
        this.port ||= await freePort();
        await mustRun(path.join(ROOT, "scripts", "registry"), ["start"], { env: this.env(), timeoutMs: 30_000 });
    }

    async stop(): Promise<void> {
        if (this.port) await mustRun(path.join(ROOT, "scripts", "registry"), ["stop"], { env: this.env(), timeoutMs: 30_000 });
    }

    /** Stops it and deletes its data. */
    async remove(): Promise<void> {
        await this.stop().catch(() => undefined);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** scripts/publish: builds and pushes `<host>/<repository>:<version>`; the registry's digest. */
    async publish(repository: string, version: string): Promise<string> {
        const args = ["--image", `${this.host}/${repository}`, "--version", version];
        const r = await run(path.join(ROOT, "scripts", "publish"), args, { cwd: ROOT, timeoutMs: 600_000 });
        if (r.code !== 0) throw new Error(`scripts/publish ${args.join(" ")} failed:\n${r.stderr}`);
        return r.stdout.trim();
    }

    /** The tags the registry lists for a repository (its HTTP API). */
    async tags(repository: string): Promise<string[]> {
        const res = await fetch(`http://${this.host}/v2/${repository}/tags/list`);
        if (res.status === 404) return [];
        return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
    }
}
