// The issuance gate of proxy.tls.mode acme: `pulumi up` goes on once the proxy serves a
// certificate that covers every host (at once when it already does: renewals are the
// keeper's, not the update's). It fails after two failed attempts of the keeper since it
// began, or at its timeout, quoting the CA's answer; nothing it does touches what the proxy
// serves, so the certificate in place stays.
import { parseAcmeStatus, type AcmeStatus } from "../../core/acmeStatus";
import { CERTIFICATE_FILE } from "../../core/proxyNames";
import { containerExec } from "../../docker/cli";
import { HaproxyCertificates, keeperStatusText } from "../../haproxy/certificates";
import { uncoveredHosts } from "../../core/certificates";
import { acmeIssuanceContract, type AcmeIssuanceResult } from "../../contracts/acmeIssuanceContract";

const POLL_MS = 1000;
const FAILED_ATTEMPTS = 2;

async function main(log: (line: string) => void): Promise<AcmeIssuanceResult> {
    const input = acmeIssuanceContract.decode(process.env);
    const exec = containerExec(input.proxyContainer);
    const certificates = new HaproxyCertificates(exec);
    const began = Date.now();
    const deadline = began + input.timeoutSeconds * 1000;
    let seen: number | undefined;
    let failures = 0;
    let last: AcmeStatus | undefined;
    let said = false;
    for (;;) {
        const served = await certificates.served(CERTIFICATE_FILE).catch(() => undefined);
        const missing = uncoveredHosts(served?.altNames ?? "", input.hosts);
        if (served && missing.length === 0 && served.notAfter.getTime() > Date.now()) {
            const fingerprint = await exec(["sh", "-c", `openssl x509 -noout -fingerprint -sha256 -in ${CERTIFICATE_FILE}`]);
            log(
                `serving serial ${served.serial} for ${input.hosts.join(", ")} until ${served.notAfter.toISOString()} (${((Date.now() - began) / 1000).toFixed(1)} s)`,
            );
            return {
                serial: served.serial,
                notAfter: served.notAfter.toISOString(),
                fingerprint256: fingerprint.replace(/^.*Fingerprint=/i, "").trim(),
            };
        }
        if (!said) {
            log(`waiting for a certificate for ${missing.join(", ")} from ${input.directory} (at most ${input.timeoutSeconds} s)`);
            said = true;
        }
        const status = parseAcmeStatus(await keeperStatusText(exec));
        // Attempts that ended since the gate began (the file has whole seconds).
        if (status && status.attempt.getTime() >= Math.floor(began / 1000) * 1000 && status.attempt.getTime() !== seen) {
            seen = status.attempt.getTime();
            last = status;
            failures = status.result === "failed" ? failures + 1 : 0;
            if (status.result === "failed") log(`attempt failed: ${status.message}`);
        }
        const keeps = served ? `the proxy keeps serving serial ${served.serial}` : "nothing was served yet";
        if (failures >= FAILED_ATTEMPTS)
            throw new Error(
                `proxy.tls.acme: no certificate for ${missing.join(", ")} from ${input.directory} after ${failures} attempts; ${keeps}. The CA's answer: ${last?.message}`,
            );
        if (Date.now() > deadline)
            throw new Error(
                `proxy.tls.acme.issueTimeoutSeconds: no certificate for ${missing.join(", ")} from ${input.directory} within ${input.timeoutSeconds} s; ${keeps}. ${last ? `The keeper's last attempt: ${last.message}` : "The keeper recorded no attempt (is the keeper container running?)"}`,
            );
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
}

if (require.main === module) {
    main((line) => process.stderr.write(`acme issuance: ${line}\n`)).then(
        (r) => process.stdout.write(JSON.stringify(r) + "\n"),
        (err: Error) => {
            process.stderr.write(`acme issuance: ${err.message}\n`);
            process.exit(1);
        },
    );
}
