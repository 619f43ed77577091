// The agent's health endpoint (agent.health.path and expectStatus), and its answer read for
// people (pure): the names of its failing checks.

/** Where the agent says it can serve, and with which status ("any": any answer below 500). */
export interface AgentHealth {
    path: string;
    expectStatus: number | "any";
}

/** How the command programs' contracts carry expectStatus "any" (a status no answer has). */
export const ANY_STATUS = 0;

/** expectStatus as the contracts carry it (pure). */
export function expectedCode(s: AgentHealth["expectStatus"]): number {
    return s === "any" ? ANY_STATUS : s;
}

/** A contract's status back as expectStatus (pure). */
export function expectStatusOf(code: number): AgentHealth["expectStatus"] {
    return code === ANY_STATUS ? "any" : code;
}

/** Whether a health answer's status is a good one (pure): the expected status, or with ANY_STATUS any answer below 500. */
export function healthOk(code: number, expected: number = HEALTH_DEFAULTS.expectStatus as number): boolean {
    return expected === ANY_STATUS ? code > 0 && code < 500 : code === expected;
}

/** HAProxy's http-check expectation for it (pure). */
export function haproxyExpect(s: AgentHealth["expectStatus"]): string {
    return s === "any" ? "rstatus ^[1-4]" : `status ${s}`;
}

export const HEALTH_DEFAULTS: AgentHealth = { path: "/health", expectStatus: 200 };

/** Docker's own check of an agent container (agent.health.docker): curl in the image, the image's HEALTHCHECK, or none. */
export const DOCKER_CHECKS = ["curl", "image", "none"] as const;
export type DockerCheck = (typeof DOCKER_CHECKS)[number];

/**
 * What to do about Docker's health check output when it timed out (pure), or "" for any
 * other output: the check's timeout is `agent.health.timeoutSeconds`, or the image's own
 * HEALTHCHECK `--timeout` with agent.health.docker image, and an engine before Docker 23.0
 * (Debian 12's docker.io is 20.10) counts the exec's set-up in it (moby PR #43480), which a
 * busy host makes slow.
 */
export function dockerTimeoutHint(lastOutput: string, imageCheck: boolean): string {
    if (!/exceeded timeout/i.test(lastOutput)) return "";
    const knob = imageCheck ? "the image's HEALTHCHECK --timeout" : "agent.health.timeoutSeconds";
    return ` (a check that times out on an agent that answers: Docker before 23.0 counts the exec's set-up in the timeout, slow on a busy host; give ${knob} more)`;
}

/** The names of the failing checks of a /health answer, or what came back instead. */
export function failedChecks(body: string): string {
    try {
        const parsed = JSON.parse(body) as { checks?: Record<string, { ok: boolean; detail?: string }> };
        const bad = Object.entries(parsed.checks ?? {})
            .filter(([, c]) => !c.ok)
            .map(([k, c]) => `${k} (${c.detail ?? "failed"})`);
        return bad.length ? `failed checks: ${bad.join(", ")}` : body.slice(0, 300);
    } catch {
        return body.slice(0, 300) || "no answer";
    }
}
