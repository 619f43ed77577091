// The canary's control files in the proxy's state folder: what step is under way (written
// by the switch), and an abort asked for by hand (written by `npm run abort`,
// ops/abort.ts). Both programs reach them through `docker exec` into the proxy, so
// an abort works wherever the Docker host is. One schema per file (contracts/canaryControl.ts), read and written only here.
import { z } from "zod";
import type { ContainerExec } from "../docker/cli";
import { SLOT_DIR } from "./admin";
import { AbortRequestSchema, type AbortRequest, type CanaryControl, type CanaryState, CanaryStateSchema } from "../contracts/canaryControl";

export const CANARY_FILE = `${SLOT_DIR}/canary.json`;
export const ABORT_FILE = `${SLOT_DIR}/abort.json`;

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
