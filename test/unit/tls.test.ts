// HTTPS in the proxy (proxy.tls): the config, the checks of a certificate and key before
// anything changes, the frontend's lines, the served certificate as HAProxy reports it.
import { expect } from "chai";
import * as path from "path";
import { parseConfig, platformProblems } from "../../config/schema";
import { tlsLines, withSettings } from "../../config/proxySettings";
import { certificateFacts, certificateProblems, certificateVerdict } from "../../core/certificates";
import { normalSerial, parseSslCert } from "../../haproxy/certificates";
import { plainSecretsProblem, preflightProblems, type PreflightProbe } from "../../components/preflight";
import { TestCa, type Issued } from "../support/certificates";
import { certificateStatus } from "../../ops/statusTable";
import { reportCertificate } from "../../ops/releaseReport";
import * as fs from "fs";

const ROOT = path.join(__dirname, "..", "..");
const TEMPLATE = fs.readFileSync(path.join(ROOT, "proxy", "haproxy.cfg.tmpl"), "utf8");

describe("proxy.tls", () => {
    let ca: TestCa;
    let good: Issued;
    let other: Issued;
    before(() => {
        ca = TestCa.create();
        good = ca.issue(["agents.test", "sales.agents.test"]);
        other = ca.issue(["agents.test"]);
    });
    after(() => ca.remove());

    const tlsConfig = (tls: Record<string, unknown>, proxy: Record<string, unknown> = {}) =>
        parseConfig({ agent: { version: "1.0.0" }, proxy: { ...proxy, tls } });

    it("is off by default, and with mode certificate needs hosts, a certificate and a key, each named", () => {
        expect(parseConfig({ agent: { version: "1.0.0" } }).proxy.tls).to.deep.include({ mode: "off", port: 443, redirectHttp: true });
        expect(() => tlsConfig({ mode: "certificate" })).to.throw(
            /proxy\.tls\.hosts: at least one host name[\s\S]*proxy\.tls\.certificate: required[\s\S]*proxy\.tls\.key: required/,
        );
        expect(() => tlsConfig({ mode: "acme-v9" })).to.throw(/proxy\.tls\.mode: one of off, certificate/);
        expect(() => tlsConfig({ mode: "certificate", hosts: ["Agents.Test"], certificate: good.certificate, key: good.key })).to.throw(
            /proxy\.tls\.hosts\.0: a lower-case host name/,
        );
        expect(() => tlsConfig({ mode: "certificate", hosts: ["agents.test"], certificate: "hello", key: good.key })).to.throw(
            /proxy\.tls\.certificate: a PEM certificate/,
        );
        expect(() =>
            tlsConfig({ mode: "certificate", hosts: ["agents.test"], certificate: good.certificate, key: good.key, port: 8080 }),
        ).to.throw(/proxy\.tls\.port: not proxy\.port \(8080\)/);
        const on = tlsConfig({ mode: "certificate", hosts: ["agents.test"], certificate: good.certificate, key: good.key, port: "8443" });
        expect(on.proxy.tls.port).to.equal(8443);
    });

    it("is one host's: platform swarm refuses it", () => {
        const problems = platformProblems({
            platform: "swarm",
            swarm: {},
            agent: { image: "r/a", digest: "sha256:x" },
            proxy: { tls: { mode: "certificate" } },
        });
        expect(problems.map((p) => p.path.join("."))).to.deep.equal(["proxy.tls.mode"]);
    });

    it("passes a certificate that is the key's, valid now and covers every host", () => {
        expect(
            certificateProblems("proxy.tls", good.certificate, good.key, ["agents.test", "sales.agents.test"], new Date()),
        ).to.deep.equal([]);
    });

    it("refuses, naming the field, a key that is not the certificate's, an expired certificate and a host it does not cover", () => {
        const facts = certificateFacts(good.certificate);
        const later = new Date(facts.notAfter.getTime() + 86_400_000);
        const problems = certificateProblems("proxy.tls", good.certificate, other.key, ["agents.test", "support.agents.test"], later);
        expect(problems).to.have.length(3);
        expect(problems[0]).to.match(/^proxy\.tls\.key: not the key of proxy\.tls\.certificate \(CN=agents\.test, serial [0-9A-F]+\)/);
        expect(problems[1]).to.match(/^proxy\.tls\.certificate: expired on \d{4}-/);
        expect(problems[2]).to.equal(
            "proxy.tls.hosts: support.agents.test is not covered by proxy.tls.certificate (it names DNS:agents.test, DNS:sales.agents.test)",
        );
        expect(
            certificateProblems(
                "proxy.tls",
                good.certificate,
                "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----",
                [],
                new Date(),
            )[0],
        ).to.match(/^proxy\.tls\.key: not a readable unencrypted PEM private key/);
    });

    it("is checked before anything changes, with the template's HTTPS lines, and its key must be a secret", () => {
        const probe: PreflightProbe = {
            isDirectory: () => true,
            isFile: () => true,
            readFile: () => TEMPLATE.replace("${TLS_BIND}", ""),
            imageProblem: () => undefined,
            memory: () => ({ totalMb: 8192, limits: [] }),
        };
        const cfg = parseConfig({
            agent: { version: "1.0.0", buildContext: "agent" },
            proxy: { tls: { mode: "certificate", hosts: ["other.test"], certificate: good.certificate, key: good.key } },
        });
        const problems = preflightProblems(cfg, ROOT, probe, false);
        expect(problems.map((p) => p.split(":")[0])).to.deep.equal(["proxy.tls.hosts", "proxy.configTemplate"]);
        expect(problems[1]).to.match(/has no \$\{TLS_BIND\} and \$\{TLS_RULES\} lines/);
        expect(plainSecretsProblem(cfg, "shop", ["shop:proxy"])).to.equal(undefined);
        expect(plainSecretsProblem(cfg, "shop", [])).to.match(
            /^proxy\.tls\.key: stored in plain text .*pulumi config set --secret --path proxy\.tls\.key < privkey\.pem/,
        );
    });

    it("says how long the served certificate has, and warns under proxy.tls.minValidDays", () => {
        const now = new Date("2026-12-05T00:00:00Z");
        expect(certificateVerdict(new Date("2027-03-01T00:00:00Z"), now, 14)).to.deep.equal({
            ok: true,
            text: "valid until 2027-03-01T00:00:00.000Z (86 days)",
        });
        expect(certificateVerdict(new Date("2026-12-10T00:00:00Z"), now, 14).text).to.match(
            /^expires in 5 day\(s\) .* under proxy\.tls\.minValidDays 14$/,
        );
        expect(certificateVerdict(new Date("2026-12-01T00:00:00Z"), now, 14)).to.deep.include({ ok: false });
        expect(certificateVerdict(new Date("2026-12-01T00:00:00Z"), now, 14).text).to.match(/^EXPIRED/);
    });

    it("puts the served certificate in the status view: OK, WARN near its end, ALERT once expired, nothing without HTTPS", () => {
        const now = new Date("2026-12-05T00:00:00Z");
        const at = (iso: string) => certificateStatus({ serial: "AB12", notAfter: new Date(iso) }, now, 14);
        expect(at("2027-03-01T00:00:00Z")).to.deep.equal({
            line: "certificate: serial AB12, valid until 2027-03-01T00:00:00.000Z (86 days)  OK",
            status: "OK",
        });
        expect(at("2026-12-10T00:00:00Z")?.status).to.equal("WARN");
        expect(at("2026-12-01T00:00:00Z")?.status).to.equal("ALERT");
        expect(certificateStatus(undefined, now, 14)).to.equal(undefined);
    });

    it("puts the served certificate in the release report, judged with the stack's proxy.tls.minValidDays", () => {
        const now = new Date("2026-12-05T00:00:00Z");
        const served = { serial: "AB12", notAfter: "2026-12-25T00:00:00.000Z" };
        expect(reportCertificate(served, 14, now)).to.deep.equal({
            serial: "AB12",
            notAfter: "2026-12-25T00:00:00.000Z",
            line: "certificate: serial AB12, valid until 2026-12-25T00:00:00.000Z (20 days)  OK",
            status: "OK",
        });
        expect(reportCertificate(served, 30, now)?.status).to.equal("WARN");
        expect(reportCertificate({ ...served, notAfter: "2026-12-04T00:00:00.000Z" }, 14, now)?.status).to.equal("ALERT");
    });

    it("writes the TLS listener and the redirect into the template, and nothing when off", () => {
        expect(tlsLines(undefined)).to.deep.equal({ bind: "", rules: "" });
        const on = withSettings(TEMPLATE, {
            conversations: { tableSize: 2000, idleTimeoutSeconds: 20, quietSeconds: 30, pinKeyless: false },
            tls: { hostPort: 8443, redirectHttp: true },
        });
        expect(on).to.match(/^ {2}bind :8443 ssl crt \/var\/lib\/zdt\/tls\/ alpn http\/1\.1$/m);
        expect(on).to.include(
            "  http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[capture.req.uri] code 308 if !{ ssl_fc } !{ src 127.0.0.1 } { req.hdr(host) -m found } !{ path_beg /.well-known/acme-challenge/ }",
        );
        // The redirect comes before the conversation rules: a redirected message gets no table entry.
        expect(on.indexOf("http-request redirect")).to.be.lessThan(on.indexOf("acl conversation_path"));
        expect(tlsLines({ hostPort: 443, redirectHttp: true }).rules).to.include("https://%[req.hdr(host),field(1,:)]%[capture.req.uri]");
        expect(tlsLines({ hostPort: 443, redirectHttp: false }).rules).not.to.include("redirect");
        const off = withSettings(TEMPLATE, {
            conversations: { tableSize: 2000, idleTimeoutSeconds: 20, quietSeconds: 30, pinKeyless: false },
        });
        expect(off).not.to.match(/^ {2}bind .*ssl|http-request redirect|set-header X-Forwarded-Proto|\$\{TLS_/m);
    });

    it("reads the certificate HAProxy serves from its runtime API's answer", () => {
        const out = [
            "Filename: /var/lib/zdt/tls/edge.pem",
            "Status: Used",
            "Serial: 50D5DED48918B29B69E2A733D2526256FAE02F86",
            "notBefore: Dec  5 03:21:06 2026 GMT",
            "notAfter: Dec 15 03:21:06 2026 GMT",
            "Subject Alternative Name: DNS:agents.test",
            "Subject: /CN=agents.test",
            "",
        ].join("\n");
        expect(parseSslCert(out)).to.deep.equal({
            file: "/var/lib/zdt/tls/edge.pem",
            serial: "50D5DED48918B29B69E2A733D2526256FAE02F86",
            notAfter: new Date("2026-12-15T03:21:06Z"),
            subject: "/CN=agents.test",
            altNames: "DNS:agents.test",
        });
        expect(parseSslCert("Can't display the certificate because it doesn't exist\n")).to.equal(undefined);
        expect(normalSerial("00:ab:0c")).to.equal("AB0C");
        expect(normalSerial(certificateFacts(good.certificate).serial)).to.match(/^[0-9A-F]+$/);
    });
});
