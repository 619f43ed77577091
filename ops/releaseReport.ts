// The release helper's report: what `pulumi up` did (phases, requests seen and failed, the
// switch's verification and retirement) as JSON in reports/, and the same release as a
// self-contained HTML page with its timeline (ops/reportHtml.ts).
import * as fs from "fs";
import * as path from "path";
import type { SwitchResult } from "../contracts/switchContract";
import { ROOT } from "./pulumiCli";
import { formatPhases, type PhaseTimings } from "./releasePhases";
import { renderReportHtml } from "./reportHtml";
import { certificateStatus } from "./statusTable";
import type { Timeline } from "./reportHtml";

export interface ReleaseReport {
    stack: string;
    ok: boolean;
    error?: string;
    startedAt: string;
    version: string;
    previousVersion: string | null;
    liveColor?: string;
    wallMs: number;
    /** Engine steps by phase (bring-up, retirement) and the switch's own phases. */
    phasesMs: Omit<PhaseTimings, "retirement">;
    /** Requests the proxy saw during the whole `pulumi up`, and how many it answered with 5xx. */
    proxy: { requests: number; errors5xx: number };
    /** The switch's verification of the new release (proxy statistics of that server). */
    verification?: SwitchResult["verification"];
    /** The previous release's retirement: the drain applied and the streams it cut (with a final event). */
    retirement?: SwitchResult["retirement"];
    /** The proxy's pinning table at its fullest during the release, with a warning from 90 %. */
    conversationTable?: SwitchResult["conversationTable"];
    /** The evaluation set's replay: each case side by side, the live release's answers and the new one's (release.evaluation). */
    evaluation?: NonNullable<SwitchResult["evaluation"]>;
    /** The certificate the proxy serves after the release (proxy.tls): its serial, expiry and verdict. */
    certificate?: { serial: string; notAfter: string; line: string; status: "OK" | "WARN" | "ALERT" };
    /** The certificate keeper's last attempt (proxy.tls.mode acme): ALERT when it failed. */
    certificateKeeper?: { line: string; status: "OK" | "ALERT" };
    changes: Record<string, number>;
}

/** The report's certificate line from the stack's output (pure): OK, WARN under minValidDays, ALERT once expired. */
export function reportCertificate(
    served: { serial: string; notAfter: string },
    minValidDays: number,
    now: Date,
): ReleaseReport["certificate"] {
    const status = certificateStatus({ serial: served.serial, notAfter: new Date(served.notAfter) }, now, minValidDays)!;
    return { serial: served.serial, notAfter: served.notAfter, ...status };
}

/** The conversation drain before the retirement, in words (pure; engine/conversationDrain.ts). */
export function drainLine(c: NonNullable<SwitchResult["retirement"]>["conversations"]): string {
    const waited = `waited ${(c.waitedMs / 1000).toFixed(1)} s for the old release's conversations to end their exchange`;
    if (c.moved === 0) return `${waited}; none was left pinned to it`;
    const cut = c.movedTalking > 0 ? `, ${c.movedTalking} of them mid-exchange (the drain's limit cut them)` : ", all between exchanges";
    return `${waited}; ${c.moved} still pinned moved to the new release${cut}; ${c.movedUnderWay} had had more than one message`;
}

/** Writes the JSON report and its HTML page to reports/, and says where. */
export function writeReports(report: ReleaseReport, rr: SwitchResult | undefined, timeline: Timeline, log: (line: string) => void): void {
    fs.mkdirSync(path.join(ROOT, "reports"), { recursive: true });
    const file = path.join(ROOT, "reports", `release-${report.stack}-${report.startedAt.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    log(`phases: ${formatPhases({ ...report.phasesMs, retirement: rr?.retirement?.tookMs })}`);
    if (rr?.retirement) log(`conversations: ${drainLine(rr.retirement.conversations)}`);
    if (report.certificate) log(report.certificate.line);
    if (report.certificateKeeper) log(report.certificateKeeper.line);
    log(`report: ${path.relative(process.cwd(), file)}`);
    const html = file.replace(/\.json$/, ".html");
    fs.writeFileSync(
        html,
        renderReportHtml({
            title: `release ${report.previousVersion ?? "(none)"} -> ${report.version} on stack ${report.stack}`,
            ok: report.ok,
            summary: [
                `${report.proxy.requests} requests through the proxy during the release, ${report.proxy.errors5xx} answered 5xx (the switch's own probes included: a probe of the new release before it is up may answer 503)`,
                `took ${(report.wallMs / 1000).toFixed(1)} s` + (report.error ? `; ${report.error.split("\n")[0]}` : ""),
                ...(rr?.retirement ? [`conversations: ${drainLine(rr.retirement.conversations)}`] : []),
                ...(rr?.conversationTable?.warning ? [`warning: ${rr.conversationTable.warning}`] : []),
                ...(report.certificate ? [report.certificate.line] : []),
                ...(report.certificateKeeper ? [report.certificateKeeper.line] : []),
            ],
            gates: rr?.verification.gates ?? [],
            ...(report.evaluation ? { evaluation: report.evaluation } : {}),
            timeline,
        }),
    );
    log(`report page: ${path.relative(process.cwd(), html)}`);
}
