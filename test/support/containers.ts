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

/**
 * The last lines of what an app's proxies logged (HAProxy writes each server's state change
 * there: DOWN and why, "0 active servers left"), for a failure's message; bounded.
 */
export async function proxyLogTail(app: string, lines = 40): Promise<string> {
    const names = (
        await run("docker", ["ps", "-a", "--format", "{{.Names}}", "--filter", `label=zdt.app=${app}`, "--filter", "label=zdt.role=proxy"])
    ).stdout
        .split("\n")
        .filter(Boolean);
    const logs = await Promise.all(names.map((n) => run("docker", ["logs", "--tail", String(lines), n])));
    return names.map((n, i) => `--- ${n}\n${logs[i].stdout}${logs[i].stderr}`).join("\n");
}
