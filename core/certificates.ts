// What a certificate and key the user gives must be before the proxy serves them (pure:
// the PEM text and the time in, problems out), and what the status view says of the one
// the proxy serves.
import * as crypto from "crypto";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CertificateFacts {
    notAfter: Date;
    serial: string;
    fingerprint256: string;
}

/** The host's certificate (the first of the chain). Throws on text that is not a certificate. */
export function leafCertificate(pem: string): crypto.X509Certificate {
    const first = pem.match(PEM_BLOCK)?.[0];
    if (!first) throw new Error("no PEM certificate in it");
    return new crypto.X509Certificate(first);
}

export function certificateFacts(pem: string): CertificateFacts {
    const cert = leafCertificate(pem);
    return {
        notAfter: new Date(cert.validTo),
        serial: cert.serialNumber,
        fingerprint256: cert.fingerprint256,
    };
}

/**
 * Every reason the proxy must not serve this certificate and key for these hosts, each
 * naming the setting (`field` prefix, e.g. "proxy.tls"): unreadable, not the key's, not yet
 * or no longer valid, a host it does not cover.
 */
export function certificateProblems(field: string, certificate: string, key: string, hosts: string[], now: Date): string[] {
    let cert: crypto.X509Certificate;
    try {
        cert = leafCertificate(certificate);
    } catch (err) {
        return [`${field}.certificate: not a readable PEM certificate (${(err as Error).message})`];
    }
    let privateKey: crypto.KeyObject;
    try {
        privateKey = crypto.createPrivateKey(key);
    } catch (err) {
        return [`${field}.key: not a readable unencrypted PEM private key (${(err as Error).message})`];
    }
    const problems: string[] = [];
    if (!cert.checkPrivateKey(privateKey))
        problems.push(
            `${field}.key: not the key of ${field}.certificate (${cert.subject.replace(/\n/g, ", ")}, serial ${cert.serialNumber}); set the pair that belongs together`,
        );
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (to.getTime() <= now.getTime())
        problems.push(
            `${field}.certificate: expired on ${to.toISOString()}; renew it and set the new one (the proxy keeps serving what it serves)`,
        );
    else if (from.getTime() > now.getTime()) problems.push(`${field}.certificate: not valid before ${from.toISOString()}`);
    for (const host of hosts) {
        if (cert.checkHost(host) === undefined)
            problems.push(
                `${field}.hosts: ${host} is not covered by ${field}.certificate (it names ${cert.subjectAltName ?? cert.subject.replace(/\n/g, ", ")})`,
            );
    }
    return problems;
}

/** Days until `notAfter` (negative once expired), rounded down. */
export function daysLeft(notAfter: Date, now: Date): number {
    return Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
}

/** The status view's and release report's word on a served certificate: ok, or a warning. */
export function certificateVerdict(notAfter: Date, now: Date, minValidDays: number): { ok: boolean; text: string } {
    const days = daysLeft(notAfter, now);
    if (notAfter.getTime() <= now.getTime()) return { ok: false, text: `EXPIRED on ${notAfter.toISOString()}: clients refuse it` };
    if (days < minValidDays)
        return { ok: false, text: `expires in ${days} day(s) (${notAfter.toISOString()}), under proxy.tls.minValidDays ${minValidDays}` };
    return { ok: true, text: `valid until ${notAfter.toISOString()} (${days} days)` };
}

/**
 * The hosts a certificate does not cover (pure), from its Subject Alternative Name as
 * HAProxy and OpenSSL print it ("DNS:a.example, DNS:*.b.example"): a wildcard covers one label.
 */
export function uncoveredHosts(altNames: string, hosts: string[]): string[] {
    const names = altNames
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n.startsWith("DNS:"))
        .map((n) => n.slice(4).toLowerCase());
    const covers = (host: string) =>
        names.some((n) => n === host || (n.startsWith("*.") && host.includes(".") && host.slice(host.indexOf(".") + 1) === n.slice(2)));
    return hosts.filter((h) => !covers(h));
}
