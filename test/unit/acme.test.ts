// Certificates over ACME (proxy.tls.mode acme): the config, the account key, the keeper's
// status and its lines, the hosts a certificate covers, the challenge route, and the names
// the Pulumi program and the keeper's script (proxy/acme-keeper.sh) must agree on.
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../config/schema";
import { LETS_ENCRYPT_DIRECTORY } from "../../config/tls";
import { tlsLines } from "../../config/proxySettings";
import { acmeAccountKey } from "../../core/acmeAccountKey";
import { acmeStatusLine, parseAcmeStatus } from "../../core/acmeStatus";
import { uncoveredHosts } from "../../core/certificates";
import {
    ACME_ACCOUNT_KEY_FILE,
    ACME_BACKEND,
    ACME_CHALLENGE_ADDRESS,
    ACME_DIR,
    ACME_STATUS_FILE,
    CERTIFICATE_FILE,
} from "../../core/proxyNames";
import { acmeKeeperContract } from "../../contracts/acmeKeeperContract";
import { preflightProblems } from "../../components/preflight";
import { templateProbe } from "../support/preflightProbe";

const ROOT = path.join(__dirname, "..", "..");
const KEEPER = fs.readFileSync(path.join(ROOT, "proxy", "acme-keeper.sh"), "utf8");
const TEMPLATE = fs.readFileSync(path.join(ROOT, "proxy", "haproxy.cfg.tmpl"), "utf8");

const acmeConfig = (tls: Record<string, unknown>) => parseConfig({ agent: { version: "1.0.0" }, proxy: { tls: { mode: "acme", ...tls } } });

describe("proxy.tls acme", () => {
    it("defaults to Let's Encrypt, renews 30 days before expiry, and needs hosts and an email, each named", () => {
        const c = acmeConfig({ hosts: ["agents.example.com"], acme: { email: "ops@example.com" } }).proxy.tls.acme;
        expect(c).to.deep.include({
            directory: LETS_ENCRYPT_DIRECTORY,
            renewBeforeDays: 30,
            issueTimeoutSeconds: 180,
            email: "ops@example.com",
        });
        expect(() => acmeConfig({})).to.throw(
            /proxy\.tls\.hosts: at least one host name with mode acme[\s\S]*proxy\.tls\.acme\.email: required with mode acme/,
        );
    });

    it("refuses a certificate or key beside it, a directory that is not https, and settings out of range, naming each", () => {
        expect(() =>
            acmeConfig({
                hosts: ["a.example.com"],
                acme: { email: "ops@example.com" },
                key: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
            }),
        ).to.throw(/proxy\.tls\.key: not with mode acme/);
        expect(() =>
            acmeConfig({ hosts: ["a.example.com"], acme: { email: "ops@example.com", directory: "http://ca.example/dir" } }),
        ).to.throw(/proxy\.tls\.acme\.directory: an https:\/\/ URL/);
        expect(() => acmeConfig({ hosts: ["a.example.com"], acme: { email: "not an address" } })).to.throw(
            /proxy\.tls\.acme\.email: an email address/,
        );
        expect(() => acmeConfig({ hosts: ["a.example.com"], acme: { email: "ops@example.com", renewBeforeDays: 90 } })).to.throw(
            /proxy\.tls\.acme\.renewBeforeDays/,
        );
        expect(() => acmeConfig({ hosts: ["a.example.com"], acme: { email: "ops@example.com", wildcard: true } })).to.throw(
            /proxy\.tls\.acme/,
        );
    });

    it("is checked against the config template: the challenge's backend must be there", () => {
        const cfg = acmeConfig({ hosts: ["a.example.com"], acme: { email: "ops@example.com" } });
        const without = TEMPLATE.replace(new RegExp(`^backend ${ACME_BACKEND}$`, "m"), "backend elsewhere");
        const problems = (t: string) => preflightProblems(cfg, ROOT, templateProbe(t), false).filter((p) => p.startsWith("proxy."));
        expect(problems(TEMPLATE)).to.deep.equal([]);
        expect(problems(without).join("\n")).to.match(/proxy\.configTemplate: .* has no backend zdt_acme/);
    });

    it("derives the account key from its secret seed: a P-256 key that signs, the same for the same seed, another for another", () => {
        const a = acmeAccountKey("s".repeat(48));
        expect(a.pem).to.match(/^-----BEGIN EC PRIVATE KEY-----/);
        expect(acmeAccountKey("s".repeat(48))).to.deep.equal(a);
        expect(acmeAccountKey("t".repeat(48)).pem).to.not.equal(a.pem);
        const key = crypto.createPrivateKey(a.pem);
        expect(key.asymmetricKeyDetails?.namedCurve).to.equal("prime256v1");
        const signature = crypto.sign("sha256", Buffer.from("jws"), key);
        expect(crypto.verify("sha256", Buffer.from("jws"), crypto.createPublicKey(key), signature)).to.equal(true);
        expect(a.thumbprint).to.match(/^[A-Za-z0-9_-]{43}$/);
        expect(() => acmeAccountKey("short")).to.throw(/at least 32 characters/);
    });

    it("reads the keeper's status file, and says a failed attempt as an ALERT that keeps the served certificate", () => {
        const ok = parseAcmeStatus(
            "attempt=1796478887\nresult=ok\nmessage=serving the certificate of the last renewal\nserial=3F8A\nnotAfter=Mar  5 13:54:46 2027 GMT\n",
        );
        expect(ok).to.deep.include({ result: "ok", serial: "3F8A", message: "serving the certificate of the last renewal" });
        expect(ok!.attempt.toISOString()).to.equal("2026-12-05T13:54:47.000Z");
        expect(ok!.notAfter!.toISOString()).to.equal("2027-03-05T13:54:46.000Z");
        const now = new Date(ok!.attempt.getTime() + 30_000);
        expect(acmeStatusLine(ok, now)).to.deep.equal({
            line: "certificate keeper: last check 30 s ago ok (serving the certificate of the last renewal)  OK",
            status: "OK",
        });
        const failed = parseAcmeStatus("attempt=1796478887\nresult=failed\nmessage=renewal failed (lego exit 1): no such host\n");
        expect(acmeStatusLine(failed, new Date(failed!.attempt.getTime() + 3 * 3600_000))).to.deep.equal({
            line: "certificate keeper: last attempt 3 h ago FAILED, the served certificate stays: renewal failed (lego exit 1): no such host  ALERT",
            status: "ALERT",
        });
        expect(parseAcmeStatus("")).to.equal(undefined);
        expect(parseAcmeStatus("attempt=12\nresult=maybe\n")).to.equal(undefined);
        expect(acmeStatusLine(undefined, now).status).to.equal("ALERT");
    });

    it("says which hosts a certificate does not cover: exact names, a wildcard for one label only", () => {
        const names = "DNS:agents.example.com, DNS:*.sales.example.com";
        expect(uncoveredHosts(names, ["agents.example.com", "eu.sales.example.com"])).to.deep.equal([]);
        expect(uncoveredHosts(names, ["www.agents.example.com", "a.eu.sales.example.com", "sales.example.com"])).to.deep.equal([
            "www.agents.example.com",
            "a.eu.sales.example.com",
            "sales.example.com",
        ]);
        expect(uncoveredHosts("", ["agents.example.com"])).to.deep.equal(["agents.example.com"]);
    });

    it("sends plain HTTP's challenges to the keeper, and only in mode acme", () => {
        const acme = tlsLines({ hostPort: 443, redirectHttp: true, acme: true }).rules;
        expect(acme).to.include(`use_backend ${ACME_BACKEND} if { path_beg /.well-known/acme-challenge/ } !{ ssl_fc }`);
        expect(acme).to.match(/redirect location https:.* !\{ path_beg \/\.well-known\/acme-challenge\/ \}/);
        expect(tlsLines({ hostPort: 443, redirectHttp: true }).rules).to.not.include(ACME_BACKEND);
    });

    it("the keeper's script, the template and the program agree on every name and variable", () => {
        for (const [, variable] of acmeKeeperContract.variables()) expect(KEEPER, variable).to.match(new RegExp(`\\$\\{?${variable}\\b`));
        const used = new Set([...KEEPER.matchAll(/\$\{?(ACME_[A-Z0-9_]+)/g)].map((m) => m[1]));
        const declared = new Set(acmeKeeperContract.variables().map(([, v]) => v));
        for (const v of used) expect(declared.has(v), `${v} in acme-keeper.sh`).to.equal(true);
        expect(KEEPER).to.include(`CHALLENGE=${ACME_CHALLENGE_ADDRESS}`);
        expect(KEEPER).to.include(`DIR=$STATE/${path.basename(ACME_DIR)}`);
        expect(KEEPER).to.include(`STATUS=$DIR/${path.basename(ACME_STATUS_FILE)}`);
        expect(KEEPER).to.include(`$DIR/${path.basename(ACME_ACCOUNT_KEY_FILE)}`);
        expect(KEEPER).to.include(`CERT=$STATE/tls/${path.basename(CERTIFICATE_FILE)}`);
        expect(TEMPLATE).to.match(
            new RegExp(`^backend ${ACME_BACKEND}\\n  server keeper ${ACME_CHALLENGE_ADDRESS.replace(/\./g, "\\.")}$`, "m"),
        );
    });
});
