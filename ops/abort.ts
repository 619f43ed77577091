// `npm run abort`: stops a canary by hand, at once. Sets the canary's weight to 0 (stable
// 100) in one admin-socket session, moves the conversations pinned to the canary to
// stable, and leaves a request that the running `pulumi up` reads at its next check (it
// then takes the canary out of service and fails naming the abort). Reaches the proxy
// through `docker exec`, so it works with DOCKER_HOST=ssh://...
//
//   npm run abort -- [--stack <name>] [--proxy <container>] [--reason "<why>"]
//
// Without --proxy it finds the proxy by the stack file's app and Docker's labels
// (ops/findProxy.ts), and asks Pulumi only when no stack file names the stack. On a swarm
// stack (platform: swarm) it sets weight 0 on every node's proxy, all or nothing, as the
// switch does, through each node's engine from the stack file's swarm.nodes. It runs
// compiled (npm run build: dist/ops/abort.js), so that weight 0 is set within a second of
// the command's start.
import { execFile } from "child_process";
import { ProxyCanaryControl } from "../haproxy/canaryControl";
import { containerExec } from "../docker/cli";
import { HaproxyAdmin } from "../haproxy/admin";
import { servingProxy } from "../docker/servingProxy";
import { stackOf } from "./findProxy";
import { clusterProxies } from "../platform/swarm/clusterProxies";
import { swarmProxyService } from "../core/proxyNames";
import type { ProxyAdmin } from "../engine/ports";
import { type CanaryState } from "../contracts/canaryControl";

export class AbortError extends Error {}

export interface AbortArgs {
    stack?: string;
    proxy?: string;
    reason: string;
}

export function parseAbortArgs(argv: string[]): AbortArgs {
    const args: AbortArgs = { reason: "asked by hand" };
    for (let i = 0; i < argv.length; i++) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (!["--stack", "--proxy", "--reason"].includes(flag))
            throw new AbortError(`unknown argument "${flag}"; allowed: --stack <name>, --proxy <container>, --reason "<why>"`);
        if (value === undefined || value.startsWith("--")) throw new AbortError(`${flag} needs a value`);
        args[flag.slice(2) as keyof AbortArgs] = value;
        i++;
    }
    return args;
}

/** The abort itself, against a proxy; resolves to what it did, in words. */
export async function abortCanary(
    /** One host's proxy, or every node's proxy of a swarm as one (all or nothing). */
    admin: Pick<ProxyAdmin, "proxyName" | "slots" | "setWeights" | "unpinConversations">,
    control: Pick<ProxyCanaryControl, "state" | "requestAbort">,
    reason: string,
    now: () => number = Date.now,
    /** When the command started (epoch ms): the figure an operator waits for is from then. */
    commandStart?: number,
): Promise<string> {
    const asked = now();
    // Both reads at once: the weights should be 0 within a second of asking.
    const [state, slots]: [CanaryState | undefined, Awaited<ReturnType<ProxyAdmin["slots"]>>] = await Promise.all([
        control.state(),
        admin.slots(),
    ]);
    if (!state) throw new AbortError(`no canary step is under way on ${admin.proxyName}; nothing changed`);
    const canary = slots[state.canarySlot];
    if (canary.fqdn !== state.container || canary.maint || canary.weight === 0)
        throw new AbortError(
            `the canary file of ${admin.proxyName} names ${state.container} on ${state.canarySlot}, which takes no traffic now (it is stale); nothing changed`,
        );
    await admin.setWeights([state.stableSlot, 100], [state.canarySlot, 0]);
    const weightZeroAt = now();
    const weightZeroMs = weightZeroAt - asked;
    const fromStart =
        commandStart === undefined ? "" : ` (${Math.round(weightZeroAt - commandStart)} ms after the command started, at ${weightZeroAt})`;
    const { count: moved, underWay } = await admin.unpinConversations(state.canarySlot);
    await control.requestAbort({ at: now(), reason, weightZeroMs, moved, movedUnderWay: underWay });
    return (
        `canary ${state.release} aborted at step ${state.step} of ${state.of} (${state.weight}%): weight 0 in ${weightZeroMs} ms${fromStart}; ` +
        `${moved} conversation${moved === 1 ? "" : "s"} pinned to it (${underWay} with more than one message) moved to stable (${state.stableSlot}). ` +
        "The running `pulumi up` fails at its next check, naming this abort."
    );
}

function proxyFromStack(stack: string | undefined): Promise<string> {
    const args = ["stack", "output", "proxyContainer", ...(stack ? ["--stack", stack] : [])];
    return new Promise((resolve, reject) =>
        execFile("pulumi", args, { timeout: 60_000 }, (err, stdout, stderr) => {
            if (err || !stdout.trim())
                reject(
                    new AbortError(
                        `could not read the stack's proxyContainer (pulumi ${args.join(" ")}): ${(stderr || err?.message || "empty").trim()}`,
                    ),
                );
            else resolve(stdout.trim());
        }),
    );
}

/**
 * The proxy to abort on, fast: --proxy; else the stack's app from its stack file (--stack,
 * or PULUMI_STACK) and the app's serving proxy, found by label through Docker;
 * Pulumi's stack output only when no stack file says.
 */
async function proxyOf(args: AbortArgs, app: string | undefined): Promise<string> {
    if (args.proxy) return args.proxy;
    if (!app) return proxyFromStack(args.stack);
    return servingProxy(app).catch((err: Error) => {
        throw new AbortError(`app ${app}: ${err.message}`);
    });
}

async function main(argv: string[]): Promise<void> {
    const args = parseAbortArgs(argv);
    // From the command's start (this process's; npm adds about 0.2 s before it).
    const started = performance.timeOrigin;
    // A swarm stack: every node's proxy at once (weight 0 on all or on none), through each node's engine.
    const stack = args.proxy ? undefined : stackOf(__dirname, args.stack);
    if (stack?.swarm) {
        const { admin, anyProxy } = clusterProxies(stack.swarm.nodes, swarmProxyService(stack.app), stack.swarm, {
            log: (m) => process.stderr.write(`abort: ${m}\n`),
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        });
        process.stdout.write((await abortCanary(admin, new ProxyCanaryControl(anyProxy), args.reason, Date.now, started)) + "\n");
        return;
    }
    const proxy = await proxyOf(args, stack?.app);
    const exec = containerExec(proxy);
    process.stdout.write(
        (await abortCanary(new HaproxyAdmin(exec, proxy), new ProxyCanaryControl(exec), args.reason, Date.now, started)) + "\n",
    );
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: Error) => {
        process.stderr.write(`abort: ${err.message}\n`);
        process.exit(err instanceof AbortError ? 2 : 1);
    });
}
