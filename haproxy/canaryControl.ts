// The canary's control files in the proxy's state folder: what step is under way (written
// by the switch), and an abort asked for by hand (written by `npm run abort`,
// ops/abort.ts). Both programs reach them through `docker exec` into the proxy, so
// an abort works wherever the Docker host is. One schema per file, read and written only here.
import { z } from "zod";
import type { ContainerExec } from "../docker/cli";
import { SLOT_DIR } from "./admin";
import { SLOTS } from "../core/slots";

export const CANARY_FILE = `${SLOT_DIR}/canary.json`;
export const ABORT_FILE = `${SLOT_DIR}/abort.json`;

export const CanaryStateSchema = z.object({
    /** The canary's release id and container, and the slots of both releases. */
    release: z.string(),
    container: z.string(),
    canarySlot: z.enum(SLOTS),
    stableSlot: z.enum(SLOTS),
    /** The step under way (1-based), of how many, and its weight. */
    step: z.number().int().min(1),
    of: z.number().int().min(1),
    weight: z.number(),
    /** When the step began (epoch ms). */
    startedAt: z.number(),
});
export type CanaryState = z.infer<typeof CanaryStateSchema>;

export const AbortRequestSchema = z.object({
    /** When the canary's weight went to 0 (epoch ms). */
    at: z.number(),
    reason: z.string(),
    /** How long setting the weights took, from the moment the abort was asked for (ms). */
    weightZeroMs: z.number(),
    /** Conversations pinned to the canary that the abort moved to stable, and how many had more than one message. */
    moved: z.number(),
    movedUnderWay: z.number(),
});
export type AbortRequest = z.infer<typeof AbortRequestSchema>;

/** What the canary rollout needs from the control files (unit tests pass an in-memory one). */
export interface CanaryControl {
    /** Records the step under way; clears a stale abort on the first step. */
    step(state: CanaryState): Promise<void>;
    /** The abort asked for by hand since the canary began, if any. */
    abortRequest(): Promise<AbortRequest | undefined>;
    /** The canary is over (passed or aborted): removes both files. */
    end(): Promise<void>;
}

export class ProxyCanaryControl implements CanaryControl {
    constructor(private readonly exec: ContainerExec) {}

    async step(state: CanaryState): Promise<void> {
        if (state.step === 1) await this.exec(["rm", "-f", ABORT_FILE]);
        await this.write(CANARY_FILE, CanaryStateSchema.parse(state));
    }

    async state(): Promise<CanaryState | undefined> {
        return this.read(CANARY_FILE, CanaryStateSchema);
    }

    async abortRequest(): Promise<AbortRequest | undefined> {
        return this.read(ABORT_FILE, AbortRequestSchema);
    }

    async requestAbort(request: AbortRequest): Promise<void> {
        await this.write(ABORT_FILE, AbortRequestSchema.parse(request));
    }

    async end(): Promise<void> {
        await this.exec(["rm", "-f", CANARY_FILE, ABORT_FILE]);
    }

    private async write(file: string, value: unknown): Promise<void> {
        await this.exec(["sh", "-c", `cat > ${file}.new && mv ${file}.new ${file}`], JSON.stringify(value) + "\n");
    }

    private async read<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
        const text = (await this.exec(["sh", "-c", `cat ${file} 2>/dev/null || true`])).trim();
        if (!text) return undefined;
        let json: unknown;
        try {
            json = JSON.parse(text);
        } catch {
            throw new Error(`${file} in the proxy is not JSON: ${text.slice(0, 80)}`);
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) throw new Error(`${file} in the proxy is not what this version writes: ${parsed.error.issues[0]?.message}`);
        return parsed.data;
    }
}
