// What a killed `pulumi up` leaves behind, repaired before the next release: a lock whose
// process is gone, and agent containers (or Swarm services) it created but never recorded in the state.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { servingProxyExec } from "../docker/servingProxy";
import { HaproxyAdmin } from "../haproxy/admin";
import { pulumi } from "./pulumiCli";
import { serviceOf } from "../platform/swarm/swarmServices";

/** Removes a lock left by a `pulumi up` on this machine whose process is gone (killed, lost SSH session). */
export function clearStaleLock(stack: string): void {
    const backend = process.env.PULUMI_BACKEND_URL ?? "";
    if (!backend.startsWith("file://")) return;
    const dir = path.join(backend.slice("file://".length).replace(/\?.*$/, ""), ".pulumi", "locks", "organization", "zdt", stack);
    if (!fs.existsSync(dir)) return;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
        let lock: { pid: number; hostname: string };
        try {
            lock = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
        } catch {
            continue; // removed meanwhile, or not a lock
        }
        let alive = true;
        try {
            process.kill(lock.pid, 0);
        } catch {
            alive = false;
        }
        if (lock.hostname === os.hostname() && !alive) {
            console.log(`stack ${stack} was locked by pid ${lock.pid}, which is gone: running 'pulumi cancel'`);
            pulumi(["cancel", "--yes"], stack);
        }
    }
}

/** Where a stack's releases live: containers on one host, services on a swarm (with its proxies as one). */
export interface ReleaseHome {
    kind: "container" | "service";
    admin: Pick<HaproxyAdmin, "slots">;
}

/**
 * Removes agent containers (services, on a swarm) that a killed `pulumi up` created but
 * never recorded in the state (the next create would fail on the name). One is removed
 * only if it is not in the state and no proxy slot sends it traffic.
 */
export async function removeOrphanReleases(stack: string, app: string, home: ReleaseHome): Promise<string[]> {
    const type = home.kind === "service" ? "docker:index/service:Service" : "docker:index/container:Container";
    const state = JSON.parse(pulumi(["stack", "export"], stack)) as {
        deployment?: { resources?: { type: string; outputs?: { name?: string } }[] };
    };
    const known = new Set((state.deployment?.resources ?? []).filter((r) => r.type === type).map((r) => r.outputs?.name));
    const docker = (args: string[]) =>
        execFileSync("docker", args, { encoding: "utf8", timeout: 15000, stdio: ["pipe", "pipe", "ignore"] });
    const filters = ["--filter", `label=zdt.app=${app}`, "--filter", "label=zdt.role=agent"];
    const names = (
        home.kind === "service"
            ? docker(["service", "ls", ...filters, "--format", "{{.Name}}"])
            : docker(["ps", "-a", "--format", "{{.Names}}", ...filters])
    )
        .split("\n")
        .filter(Boolean);
    if (!names.some((n) => !known.has(n))) return [];
    let live: Set<string>;
    try {
        const slots = await home.admin.slots();
        live = new Set(
            Object.values(slots)
                .filter((s) => s.weight > 0)
                .map((s) => (home.kind === "service" ? serviceOf(s.fqdn) : s.fqdn)),
        );
    } catch {
        return []; // cannot tell what serves: touch nothing
    }
    const orphans = names.filter((n) => !known.has(n) && !live.has(n));
    for (const name of orphans) docker(home.kind === "service" ? ["service", "rm", name] : ["rm", "--force", name]);
    return orphans;
}

export function proxyAdmin(app: string): HaproxyAdmin {
    return new HaproxyAdmin(servingProxyExec(app), `the proxy of ${app}`);
}
