// The proxy container that serves an app, found by its labels: the newest running one (a
// hand-over runs the new proxy beside the old one for a moment). For tools that follow a
// stack across proxy changes (the release helper's timeline, the tests); the Pulumi program
// knows its proxy by name.
import { type ContainerExec, docker } from "./docker";
import { PROXY_ROLE } from "./proxyNames";

export async function servingProxy(app: string): Promise<string> {
    const out = await docker([
        "ps",
        "--filter",
        `label=zdt.app=${app}`,
        "--filter",
        `label=zdt.role=${PROXY_ROLE}`,
        "--format",
        "{{.Names}}",
    ]);
    const newest = out.split("\n").find(Boolean); // docker ps lists the newest first
    if (!newest) throw new Error(`no proxy container of ${app} is running`);
    return newest;
}

/** Runs commands in whichever proxy serves `app` at the time of each call. */
export function servingProxyExec(app: string): ContainerExec {
    return async (args, input, timeoutMs) => docker(["exec", "-i", await servingProxy(app), ...args], input, timeoutMs);
}
