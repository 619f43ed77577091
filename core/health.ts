// The agent's health endpoint (agent.health.path and expectStatus), and its answer read for
// people (pure): the names of its failing checks.

/** Where the agent says it can serve, and with which status. */
export interface AgentHealth {
    path: string;
    expectStatus: number;
}

export const HEALTH_DEFAULTS: AgentHealth = { path: "/health", expectStatus: 200 };

/** Docker's own check of an agent container (agent.health.docker): curl in the image, the image's HEALTHCHECK, or none. */
export const DOCKER_CHECKS = ["curl", "image", "none"] as const;
export type DockerCheck = (typeof DOCKER_CHECKS)[number];

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
