// One way to release a new agent version, measured under the same load as the others:
// the blueprint's nginx recipe, a naive recreate, or our `pulumi up`.

export interface ReleaseTimings {
    /** From the start of the release to its end (the old release gone, or the window over). */
    wallMs: number;
    /** The switch itself: sed + reload, stop + start, or our flip (undefined: not separable). */
    switchMs?: number;
    /** Where the wall time went, by phase (ms), when the method reports it (ours). */
    phasesMs?: Record<string, number>;
    /** Resources in the stack's state after the release (ours): does the state grow release after release? */
    stateResources?: number;
}

export interface ReleaseMethod {
    readonly name: string;
    /** Where the load goes: the proxy, or the published port of a naive recreate. */
    readonly url: string;
    /** Brings the first version up, serving at `url`. */
    setup(version: string): Promise<void>;
    /** Replaces the live version by `version`. */
    release(version: string): Promise<ReleaseTimings>;
    /**
     * Wall time (ms) of the same command when nothing changed (ours: `pulumi up` of an
     * unchanged stack): what every release pays before any of its own work.
     */
    noChange?(): Promise<number>;
    teardown(): Promise<void>;
}
