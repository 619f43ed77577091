// Finds a stack's serving proxy container without asking Pulumi (which costs seconds): the
// stack's app from its stack file (Pulumi.<stack>.yaml, `<project>:app`, the schema's
// default otherwise); the app's serving proxy is then found by its labels through the
// Docker API (docker/servingProxy.ts; works with DOCKER_HOST=ssh://...). The abort and
// the status view use it; Pulumi's stack output stays the fallback when no stack file says.
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_APP } from "../core/proxyNames";
import { projectRoot } from "../components/compiledPrograms";

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

/**
 * The app of a stack (`stack`, else PULUMI_STACK), read from its stack file in the project
 * folder above `from`; undefined when no stack is named or it has no stack file.
 */
export function appOfStack(from: string, stack = process.env.PULUMI_STACK): string | undefined {
    if (!stack) return undefined;
    const dir = projectDir(from);
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return undefined;
    const project = projectName(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) ?? "zdt";
    return appOfStackFile(fs.readFileSync(file, "utf8"), project) ?? DEFAULT_APP;
}
