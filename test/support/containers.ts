// An app's agent containers as the Docker engine has them (the tests' view, by label).
import { mustRun, run } from "./pulumi";

/** The names of an app's agent containers (running ones, or with `all` stopped ones too), sorted. */
export async function agentContainers(app: string, all = false): Promise<string[]> {
    const r = await mustRun("docker", [
        "ps",
        ...(all ? ["-a"] : []),
        "--format",
        "{{.Names}}",
        "--filter",
        `label=zdt.app=${app}`,
        "--filter",
        "label=zdt.role=agent",
    ]);
    return r.stdout.split("\n").filter(Boolean).sort();
}

/** The logs of an app's agent containers that still exist. */
export async function agentLogs(app: string): Promise<string> {
    const logs = await Promise.all((await agentContainers(app, true)).map((n) => run("docker", ["logs", n])));
    return logs.map((l) => l.stdout + l.stderr).join("\n");
}
