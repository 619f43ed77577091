import { type AbortRequest, type CanaryControl, type CanaryState } from "../../contracts/canaryControl";
// The canary's control files, in memory: records the steps the rollout announces and
// hands it an abort by hand when a test asks for one.

export class MemoryCanaryControl implements CanaryControl {
    readonly steps: CanaryState[] = [];
    ends = 0;
    pending?: AbortRequest;
    /** Called after each step is recorded (a test may ask for an abort here). */
    onStep?: (state: CanaryState) => void | Promise<void>;

    async step(state: CanaryState): Promise<void> {
        if (state.step === 1) this.pending = undefined;
        this.steps.push(state);
        await this.onStep?.(state);
    }

    async abortRequest(): Promise<AbortRequest | undefined> {
        return this.pending;
    }

    async end(): Promise<void> {
        this.ends++;
        this.pending = undefined;
    }
}
