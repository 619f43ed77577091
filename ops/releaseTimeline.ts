// Samples the proxy once a second during a release, for the HTML report's timeline:
// per release, requests per second and 5xx (HAProxy's statistics of its slot), the p95 of
// its LLM latency over the second (its histogram) and its weight; a weight change is
// marked on the plot. Reaches the proxy through `docker exec`, as the switch does.
import { countsSince } from "../core/counters";
import { histogramDelta, parseHistogram, quantile, type Histogram } from "../core/agentMetrics";
import type { HaproxyAdmin } from "../haproxy/admin";
import { LATENCY_QUANTILE, LLM_HISTOGRAM } from "../engine/releaseReadings";
import { SLOTS } from "../contracts/switchContract";
import type { Timeline } from "./reportHtml";
import { type ProxyProbes } from "../engine/ports";

/** The release id in an agent container's name (`<app>-agent-<release id>`). */
export function releaseOfContainer(fqdn: string): string {
    const i = fqdn.indexOf("-agent-");
    return i < 0 ? fqdn : fqdn.slice(i + "-agent-".length);
}

interface Previous {
    at: number;
    req: number;
    err: number;
    llm: Histogram | undefined;
    weight: number;
}

export class TimelineRecorder {
    private readonly timeline: Timeline = { samples: [], marks: [] };
    private readonly previous = new Map<string, Previous>();
    private timer: NodeJS.Timeout | undefined;
    private busy = false;
    private readonly started: number;

    constructor(
        private readonly admin: Pick<HaproxyAdmin, "slots" | "stats">,
        private readonly probes: Pick<ProxyProbes, "slotMetrics">,
        private readonly now: () => number = Date.now,
    ) {
        this.started = now();
    }

    /** Marks a moment (a phase of the release) on the plot. */
    mark(label: string): void {
        this.timeline.marks.push({ t: this.now() - this.started, label });
    }

    /** One sample of every slot that points at a release. */
    async sample(): Promise<void> {
        const slots = await this.admin.slots();
        const at = this.now();
        const releases: Timeline["samples"][number]["releases"] = {};
        for (const slot of SLOTS) {
            const s = slots[slot];
            if (s.fqdn === "unassigned.invalid") continue;
            const release = releaseOfContainer(s.fqdn);
            const [stats, text] = await Promise.all([this.admin.stats(slot), this.probes.slotMetrics(slot)]);
            const llm = text === undefined ? undefined : parseHistogram(text, LLM_HISTOGRAM);
            const weight = s.maint ? 0 : s.weight;
            const key = `${slot} ${s.fqdn}`;
            const before = this.previous.get(key);
            this.previous.set(key, { at, req: stats.req, err: stats.err5xx, llm, weight });
            if (!before) continue;
            if (before.weight !== weight)
                this.timeline.marks.push({ t: at - this.started, label: `${slot} weight ${before.weight} -> ${weight}` });
            const seconds = Math.max(0.001, (at - before.at) / 1000);
            const q = llm ? quantile(histogramDelta(before.llm, llm), LATENCY_QUANTILE) : undefined;
            // A proxy reload or hand-over between the two readings restarted the counters.
            const counts = countsSince({ req: before.req, err: before.err }, { req: stats.req, err: stats.err5xx }).counts;
            releases[release] = {
                rps: Math.round((counts.req / seconds) * 10) / 10,
                errors5xx: counts.err,
                ...(q === undefined ? {} : { p95Ms: Math.round(q * 1000) }),
                weight,
            };
        }
        if (Object.keys(releases).length) this.timeline.samples.push({ t: at - this.started, releases });
    }

    /** Samples every `intervalMs` until stop(); a sample that fails (the daemon restarting) is skipped. */
    start(intervalMs = 1000): void {
        this.timer = setInterval(() => {
            if (this.busy) return;
            this.busy = true;
            this.sample()
                .catch(() => undefined)
                .finally(() => (this.busy = false));
        }, intervalMs);
    }

    stop(): Timeline {
        if (this.timer) clearInterval(this.timer);
        return this.timeline;
    }
}
