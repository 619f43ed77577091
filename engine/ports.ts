// The release engine's ports: what it needs from the proxy in front of the releases, from a
// release's containers, from probes through the proxy, and from the clock. The engine is
// written against these alone; each platform passes its adapters (one host: haproxy/ and
// docker/; Docker Swarm: platform/swarm/), and the unit tests pass fakes.
import type { Pinned, TableFill } from "../core/conversationTables";
import type { Slot, SlotState } from "../core/slots";
import type { TurnAnswer, TurnRequest } from "../core/evaluation";

/** A refusal or an unexpected answer of a proxy (its message is for the operator as it is). */
export class ProxyError extends Error {}

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

/** A slot's server figures: requests, 5xx answers, average response time, status, sessions. */
export interface ServerStats {
    req: number;
    err5xx: number;
    /** The proxy's average response time over its last 1024 requests (ms). */
    rtimeMs: number;
    status: string;
    sessions: number;
}

/** What a proxy keeps of a slot across its own restart (the slot file). */
export interface PersistedSlot {
    fqdn: string;
    weight: number;
    maint: boolean;
}

/**
 * What the switch (and a canary) does to the proxy in front of the releases: one HAProxy
 * (haproxy/admin.ts, one host) or every node's proxy together (platform/swarm/swarmProxies.ts).
 */
export interface ProxyAdmin {
    /** The proxy's name, for messages. */
    readonly proxyName: string;
    /** Both slots as the proxy has them now (ground truth). */
    slots(): Promise<Record<Slot, SlotState>>;
    /** Points an idle slot at a release, with weight 0: checked, given no traffic. */
    assign(slot: Slot, fqdn: string): Promise<string>;
    /** Ends every server connection the slot opened before now (after the gate, before any weight). */
    emptyPool(slot: Slot, drainMs: number, sleep?: (ms: number) => Promise<void>): Promise<string>;
    /** Sets both weights in one step, with no gap for traffic in between. */
    setWeights(...weights: [Slot, number][]): Promise<string>;
    maint(slot: Slot): Promise<string>;
    stats(slot: Slot): Promise<ServerStats>;
    /** Conversations answered 200 within the idle timeout, of one slot or both; undefined when the proxy does not count them. */
    activeConversations(slot?: Slot): Promise<number | undefined>;
    /** Unpins a slot's conversations (their next message goes where the weights say); resolves to what it unpinned. */
    unpinConversations(slot: Slot): Promise<Pinned>;
    pinned(slot: Slot): Promise<Pinned>;
    /** How full the pinning table is (undefined without one). */
    conversationTable(): Promise<TableFill | undefined>;
    /** Persists the slots, so a proxy restart comes back with the same live release. */
    persist(state: Record<Slot, PersistedSlot>): Promise<void>;
}

/** One /health answer through the proxy. */
export interface HealthAnswer {
    /** HTTP status, 0 for no answer. */
    code: number;
    body: string;
    ms: number;
    /** The release id the answer came from, if the agent says it (an optional extra of its contract). */
    release?: string;
    /** The proxy's server that answered (blue, green; blue1, ... on Swarm), as the proxy says: the answer's identity for any agent. */
    server?: string;
}

/** What answers through the proxy now, the weights deciding. */
export interface Served {
    /** The slot whose server answered, as the proxy says. */
    slot?: Slot;
    /** The release id the answer named, if the agent says it. */
    release?: string;
}

/** Requests through the proxy's own network path (haproxy/probes.ts: curl inside the proxy). */
export interface ProxyProbes {
    /** GET /health of one slot's release, whatever its weight. */
    slotHealth(slot: Slot): Promise<HealthAnswer>;
    /** GET /metrics of one slot's release; undefined unless it answers 200. */
    slotMetrics(slot: Slot): Promise<string | undefined>;
    /**
     * n requests in a row through the proxy, the weights deciding: which slot (and, if the
     * agent says it, which release) answered each, in order. A request that got no answer
     * is one with no slot.
     */
    served(n: number): Promise<Served[]>;
    /** n synthetic requests (release.probe; the reference agent's chat by default), so thresholds are judged even without traffic. */
    synthetic(n: number): Promise<void>;
    /**
     * One evaluation turn through the proxy, pinned to a slot like slotHealth: its status, time
     * and body (the first EVALUATION_BODY_LIMIT bytes: an answer is never read whole).
     */
    slotRequest(slot: Slot, request: TurnRequest, timeoutMs: number): Promise<TurnAnswer>;
}

/** The most of an evaluation answer's body the switch reads (bytes). */
export const EVALUATION_BODY_LIMIT = 65_536;

/** Scores an answer against a rubric (release.evaluation.judge: an OpenAI-compatible endpoint). */
export interface Judge {
    score(rubric: string, question: string, answer: string): Promise<{ pass: boolean; reason: string }>;
}

export interface ContainerState {
    /** Docker's status: created, running, restarting, exited, dead, paused. */
    status: string;
    running: boolean;
    exitCode: number;
    /** Restarts by the restart policy since the container was created. */
    restartCount: number;
    /** Docker's health check: status and the output of its last run ("" when none ran yet). */
    health?: { status: string; lastOutput: string };
    /** The image id the container runs, and the reference it was created from. */
    imageId: string;
    imageRef: string;
}

export interface ContainerMemory {
    percent: number;
    usedMb: number;
    limitMb: number;
}

/** A release's own containers (one host: docker/releaseContainer.ts; Swarm: a service's tasks). */
export interface ReleaseContainers {
    /** undefined when there is no such container. */
    state(container: string): Promise<ContainerState | undefined>;
    start(container: string): Promise<void>;
    /** Stops a container that never had traffic (a failed gate), so it does not crash-loop. */
    stop(container: string): Promise<void>;
    lastLogs(container: string, lines: number): Promise<string>;
    /** Memory use against the container's limit, as the Docker engine reports it; undefined without a reading. */
    memory(container: string): Promise<ContainerMemory | undefined>;
}
