// The certificate keeper's status file (proxy/acme-keeper.sh writes it after every attempt,
// key=value lines, replaced whole): parsed, and judged for the status view and the report.

export interface AcmeStatus {
    /** When the last attempt ended. */
    attempt: Date;
    result: "ok" | "failed";
    /** What happened, in the keeper's words (lego's last lines on a failure). */
    message: string;
    /** The certificate the keeper holds (and puts in place), when it holds one. */
    serial?: string;
    notAfter?: Date;
}

/** The status file's text (pure); undefined when it is not one (no attempt yet). */
export function parseAcmeStatus(text: string): AcmeStatus | undefined {
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1]?.trim();
    const attempt = Number(field("attempt"));
    const result = field("result");
    if (!Number.isFinite(attempt) || attempt <= 0 || (result !== "ok" && result !== "failed")) return undefined;
    const notAfter = field("notAfter") ? new Date(field("notAfter")!) : undefined;
    return {
        attempt: new Date(attempt * 1000),
        result,
        message: field("message") ?? "",
        serial: field("serial") || undefined,
        notAfter: notAfter && !Number.isNaN(notAfter.getTime()) ? notAfter : undefined,
    };
}

/**
 * The keeper's line (pure): ALERT when its last attempt failed (the served certificate stays,
 * but it will not be renewed until the CA answers again) or when it has no status yet long
 * after it started; OK otherwise. The certificate's own expiry has its own line.
 */
export function acmeStatusLine(status: AcmeStatus | undefined, now: Date): { line: string; status: "OK" | "ALERT" } {
    if (!status) return { line: "certificate keeper: no attempt recorded yet  ALERT", status: "ALERT" };
    const ago = Math.max(0, Math.round((now.getTime() - status.attempt.getTime()) / 1000));
    const when = ago < 120 ? `${ago} s ago` : ago < 7200 ? `${Math.round(ago / 60)} min ago` : `${Math.round(ago / 3600)} h ago`;
    if (status.result === "failed")
        return {
            line: `certificate keeper: last attempt ${when} FAILED, the served certificate stays: ${status.message}  ALERT`,
            status: "ALERT",
        };
    return { line: `certificate keeper: last check ${when} ok (${status.message})  OK`, status: "OK" };
}
