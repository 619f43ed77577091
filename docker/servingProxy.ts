// The proxy containers of an app, found by their labels: the running ones, newest first (a
// hand-over runs the new proxy beside the old one for a moment), and the one that serves
// (the newest). For the hand-over and for tools that follow a stack across proxy changes
// (the release helper's timeline, the reindex, the tests); the Pulumi program knows its
// proxy by name.
import { type ContainerExec, docker } from "./cli";
import { PROXY_ROLE } from "../core/proxyNames";

export async function runningProxies(app: string): Promise<{ id: string; name: string }[]> {
    const out = await docker([
        "ps",
        "--no-trunc",
        "--filter",
        `label=zdt.app=${app}`,
        "--filter",
        `label=zdt.role=${PROXY_ROLE}`,
        "--format",
        "{{.ID}} {{.Names}}",
    ]);
    return out
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter(([id, name]) => id && name)
        .map(([id, name]) => ({ id, name })); // docker ps lists the newest first
}

export async function servingProxy(app: string): Promise<string> {
    const [newest] = await runningProxies(app);
    if (!newest) throw new Error(`no proxy container of ${app} is running`);
    return newest.name;
}

/** Runs commands in whichever proxy serves `app` at the time of each call. */
export function servingProxyExec(app: string): ContainerExec {
    return async (args, input, timeoutMs) => docker(["exec", "-i", await servingProxy(app), ...args], input, timeoutMs);
}
