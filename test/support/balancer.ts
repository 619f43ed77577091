// A load balancer's health check in front of a cluster's nodes, for the tests: polls each
// node's readiness path and keeps the list of addresses the load sends to (the same array
// the load generator reads) to the nodes that answer 200, as a real balancer with a short
// check interval would. It counts, per address, how often it took the node out.
export class HealthBalancer {
    private timer: NodeJS.Timeout | undefined;
    private busy = false;
    /** Times each address was taken out of the list. */
    readonly outages: Record<string, number> = {};

    constructor(
        /** Every node's address (http://host:port). */
        private readonly all: string[],
        /** The list the load sends to: changed in place. */
        private readonly target: string[],
        private readonly path: string,
        private readonly intervalMs = 200,
    ) {
        for (const u of all) this.outages[u] = 0;
    }

    private async ready(url: string): Promise<boolean> {
        const r = await fetch(`${url}${this.path}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return r?.status === 200;
    }

    private async check(): Promise<void> {
        if (this.busy) return;
        this.busy = true;
        try {
            const states = await Promise.all(this.all.map((u) => this.ready(u)));
            const up = this.all.filter((_, i) => states[i]);
            // A balancer with no node up keeps the last ones (nothing better to send to).
            if (up.length === 0) return;
            for (const u of this.target) if (!up.includes(u)) this.outages[u]++;
            this.target.splice(0, this.target.length, ...up);
        } finally {
            this.busy = false;
        }
    }

    start(): void {
        this.timer = setInterval(() => void this.check(), this.intervalMs);
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
    }
}
