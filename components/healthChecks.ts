// Docker's health checks of the containers the stacks run, built in one place for both
// platforms (a container's `healthcheck` and a Swarm task's have the same fields). An
// agent (agent.health.docker curl, the default): GET /health inside its container, `--fail-with-body` so a failing check logs the
// JSON naming which check failed. The proxy: HAProxy answers `show info` on its admin socket.
import { type DockerCheck, HEALTH_DEFAULTS } from "../core/health";

export interface HealthTiming {
    intervalSeconds: number;
    /** Unset: Docker's default (30 s). */
    timeoutSeconds?: number;
    retries: number;
    startPeriodSeconds?: number;
}

export interface HealthCheck {
    tests: string[];
    interval: string;
    timeout?: string;
    retries: number;
    startPeriod?: string;
}

function timing(t: HealthTiming): Omit<HealthCheck, "tests"> {
    return {
        interval: `${t.intervalSeconds}s`,
        ...(t.timeoutSeconds !== undefined ? { timeout: `${t.timeoutSeconds}s` } : {}),
        retries: t.retries,
        ...(t.startPeriodSeconds !== undefined ? { startPeriod: `${t.startPeriodSeconds}s` } : {}),
    };
}

/**
 * The agent's check (agent.health, or on Swarm that raised to its floor): curl inside the
 * container; undefined for the image's own HEALTHCHECK (Docker runs the image's when the
 * container declares none); NONE to turn any image check off.
 */
export function agentHealthCheck(
    t: HealthTiming & { timeoutSeconds: number; path?: string; docker?: DockerCheck },
    port: number,
): HealthCheck | undefined {
    if (t.docker === "image") return undefined;
    if (t.docker === "none") return { tests: ["NONE"], ...timing(t) };
    const url = `http://127.0.0.1:${port}${t.path ?? HEALTH_DEFAULTS.path}`;
    return {
        tests: ["CMD", "curl", "-sS", "--fail-with-body", "--max-time", String(t.timeoutSeconds), url],
        ...timing(t),
    };
}

/** The command that exits 0 when the proxy serves: its admin socket answers as HAProxy (run in the proxy's container). */
export const PROXY_ANSWERS = [
    "sh",
    "-c",
    "echo 'show info' | socat -t 2 stdio UNIX-CONNECT:/run/haproxy/admin.sock | grep -q '^Name: HAProxy'",
];

/** The proxy's check: PROXY_ANSWERS. */
export function proxyHealthCheck(t: HealthTiming): HealthCheck {
    return { tests: ["CMD", ...PROXY_ANSWERS], ...timing(t) };
}
