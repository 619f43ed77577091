// The proxy's certificates through HAProxy's runtime API: which it serves, and replacing
// one in place (`set ssl cert` then `commit ssl cert`): new TLS handshakes get the new
// certificate at once, connections already open keep theirs, no worker is reloaded.
import type { ContainerExec } from "../docker/cli";
import { ADMIN_SESSION } from "./admin";
import { ACME_STATUS_FILE } from "../core/proxyNames";

export interface ServedCertificate {
    file: string;
    serial: string;
    notAfter: Date;
    subject: string;
    altNames: string;
}

/** `show ssl cert <file>`'s answer (pure): its serial, expiry and names; undefined when HAProxy does not know the file. */
export function parseSslCert(out: string): ServedCertificate | undefined {
    const field = (name: string) => new RegExp(`^${name}: ?(.*)$`, "m").exec(out)?.[1]?.trim();
    const file = field("Filename");
    const serial = field("Serial");
    const notAfter = field("notAfter");
    if (!file || !serial || !notAfter) return undefined;
    return {
        file: file.replace(/^\*/, ""), // a pending transaction's copy is shown with a star
        serial: normalSerial(serial),
        notAfter: new Date(notAfter),
        subject: field("Subject") ?? "",
        altNames: field("Subject Alternative Name") ?? "",
    };
}

/** A serial as one form (hex, upper case, no leading zeros), whoever printed it. */
export function normalSerial(serial: string): string {
    return serial
        .replace(/[^0-9a-f]/gi, "")
        .toUpperCase()
        .replace(/^0+(?=.)/, "");
}

export class HaproxyCertificates {
    constructor(
        /** Runs a command inside the proxy container. */
        private readonly exec: ContainerExec,
    ) {}

    private session(input: string): Promise<string> {
        return this.exec(ADMIN_SESSION, input);
    }

    /** The certificate HAProxy serves from `file`, or undefined when it has none loaded from there. */
    async served(file: string): Promise<ServedCertificate | undefined> {
        // HAProxy answers a file it has not loaded with an error line, which parses to nothing.
        return parseSslCert(await this.session(`show ssl cert ${file}\n`));
    }

    /**
     * Replaces the certificate (and key) HAProxy serves from `file` with `pem`, which travels on
     * the admin session's standard input, never on a command line. Resolves to what serves
     * afterwards; throws (having aborted the transaction) when HAProxy refuses it.
     */
    async replace(file: string, pem: string): Promise<ServedCertificate> {
        const set = await this.session(`set ssl cert ${file} <<\n${pem.trim()}\n\n`);
        if (!/Transaction (created|updated)/i.test(set)) {
            await this.session(`abort ssl cert ${file}\n`).catch(() => undefined);
            throw new Error(`the proxy refused the certificate for ${file}: ${set.trim()}`);
        }
        const commit = await this.session(`commit ssl cert ${file}\n`);
        if (!/Success/i.test(commit)) {
            await this.session(`abort ssl cert ${file}\n`).catch(() => undefined);
            throw new Error(`the proxy could not commit the certificate for ${file}: ${commit.trim()}`);
        }
        const now = await this.served(file);
        if (!now) throw new Error(`the proxy serves no certificate from ${file} after the commit`);
        return now;
    }
}

/**
 * The certificate keeper's status file (proxy.tls.mode acme), read through the proxy, which
 * shares its state volume: bounded, "" when there is none (another mode, or no attempt yet).
 */
export function keeperStatusText(exec: ContainerExec): Promise<string> {
    return exec(["sh", "-c", `head -c 4096 ${ACME_STATUS_FILE} 2>/dev/null || true`]).catch(() => "");
}
