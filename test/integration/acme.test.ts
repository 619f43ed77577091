// Certificates over ACME with a real engine and Let's Encrypt's own test server, pebble
// (proxy.tls.mode acme): the first certificate is issued through the proxy's HTTP-01 route,
// a forced renewal under HTTPS load puts the new one in place (no reload, nothing lost),
// and with the CA down a renewal fails, the old certificate keeps serving, the status view
// says so, and an update that needs a new certificate fails clearly leaving it in place.
import { ADMIN_SESSION } from "../../haproxy/admin";
import { normalSerial } from "../../haproxy/certificates";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { standardLoad } from "../../load/profile";
import { acmeKeeperName, appNetworkName, portHolderName } from "../../core/proxyNames";
import { Pebble } from "../support/pebble";
import { agentStack, freePort, mustRun, run, TestStack, uniqueName } from "../support/pulumi";
import { stepByStep } from "../support/steps";
import { underLoad } from "../support/underLoad";
import { expectNothingLost } from "../support/nothingLost";

const ROOT = path.join(__dirname, "..", "..");

describe("certificates over ACME (real engine, pebble, proxy.tls acme)", function () {
    this.timeout(600_000);
    const step = stepByStep();
    const app = uniqueName("zacme");
    const stack = new TestStack(ROOT, app);
    // A name that resolves to the proxy inside the app's network (Docker's DNS: <container>.<network>),
    // as a domain resolves to the host for a public CA.
    const HOST = `${portHolderName(app)}.${appNetworkName(app)}`;
    const keeper = acmeKeeperName(app);
    let pebble: Pebble;
    let root = "";
    let tlsPort = 0;
    let url = "";
    let proxy = "";

    const load = () => ({ ...standardLoad(url), tls: { ca: root, hosts: { [HOST]: "127.0.0.1" } } });
    /** The serial of the certificate a new TLS handshake for HOST gets, checked against pebble's root. */
    const servedSerial = () =>
        new Promise<string>((resolve, reject) => {
            const socket = tls.connect({ host: "127.0.0.1", port: tlsPort, servername: HOST, ca: root }, () => {
                const serial = socket.getPeerCertificate().serialNumber;
                socket.end();
                resolve(normalSerial(serial));
            });
            socket.on("error", reject);
        });
    const admin = async (command: string) =>
        (await mustRun("docker", ["exec", "-i", proxy, ...ADMIN_SESSION], { input: `${command}\n` })).stdout;
    const workerPid = async () => /^Pid: (\d+)$/m.exec(await admin("show info"))?.[1];
    const status = () =>
        run("npm", ["run", "--silent", "status", "--", "--stack", app, "--once", "--interval", "1"], { cwd: ROOT, env: stack.env });

    before(async () => {
        pebble = await Pebble.start(`${app}-pebble`);
        tlsPort = await freePort();
        url = `https://${HOST}:${tlsPort}`;
        await stack.init(
            agentStack(app, await freePort(), {
                "proxy.tls.mode": "acme",
                "proxy.tls.hosts[0]": HOST,
                "proxy.tls.port": String(tlsPort),
                "proxy.tls.acme.directory": pebble.directory,
                "proxy.tls.acme.email": "ops@agents.test",
                "proxy.tls.acme.caCertificate": pebble.serverCa,
                "proxy.tls.acme.retrySeconds": "3",
                "proxy.tls.acme.issueTimeoutSeconds": "120",
                "release.verifyWindowSeconds": "3",
                "release.drainTimeoutSeconds": "5",
            }),
        );
    });
    after(async () => {
        // pebble first: a container on the app's network would keep the network from being removed.
        await pebble?.remove();
        await stack.remove();
    });

    step("first deploy: the keeper gets a certificate from the ACME server through the proxy's HTTP-01 route", async () => {
        const joined = pebble.joinNetwork(appNetworkName(app));
        const t0 = Date.now();
        const up = await stack.up();
        await joined;
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        expect(up.stdout + up.stderr).to.match(/acme issuance: serving serial \w+ for /);
        console.log(`      first deploy with issuance: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        root = await pebble.root();
        const out = await stack.outputs();
        proxy = out.proxyContainer;
        expect(out.proxyUrl).to.equal(url);
        // Checked against pebble's root: a certificate of the CA, not the placeholder.
        expect(await servedSerial()).to.equal(out.proxyCertificate.serial);
        const rootFile = path.join(os.tmpdir(), `${app}-root.pem`);
        fs.writeFileSync(rootFile, root);
        const health = await run("curl", ["-fsS", "--cacert", rootFile, "--resolve", `${HOST}:${tlsPort}:127.0.0.1`, `${url}/health`]);
        fs.rmSync(rootFile, { force: true });
        expect(health.code, health.stderr).to.equal(0);
        // The account key: derived from a secret of the stack, a file of mode 600, never in the state in plain text.
        const key = await mustRun("docker", [
            "exec",
            proxy,
            "sh",
            "-c",
            "stat -c %a /var/lib/zdt/acme/account.key; sed -n 2p /var/lib/zdt/acme/account.key",
        ]);
        const [mode, keyLine] = key.stdout.trim().split("\n");
        expect(mode).to.equal("600");
        const exported = await run("pulumi", ["stack", "export", "--stack", app], { cwd: ROOT, env: stack.env });
        expect(exported.stdout.includes(keyLine), "the account key in the state").to.equal(false);
        expect((up.stdout + up.stderr).includes(keyLine), "the account key in pulumi up's output").to.equal(false);
    });

    step("a forced renewal under HTTPS load: the new certificate is served at once, no reload, nothing lost", async () => {
        const before = await servedSerial();
        const pid = await workerPid();
        const { result: renewed, report } = await underLoad(
            load(),
            () => run("docker", ["exec", keeper, "acme-keeper", "renew", "--force"]),
            {
                beforeSeconds: 1,
                afterSeconds: 1,
            },
        );
        expect(renewed.code, renewed.stdout + renewed.stderr).to.equal(0);
        expect(renewed.stdout).to.match(/^result=ok$/m);
        console.log(
            `      forced renewal under HTTPS load: ${report.requests} requests, ${report.failed} failed, ${report.streamsCompleted} streams`,
        );
        expectNothingLost(report);
        const after = await servedSerial();
        expect(after).to.not.equal(before);
        expect(renewed.stdout).to.match(new RegExp(`^serial=0*${after}$`, "mi"));
        expect(await workerPid(), "HAProxy's worker").to.equal(pid);
        const view = await status();
        expect(view.code, view.stdout + view.stderr).to.equal(0);
        expect(view.stdout).to.match(/^certificate keeper: last check \d+ s ago ok .*OK$/m);
    });

    step("the CA down during a renewal: it fails, the old certificate keeps serving, the status view alerts", async () => {
        const served = await servedSerial();
        await pebble.stop();
        const { result: renewed, report } = await underLoad(
            load(),
            () => run("docker", ["exec", keeper, "acme-keeper", "renew", "--force"]),
            {
                beforeSeconds: 1,
                afterSeconds: 1,
            },
        );
        expect(renewed.code).to.not.equal(0);
        expect(renewed.stdout).to.match(/^result=failed$/m);
        expect(renewed.stdout).to.match(/^message=renewal failed .*pebble/m);
        expectNothingLost(report);
        expect(await servedSerial()).to.equal(served);
        const view = await status();
        expect(view.code, view.stdout + view.stderr).to.equal(2);
        expect(view.stdout).to.match(
            /^certificate keeper: last attempt \d+ s ago FAILED, the served certificate stays: renewal failed.*ALERT$/m,
        );
        expect(view.stdout).to.match(new RegExp(`^certificate: serial 0*${served}, valid until .*OK$`, "mi"));
    });

    step("a new host while the CA cannot be reached fails `pulumi up` clearly; the certificate in place stays", async () => {
        const served = await servedSerial();
        await stack.setConfig("proxy.tls.hosts[1]", `www.${HOST}`);
        const { result: up, report } = await underLoad(load(), () => stack.up(), { beforeSeconds: 1, afterSeconds: 1 });
        expect(up.code).to.not.equal(0);
        expect(up.stdout + up.stderr).to.match(
            new RegExp(
                `proxy\\.tls\\.acme: no certificate for www\\.${HOST.replace(/\./g, "\\.")} from ${pebble.directory} after 2 attempts; the proxy keeps serving serial 0*${served}`,
                "i",
            ),
        );
        expectNothingLost(report);
        expect(await servedSerial()).to.equal(served);
        // Back to the one host: nothing to issue, the update converges with the CA still down.
        await mustRun("pulumi", ["config", "rm", "--path", "proxy.tls.hosts[1]", "--stack", app], { cwd: ROOT, env: stack.env });
        const back = await stack.up();
        expect(back.code, back.stdout + back.stderr).to.equal(0);
        expect(await servedSerial()).to.equal(served);
    });
});
