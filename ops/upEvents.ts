// `pulumi up --json` as the release helper follows it: each engine event becomes a
// progress line, a phase mark (by the step's resource type, ops/releasePhases.ts), an error
// or policy violation for the report, a milestone on the report's timeline, or the summary
// of changes.
import { type Phase, phaseOf, type StepMetadata } from "./releasePhases";

/** The parts of `pulumi up --json` engine events the helper reads. */
export interface EngineEvent {
    resourcePreEvent?: { metadata: StepMetadata };
    resOutputsEvent?: { metadata: StepMetadata };
    diagnosticEvent?: { severity: string; message: string; urn?: string };
    policyEvent?: { policyName: string; enforcementLevel: string; resourceUrn?: string; message: string };
    summaryEvent?: { resourceChanges?: Record<string, number> };
}

/** When the switch's command step started and ended, and when its program printed its first and last line (ms since the start). */
export interface SwitchCommandTimes {
    stepStart?: number;
    firstLine?: number;
    lastLine?: number;
    stepEnd?: number;
}

export type PhaseMarks = Partial<Record<`${Phase}${"Start" | "End"}`, number>>;

export class UpProgress {
    readonly marks: PhaseMarks = {};
    readonly errors: string[] = [];
    changes: Record<string, number> = {};
    /** When the engine began its first resource step (ms since the start). */
    firstStepAt: number | undefined;
    /** When the engine's summary came (ms since the start). */
    summaryAt: number | undefined;
    readonly switchCommand: SwitchCommandTimes = {};
    private stepsDone = 0;

    constructor(
        private readonly log: (line: string) => void,
        /** A mark on the report's timeline: a phase's start or one of the switch's milestones. */
        private readonly mark: (label: string) => void,
    ) {}

    /** One line of `pulumi up --json`, `now` ms after the start. */
    handle(line: string, now: number): void {
        let e: EngineEvent;
        try {
            e = JSON.parse(line) as EngineEvent;
        } catch {
            return;
        }
        const at = `${(now / 1000).toFixed(1)}s`;
        const step = e.resourcePreEvent ?? e.resOutputsEvent;
        if (step) {
            const m = step.metadata;
            const phase = phaseOf(m);
            if (!phase) return;
            const name = m.urn.split("::").pop();
            if (phase === "switch") this.switchCommand[e.resourcePreEvent ? "stepStart" : "stepEnd"] = now;
            if (e.resourcePreEvent) {
                this.firstStepAt ??= now;
                if (this.marks[`${phase}Start`] === undefined) this.mark(phase);
                this.marks[`${phase}Start`] ??= now;
                this.log(`[${at}] ${m.op} ${name} ...`);
            } else {
                this.marks[`${phase}End`] = now;
                this.stepsDone++;
                this.log(`[${at}] ${m.op} ${name} done (${this.stepsDone} steps done)`);
            }
        } else if (e.diagnosticEvent && ["info", "warning", "error", "info#err"].includes(e.diagnosticEvent.severity)) {
            const msg = String(e.diagnosticEvent.message).trim();
            if (/^using pulumi-/.test(msg)) return;
            if (e.diagnosticEvent.severity === "error") this.errors.push(msg);
            // A line of the switch's program (the TrafficSwitch's command).
            if ((e.diagnosticEvent.urn?.split("::")[2] ?? "").endsWith("zdt:agents:TrafficSwitch$command:local:Command")) {
                this.switchCommand.firstLine ??= now;
                this.switchCommand.lastLine = now;
            }
            // The switch's milestones, on the plot.
            const milestone = /\] (flipped .*|breach after .*|canary step \d+ of \d+: \d+%|canary aborted at step \d+|verifying \S+)/.exec(
                msg,
            );
            if (milestone) this.mark(milestone[1].replace(/ \(.*$/, ""));
            for (const l of msg.split("\n")) this.log(`[${at}] ${l}`);
        } else if (e.policyEvent) {
            const p = e.policyEvent;
            const msg = `policy ${p.policyName} [${p.enforcementLevel}] on ${String(p.resourceUrn ?? "")
                .split("::")
                .pop()}: ${String(p.message).trim().split("\n").pop()}`;
            if (p.enforcementLevel === "mandatory") this.errors.push(msg);
            this.log(`[${at}] ${msg}`);
        } else if (e.summaryEvent) {
            this.summaryAt = now;
            this.changes = e.summaryEvent.resourceChanges ?? {};
        }
    }

    /** The switch command's start-up (step start to first line) and exit (last line to step end), if it ran. */
    switchCommandMs(): { start?: number; exit?: number } {
        const t = this.switchCommand;
        return {
            start: t.stepStart !== undefined && t.firstLine !== undefined ? t.firstLine - t.stepStart : undefined,
            exit: t.lastLine !== undefined && t.stepEnd !== undefined ? t.stepEnd - t.lastLine : undefined,
        };
    }

    /** How long a phase of engine steps took, if it ran. */
    span(p: Phase): number | undefined {
        const [start, end] = [this.marks[`${p}Start`], this.marks[`${p}End`]];
        return start !== undefined && end !== undefined ? end - start : undefined;
    }
}
