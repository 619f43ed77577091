// Which phase of a release an engine step belongs to, from the step's resource type
// and its parent's type (never from resource names): deletions remove the old
// release, children of an AgentRelease bring the new one up, the TrafficSwitch's
// command is the switch, the KnowledgeReload's command is a reindex.

export type Phase = "bringUp" | "switch" | "reindex" | "deletion" | "other";

/** The parts of an engine step event (`resourcePreEvent.metadata`) that decide its phase. */
export interface StepMetadata {
    op: string;
    urn: string;
    type: string;
    old?: { parent?: string };
    new?: { parent?: string };
}

/** The type of the resource a URN names (its last `$`-separated type segment). */
export function urnType(urn: string): string {
    return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}

const BY_PARENT: Record<string, Phase> = {
    "zdt:agents:AgentRelease": "bringUp",
    "zdt:agents:TrafficSwitch": "switch",
    "zdt:agents:KnowledgeReload": "reindex",
};

/** The phase of a step, or undefined for steps that are not part of a release's work (components, the stack, no-ops). */
export function phaseOf(m: StepMetadata): Phase | undefined {
    if (m.op === "same" || m.op === "read" || m.type.startsWith("pulumi:") || m.type.startsWith("zdt:")) return undefined;
    if (m.op === "delete" || m.op === "discard") return "deletion";
    const parent = m.new?.parent ?? m.old?.parent;
    return (parent && BY_PARENT[urnType(parent)]) || "other";
}

/** A release's phase timings (ms; undefined: the phase did not happen), in the order they run. */
export interface PhaseTimings {
    /** From the start of `pulumi up` to its first resource step: the program, the engine, the plugins, the policy pack. */
    startup?: number;
    bringUp?: number;
    /** The switch's command: from its step's start to the program's first line (node and its modules starting). */
    switchStart?: number;
    healthGate?: number;
    /** The evaluation set replayed on both releases (release.evaluation). */
    evaluation?: number;
    emptyPool?: number;
    canary?: number;
    flip?: number;
    confirm?: number;
    verification?: number;
    retirement?: number;
    /** The switch's command: from the program's last line to its step's end (the program exiting, the provider answering). */
    switchExit?: number;
    deletion?: number;
    reindex?: number;
    /** From the engine's summary to the end of `pulumi up` (the last checkpoint, the plugins' shutdown). */
    engineExit?: number;
}

const PHASE_NAMES: [keyof PhaseTimings, string][] = [
    ["startup", "start-up"],
    ["bringUp", "bring-up"],
    ["switchStart", "switch program start"],
    ["healthGate", "health gate"],
    ["evaluation", "evaluation set"],
    ["emptyPool", "pool emptied"],
    ["canary", "canary steps"],
    ["flip", "switch"],
    ["confirm", "confirm"],
    ["verification", "verification window"],
    ["retirement", "retirement (drain)"],
    ["switchExit", "switch program exit"],
    ["deletion", "deletion"],
    ["reindex", "reindex"],
    ["engineExit", "engine exit"],
];

/** One line for the release log: each phase that happened, in seconds, in order. */
export function formatPhases(t: PhaseTimings): string {
    const parts = PHASE_NAMES.filter(([k]) => t[k] !== undefined).map(([k, name]) => `${name} ${(t[k]! / 1000).toFixed(1)} s`);
    return parts.length > 0 ? parts.join(", ") : "no phase recorded";
}
