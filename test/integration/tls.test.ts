// HTTPS in the proxy with a real engine (proxy.tls, mode certificate): the stack serves a
// certificate given as Pulumi secrets, releases under HTTPS load checked against the test
// CA, replaces the certificate in the running proxy under load (no reload, no failed
// request), redirects plain HTTP, and refuses a bad certificate before anything changes.
import { ADMIN_SESSION } from "../../haproxy/admin";
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { standardLoad } from "../../load/profile";
import { release } from "../../ops/release";
import { TestCa, type Issued } from "../support/certificates";
import { normalSerial } from "../../haproxy/certificates";
import { agentStack, freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { underLoad } from "../support/underLoad";
import { expectNothingLost } from "../support/nothingLost";

const ROOT = path.join(__dirname, "..", "..");
const HOST = "agents.test";

describe("HTTPS in the proxy (real engine, proxy.tls certificate)", function () {
    this.timeout(600_000);
    const step = stepByStep();
    const app = uniqueName("zttls");
    const stack = new TestStack(ROOT, app);
    const ca = TestCa.create();
    const first = ca.issue([HOST]);
    let plainPort = 0;
    let tlsPort = 0;
    let url = "";
    let proxy = "";

    const load = () => ({ ...standardLoad(url), tls: { ca: ca.certificate, hosts: { [HOST]: "127.0.0.1" } } });
    const setCertificate = async (c: Issued) => {
        await stack.setConfig("proxy.tls.certificate", c.certificate, true);
        await stack.setConfig("proxy.tls.key", c.key, true);
    };
    /** The serial of the certificate a new TLS handshake for HOST gets, checked against the test CA. */
    const servedSerial = () =>
        new Promise<string>((resolve, reject) => {
            const socket = tls.connect({ host: "127.0.0.1", port: tlsPort, servername: HOST, ca: ca.certificate }, () => {
                const serial = socket.getPeerCertificate().serialNumber;
                socket.end();
                resolve(normalSerial(serial));
            });
            socket.on("error", reject);
        });
    // Serials compared as the program writes them (no leading zeros: Node keeps a leading 0 nibble one time in 16).
    const serialOf = (c: Issued) => normalSerial(new crypto.X509Certificate(c.certificate).serialNumber);
    const admin = async (command: string) =>
        (await mustRun("docker", ["exec", "-i", proxy, ...ADMIN_SESSION], { input: `${command}\n` })).stdout;
    const workerPid = async () => /^Pid: (\d+)$/m.exec(await admin("show info"))?.[1];

    before(async () => {
        plainPort = await freePort();
        tlsPort = await freePort();
        url = `https://${HOST}:${tlsPort}`;
        await stack.init(
            agentStack(app, plainPort, {
                "proxy.tls.mode": "certificate",
                "proxy.tls.hosts[0]": HOST,
                "proxy.tls.port": String(tlsPort),
                "release.verifyWindowSeconds": "3",
                "release.drainTimeoutSeconds": "5",
            }),
            { "proxy.tls.certificate": first.certificate, "proxy.tls.key": first.key },
        );
    });
    after(async () => {
        await stack.remove();
        ca.remove();
    });

    step("serves the given certificate over HTTPS, its key a secret everywhere and a file of mode 600 in the proxy", async () => {
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        proxy = out.proxyContainer;
        expect(out.proxyUrl).to.equal(url);
        expect(out.proxyCertificate.serial).to.equal(serialOf(first));
        expect(await servedSerial()).to.equal(serialOf(first));
        const res = await mustRun("curl", [
            "-fsS",
            "--cacert",
            path.join(ca.dir, "ca.pem"),
            "--resolve",
            `${HOST}:${tlsPort}:127.0.0.1`,
            `${url}/health`,
        ]);
        expect(res.stdout).to.match(/ok|healthy|status/i);
        expect((await mustRun("docker", ["exec", proxy, "stat", "-c", "%a", "/var/lib/zdt/tls/edge.pem"])).stdout.trim()).to.equal("600");
        // The key's own lines are nowhere in plain text: not in pulumi's output, the stack's config file or its state.
        const keyLine = first.key.split("\n")[5];
        const exported = await run("pulumi", ["stack", "export", "--stack", app], { cwd: ROOT, env: stack.env });
        for (const [where, text] of [
            ["pulumi up's output", up.stdout + up.stderr],
            [`Pulumi.${app}.yaml`, fs.readFileSync(path.join(ROOT, `Pulumi.${app}.yaml`), "utf8")],
            ["pulumi stack export", exported.stdout],
        ])
            expect(text.includes(keyLine), `the key in ${where}`).to.equal(false);
    });

    step("plain HTTP from outside is redirected to HTTPS (308, method kept), ACME challenges are not", async () => {
        const r = await mustRun("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-X",
            "POST",
            "-H",
            `Host: ${HOST}`,
            `http://127.0.0.1:${plainPort}/v1/chat?x=1`,
        ]);
        expect(r.stdout).to.equal(`308 https://${HOST}:${tlsPort}/v1/chat?x=1`);
        const acme = await mustRun("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            `Host: ${HOST}`,
            `http://127.0.0.1:${plainPort}/.well-known/acme-challenge/abc`,
        ]);
        expect(acme.stdout).to.not.equal("308");
    });

    step(
        "a release under HTTPS load (the release helper): nothing lost, every request over a checked TLS connection; its report names the served certificate",
        async () => {
            const { result: rel, report } = await underLoad(load(), () => release(app, "2.0.0", () => undefined), {
                beforeSeconds: 1,
                afterSeconds: 1,
            });
            expect(rel.ok, rel.error).to.equal(true);
            expect(rel.certificate?.serial).to.equal(await servedSerial());
            // The first certificate has 10 days left: under proxy.tls.minValidDays (14), the report warns.
            expect(rel.certificate?.status).to.equal("WARN");
            expect(rel.certificate?.line).to.match(
                /^certificate: serial \S+, expires in \d day\(s\) \(\S+\), under proxy\.tls\.minValidDays 14 {2}WARN$/,
            );
            console.log(
                `      release over HTTPS: ${report.requests} requests, ${report.failed} failed, ${report.streamsCompleted} streams, ${report.conversationsCompleted} conversations`,
            );
            expectNothingLost(report);
            expect(Object.keys(report.releases).length).to.be.greaterThan(1);
            expect((await stack.outputs()).liveVersion).to.equal("2.0.0");
        },
    );

    step("a new certificate is put in place in the running proxy under load: no reload, nothing lost, served at once", async () => {
        const second = ca.issue([HOST], 90); // beyond proxy.tls.minValidDays: the status view says OK
        await setCertificate(second);
        const pid = await workerPid();
        const { result: up, report } = await underLoad(load(), () => stack.up(), { beforeSeconds: 1, afterSeconds: 1 });
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout + up.stderr).to.match(/replaced in the running proxy without a reload/);
        console.log(`      certificate replaced under HTTPS load: ${report.requests} requests, ${report.failed} failed`);
        expectNothingLost(report);
        expect(await servedSerial()).to.equal(serialOf(second));
        expect(await workerPid(), "HAProxy's worker").to.equal(pid);
        expect((await stack.outputs()).proxyCertificate.serial).to.equal(serialOf(second));
        // The status view reads the served certificate from the proxy itself.
        const status = await run("npm", ["run", "--silent", "status", "--", "--stack", app, "--once", "--interval", "1"], {
            cwd: ROOT,
            env: stack.env,
        });
        expect(status.stdout, status.stderr).to.match(
            new RegExp(`^certificate: serial ${serialOf(second)}, valid until \\S+ \\(\\d+ days\\)  OK$`, "m"),
        );
    });

    step("a certificate that is not its key's, expired, or without the host is refused naming the field; nothing changes", async () => {
        const served = await servedSerial();
        const refused = async (c: Issued, message: RegExp) => {
            await setCertificate(c);
            const up = await stack.up();
            expect(up.code).to.not.equal(0);
            expect(up.stdout + up.stderr).to.match(message);
            expect(up.stdout + up.stderr).to.match(/nothing was changed/);
            expect(await servedSerial()).to.equal(served);
        };
        const other = ca.issue([HOST]);
        await refused({ certificate: other.certificate, key: first.key }, /proxy\.tls\.key: not the key of proxy\.tls\.certificate/);
        await refused(ca.issue([HOST], 0), /proxy\.tls\.certificate: expired on /);
        await refused(ca.issue(["other.test"]), /proxy\.tls\.hosts: agents\.test is not covered by proxy\.tls\.certificate/);
    });

    step("HTTPS turned off in a maintenance window: plain HTTP is served again, and the key leaves the proxy's state volume", async () => {
        await stack.setConfig("proxy.tls.mode", "off");
        await stack.setConfig("proxy.allowRestart", "true");
        const up = await stack.up();
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const out = await stack.outputs();
        expect(out.proxyUrl).to.equal(`http://127.0.0.1:${plainPort}`);
        expect(out.proxyCertificate).to.equal(null);
        const plain = await mustRun("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${plainPort}/health`]);
        expect(plain.stdout).to.equal("200");
        const left = await mustRun("docker", ["exec", out.proxyContainer, "sh", "-c", "ls -A /var/lib/zdt/tls 2>/dev/null; true"]);
        expect(left.stdout.trim(), "files left in the proxy's certificate folder").to.equal("");
    });
});
