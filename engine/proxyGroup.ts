// Several proxies in front of the same releases (on Swarm: the proxy is a global service,
// one task per node that receives traffic) take a weight change together. A flip is
// complete only when every proxy has it; a proxy that refuses it (or cannot be reached)
// fails the change, and the proxies that already took it get their previous weights
// back, so clients never meet proxies that disagree for longer than the change takes.

/** What a group needs of each proxy. */
export type GroupMember = Pick<ProxyAdmin, "proxyName" | "slots" | "setWeights">;
import { SLOTS, type Slot } from "../contracts/switchContract";
import { ProxyError, type ProxyAdmin } from "./ports";

/** How one proxy's part of a change went. */
export interface ProxyOutcome {
    proxy: string;
    ok: boolean;
    error?: string;
}

/** The proxies to restore after a change some refused: those that took it. None when all took it (pure). */
export function flipBackPlan(outcomes: ProxyOutcome[]): string[] {
    return outcomes.every((o) => o.ok) ? [] : outcomes.filter((o) => o.ok).map((o) => o.proxy);
}

/** The message of a change some proxies refused: who refused, who was flipped back, who could not be (pure). */
export function refusalMessage(change: string, outcomes: ProxyOutcome[], restored: ProxyOutcome[]): string {
    const refused = outcomes.filter((o) => !o.ok).map((o) => `${o.proxy} (${o.error})`);
    const back = restored.filter((o) => o.ok).map((o) => o.proxy);
    const stuck = restored.filter((o) => !o.ok).map((o) => `${o.proxy} (${o.error})`);
    return (
        `${change} refused by ${refused.join(", ")}` +
        (back.length ? `; flipped back on ${back.join(", ")}` : "") +
        (stuck.length ? `; could not flip back ${stuck.join(", ")}: they keep the new weights` : "")
    );
}

export class ProxyGroup {
    constructor(readonly admins: GroupMember[]) {
        if (admins.length === 0) throw new ProxyError("a proxy group needs at least one proxy");
    }

    /**
     * Sets the weights on every proxy, all at once. Reads every proxy's weights first (one
     * that cannot be read fails the change before anything changes); if any proxy refuses,
     * the others get their previous weights back and the change fails naming it.
     */
    async setWeights(...weights: [Slot, number][]): Promise<void> {
        await this.setWeightsFrom(await Promise.all(this.admins.map((a) => a.slots())), ...weights);
    }

    /**
     * The same, from a reading of every proxy's weights the caller has just made (`before`,
     * one per proxy in the group's order): what a refusal restores, without reading again.
     */
    async setWeightsFrom(before: Record<Slot, { weight: number }>[], ...weights: [Slot, number][]): Promise<void> {
        if (before.length !== this.admins.length)
            throw new ProxyError(`a reading of ${before.length} proxies for a group of ${this.admins.length}`);
        const outcomes = await settle(this.admins, (a) => a.setWeights(...weights));
        const back = flipBackPlan(outcomes);
        if (outcomes.every((o) => o.ok)) return;
        const restored = await settle(
            this.admins.filter((a) => back.includes(a.proxyName)),
            (a) => a.setWeights(...SLOTS.map((s): [Slot, number] => [s, before[this.admins.indexOf(a)][s].weight])),
        );
        throw new ProxyError(refusalMessage(`weights ${weights.map(([s, w]) => `${s} ${w}`).join(", ")}`, outcomes, restored));
    }
}

async function settle(admins: GroupMember[], fn: (a: GroupMember) => Promise<unknown>): Promise<ProxyOutcome[]> {
    const results = await Promise.allSettled(admins.map(fn));
    return results.map((r, i) => ({
        proxy: admins[i].proxyName,
        ok: r.status === "fulfilled",
        ...(r.status === "rejected" ? { error: r.reason instanceof Error ? r.reason.message : String(r.reason) } : {}),
    }));
}
