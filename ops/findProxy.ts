// Finds a stack's serving proxy container without asking Pulumi (which costs seconds): the
// stack's app from its stack file (Pulumi.<stack>.yaml, `<project>:app`, the schema's
// default otherwise); the app's serving proxy is then found by its labels through the
// Docker API (docker/servingProxy.ts; works with DOCKER_HOST=ssh://...). The abort and
// the status view use it; Pulumi's stack output stays the fallback when no stack file says.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEFAULT_APP } from "../core/proxyNames";
import { projectRoot } from "../components/compiledPrograms";
import { SwarmSchema } from "../config/swarm";
import type { ClusterNode } from "../platform/swarm/clusterProxies";
import { slotServers } from "../platform/swarm/swarmSlots";

/** A swarm stack's cluster as the operator commands reach it: every node's engine, and the slots' sizes. */
export interface StackSwarm {
    nodes: ClusterNode[];
    replicas: number;
    slotServers: number;
}

/** The app a stack file names (`<project>:app: <name>`), or undefined when it names none. */
export function appOfStackFile(yaml: string, project: string): string | undefined {
    const escaped = project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const m = new RegExp(`^\\s+${escaped}:app:\\s*["']?([a-z][a-z0-9-]{0,30})["']?\\s*(#.*)?$`, "m").exec(yaml);
    return m?.[1];
}

/** The project's name from Pulumi.yaml. */
export function projectName(pulumiYaml: string): string | undefined {
    return /^name:\s*["']?([^\s"'#]+)/m.exec(pulumiYaml)?.[1];
}

/** The project folder: the nearest one up from `from` with a Pulumi.yaml (from ops/ or from dist/ops/ once compiled). */
export const projectDir = (from: string): string => projectRoot(from);

/** A stack's file (`stack`, else PULUMI_STACK) in the project folder above `from`, and the project's name; undefined without one. */
function stackFile(from: string, stack = process.env.PULUMI_STACK): { yaml: string; project: string } | undefined {
    if (!stack) return undefined;
    const dir = projectDir(from);
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return undefined;
    const project = projectName(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) ?? "zdt";
    return { yaml: fs.readFileSync(file, "utf8"), project };
}

/**
 * A stack (`stack`, else PULUMI_STACK) as its stack file in the project folder above `from`
 * names it, read once: its app, and its cluster when its platform is swarm; undefined when
 * no stack is named or it has no stack file.
 */
export function stackOf(from: string, stack?: string): { app: string; swarm?: StackSwarm } | undefined {
    const f = stackFile(from, stack);
    if (!f) return undefined;
    const swarm = swarmOfStackFile(f.yaml, f.project);
    return { app: appOfStackFile(f.yaml, f.project) ?? DEFAULT_APP, ...(swarm ? { swarm } : {}) };
}

/**
 * The cluster a stack file names when its platform is swarm (`<project>:platform: swarm`
 * and its `<project>:swarm` section); undefined for one host. A swarm section the schema
 * refuses is an error naming the field, as `pulumi up` would name it.
 */
export function swarmOfStackFile(yaml: string, project: string): StackSwarm | undefined {
    const config = (parse(yaml) as { config?: Record<string, unknown> } | null)?.config ?? {};
    if (config[`${project}:platform`] !== "swarm") return undefined;
    const parsed = SwarmSchema.safeParse(config[`${project}:swarm`]);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(
            `the stack file's swarm${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}: ${issue.message}`,
        );
    }
    const { nodes, replicas } = parsed.data;
    return { nodes: nodes.map((n) => ({ name: n.name, engine: n.engine, proxy: n.proxy })), replicas, slotServers: slotServers(replicas) };
}
