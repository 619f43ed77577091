// Release containers for switch tests: every container runs and stays up unless a test
// scripts its state; starts, stops and image removals are recorded.
import { type ContainerMemory, type ContainerState, type ReleaseContainers } from "../../engine/ports";
import { type ImageRecord } from "../../core/images";

export class FakeContainers implements ReleaseContainers {
    readonly states = new Map<string, ContainerState>();
    readonly started: string[] = [];
    readonly stopped: string[] = [];
    readonly removedImages: string[] = [];
    /** Called on every state read, so a test can script a crash after N polls. */
    onRead: (container: string, reads: number) => Partial<ContainerState> | undefined = () => undefined;
    private reads = new Map<string, number>();
    logs = "agent 2.0.0 listening on :8080\nfault: something went wrong";

    static running(container: string): ContainerState {
        return {
            status: "running",
            running: true,
            exitCode: 0,
            restartCount: 0,
            imageId: `sha256:${container}`,
            imageRef: `${container}:img`,
        };
    }

    async state(container: string): Promise<ContainerState | undefined> {
        const n = (this.reads.get(container) ?? 0) + 1;
        this.reads.set(container, n);
        const base = this.states.get(container) ?? FakeContainers.running(container);
        const scripted = this.onRead(container, n);
        if (scripted) this.states.set(container, { ...base, ...scripted });
        return this.states.get(container) ?? base;
    }
    private setState(container: string, change: Partial<ContainerState>): void {
        this.states.set(container, { ...(this.states.get(container) ?? FakeContainers.running(container)), ...change });
    }
    async start(container: string): Promise<void> {
        this.started.push(container);
        this.setState(container, { status: "running", running: true });
    }
    async stop(container: string): Promise<void> {
        this.stopped.push(container);
        this.setState(container, { status: "exited", running: false, exitCode: 143 });
    }
    async lastLogs(): Promise<string> {
        return this.logs;
    }
    /** Memory readings by container; a test sets them (undefined: no reading). */
    readonly memoryReadings = new Map<string, ContainerMemory>();
    async memory(container: string): Promise<ContainerMemory | undefined> {
        return this.memoryReadings.get(container);
    }
    removeImage = async (image: ImageRecord): Promise<{ removed: boolean; detail: string }> => {
        this.removedImages.push(image.ref);
        return { removed: true, detail: `removed image ${image.ref}` };
    };
}
