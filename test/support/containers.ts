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

/**
 * The address of this machine on Docker's default bridge, where a container reaches a
 * server of the tests: the bridge's gateway. Some engines record no Gateway in the
 * bridge's IPAM config (only its Subnet); Docker then gives the bridge the subnet's first
 * address, which this returns.
 */
export async function bridgeGateway(): Promise<string> {
    const out = await mustRun("docker", ["network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"]);
    return gatewayOf(JSON.parse(out.stdout) as { Subnet?: string; Gateway?: string }[]);
}

/** The gateway of an IPAM config (pure): its own, else the first address of its IPv4 subnet. */
export function gatewayOf(config: { Subnet?: string; Gateway?: string }[]): string {
    const v4 = config.find((c) => c.Subnet && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c.Subnet));
    if (v4?.Gateway) return v4.Gateway;
    if (!v4?.Subnet) throw new Error(`Docker's default bridge has no IPv4 subnet: ${JSON.stringify(config)}`);
    const [addr, bits] = v4.Subnet.split("/");
    const n = addr.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    const first = (Math.floor(n / 2 ** (32 - Number(bits))) * 2 ** (32 - Number(bits)) + 1) >>> 0;
    return [24, 16, 8, 0].map((s) => Math.floor(first / 2 ** s) % 256).join(".");
}
