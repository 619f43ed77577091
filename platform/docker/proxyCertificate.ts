// Puts the certificate and key (proxy.tls) in place: a file of mode 600 in the proxy's
// state volume (the next start or reload loads it), and, when the running proxy already
// serves from that file, the new one through HAProxy's runtime API: no reload, no
// connection closed. The PEM comes in the command's environment (a Pulumi secret) and
// leaves on a process's standard input only, never on a command line or in a log.
import { certificateFacts } from "../../core/certificates";
import { CERTIFICATE_FILE, TLS_DIR } from "../../core/proxyNames";
import { containerExec } from "../../docker/cli";
import { writeProxyState } from "./proxyState";
import { SLOT_DIR } from "../../haproxy/admin";
import { HaproxyCertificates, normalSerial } from "../../haproxy/certificates";
import { proxyCertificateContract, type ProxyCertificateResult } from "../../contracts/proxyCertificateContract";

// Written beside the folder, then moved in: HAProxy loads every file of the folder, a half-written one never.
const WRITE = `umask 077 && mkdir -p ${TLS_DIR} && cat > ${SLOT_DIR}/edge.pem.new && mv ${SLOT_DIR}/edge.pem.new ${CERTIFICATE_FILE}`;

/**
 * The command's `delete` (HTTPS turned off, or the stack destroyed): the key leaves the
 * proxy's state volume, through the proxy if it runs, else through a throwaway container
 * of its image. A shell line, not this program: a destroy runs it without the Pulumi
 * program, so nothing may depend on dist/run/ being there. It never fails the update.
 */
export function removeCertificateScript(): string {
    const v = (key: "proxyContainer" | "stateVolume" | "proxyImage") => `"$${proxyCertificateContract.variableOf(key)}"`;
    return (
        `docker exec ${v("proxyContainer")} rm -f ${CERTIFICATE_FILE} 2>/dev/null || ` +
        `docker run --rm -v ${v("stateVolume")}:${SLOT_DIR} --entrypoint rm ${v("proxyImage")} -f ${CERTIFICATE_FILE} 2>/dev/null || true`
    );
}

async function main(log: (line: string) => void): Promise<ProxyCertificateResult> {
    const input = proxyCertificateContract.decode(process.env);
    const facts = certificateFacts(input.pemBundle);
    const pem = input.pemBundle.trim() + "\n";
    const serial = normalSerial(facts.serial);
    const result = (applied: ProxyCertificateResult["applied"]): ProxyCertificateResult => ({
        serial,
        notAfter: facts.notAfter.toISOString(),
        fingerprint256: facts.fingerprint256,
        applied,
    });
    if (!(await writeProxyState(input, WRITE, pem))) {
        log(`serial ${serial} (until ${facts.notAfter.toISOString()}) written for the proxy's start`);
        return result("file");
    }
    const certificates = new HaproxyCertificates(containerExec(input.proxyContainer));
    const before = await certificates.served(CERTIFICATE_FILE);
    if (!before) {
        log(`serial ${serial} written; the proxy loads it with its config`);
        return result("file");
    }
    if (before.serial === serial) {
        log(`serial ${serial} already served`);
        return result("runtime");
    }
    const now = await certificates.replace(CERTIFICATE_FILE, pem);
    if (now.serial !== serial) throw new Error(`the proxy serves serial ${now.serial} after the replacement, not ${serial}`);
    log(`serial ${before.serial} -> ${serial} (until ${facts.notAfter.toISOString()}), replaced in the running proxy without a reload`);
    return result("runtime");
}

if (require.main === module) {
    main((line) => process.stderr.write(`proxy certificate: ${line}\n`)).then(
        (r) => process.stdout.write(JSON.stringify(r) + "\n"),
        (err: Error) => {
            process.stderr.write(`proxy certificate: ${err.message}\n`);
            process.exit(1);
        },
    );
}
