// A throwaway certificate authority for the tests (openssl, in a temporary folder): its
// certificate is trusted by the tests' clients only, and it issues host certificates for
// names such as agents.test, valid for a number of days (0: expired a second later).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Issued {
    certificate: string;
    key: string;
}

export class TestCa {
    private serial = 0;

    private constructor(
        readonly dir: string,
        /** The CA's certificate (PEM): what a client trusts. */
        readonly certificate: string,
    ) {}

    static create(name = "zdt test CA"): TestCa {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-ca-"));
        openssl(dir, [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            `/CN=${name}`,
        ]);
        return new TestCa(dir, fs.readFileSync(path.join(dir, "ca.pem"), "utf8"));
    }

    /** A certificate for `hosts` (the first is its subject), valid for `days` (0: already expired when used). */
    issue(hosts: string[], days = 10): Issued {
        const id = `host${++this.serial}`;
        fs.writeFileSync(path.join(this.dir, `${id}.ext`), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}\n`);
        openssl(this.dir, [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            `${id}.key`,
            "-out",
            `${id}.csr`,
            "-subj",
            `/CN=${hosts[0]}`,
        ]);
        openssl(this.dir, [
            "x509",
            "-req",
            "-in",
            `${id}.csr`,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            `${id}.crt`,
            "-days",
            String(days),
            "-extfile",
            `${id}.ext`,
        ]);
        return {
            certificate: fs.readFileSync(path.join(this.dir, `${id}.crt`), "utf8"),
            key: fs.readFileSync(path.join(this.dir, `${id}.key`), "utf8"),
        };
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

function openssl(cwd: string, args: string[]): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}
