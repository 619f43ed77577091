// The policy pack run for real: `pulumi preview --policy-pack policies`, as CI does.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { TestCa } from "../support/certificates";
import { agentStack, TestStack, uniqueName } from "../support/pulumi";

const ROOT = path.join(__dirname, "..", "..");
const POLICIES = path.join(ROOT, "policies");

describe("policy pack in a real preview", function () {
    this.timeout(300_000);

    for (const env of ["dev", "prod"]) {
        it(`passes the ${env} stack's configuration`, async () => {
            const stack = new TestStack(ROOT, uniqueName("ztpol"));
            // The stack's own config file, under a throwaway stack name (a preview creates nothing).
            fs.copyFileSync(path.join(ROOT, `Pulumi.${env}.yaml`), path.join(ROOT, `Pulumi.${stack.name}.yaml`));
            try {
                await stack.init({});
                const r = await stack.preview([
                    "--policy-pack",
                    POLICIES,
                    "--policy-pack-config",
                    path.join(POLICIES, "config", `${env}.json`),
                ]);
                expect(r.code, r.stdout + r.stderr).to.equal(0);
                expect(r.stdout).to.match(/zdt-release-guards@v0\.1\.0/);
                expect(r.stdout).to.not.match(/\[(mandatory|advisory)\]/);
            } finally {
                await stack.remove();
            }
        });
    }

    it("lets a public edge serve HTTPS (80 only redirecting, 443), and refuses the same ports without TLS", async () => {
        const app = uniqueName("ztedge");
        const stack = new TestStack(ROOT, app);
        const ca = TestCa.create();
        const cert = ca.issue(["agents.example.com"]);
        // dev's policy config: a locally built image has no registry digest, which prod's requires.
        const preview = () => stack.preview(["--policy-pack", POLICIES, "--policy-pack-config", path.join(POLICIES, "config", "dev.json")]);
        try {
            await stack.init(
                agentStack(app, 80, {
                    "proxy.listenAddress": "0.0.0.0",
                    "proxy.tls.mode": "certificate",
                    "proxy.tls.hosts[0]": "agents.example.com",
                    "proxy.tls.port": "443",
                }),
                { "proxy.tls.certificate": cert.certificate, "proxy.tls.key": cert.key },
            );
            const https = await preview();
            expect(https.code, https.stdout + https.stderr).to.equal(0);
            expect(https.stdout).to.match(/zdt-release-guards@v0\.1\.0/);
            await stack.setConfig("proxy.tls.redirectHttp", "false");
            const served = await preview();
            expect(served.code, served.stdout + served.stderr).to.not.equal(0);
            expect(served.stdout + served.stderr).to.match(
                /no-world-open-ports[\s\S]*publishes port 80 on 0\.0\.0\.0, open to the world without TLS/,
            );
            expect(served.stdout + served.stderr).to.not.match(/publishes port 443/);
        } finally {
            await stack.remove();
            ca.remove();
        }
    });

    it("fails an unsafe stack with one readable message per violation", async () => {
        const stack = new TestStack(path.join(ROOT, "test", "fixtures", "violations"), uniqueName("ztviol"));
        try {
            await stack.init({});
            const r = await stack.preview(["--policy-pack", POLICIES, "--policy-pack-config", path.join(POLICIES, "config", "prod.json")]);
            const out = r.stdout + r.stderr;
            expect(r.code).to.not.equal(0);
            const caught = [...out.matchAll(/\[mandatory\]\s+([a-z-]+)\s+\(/g)].map((m) => m[1]);
            expect([...new Set(caught)].sort()).to.deep.equal([
                "admin-token-from-random",
                "agent-health-gated",
                "images-pinned",
                "knowledge-read-only",
                "limits-and-restart",
                "no-privileged-no-docker-socket",
                "no-world-open-ports",
                "only-proxy-published",
                "release-verification-window",
            ]);
            expect(out).to.include('uses image "zdt-agent:latest", which is not pinned');
            expect(out).to.include("gets ADMIN_TOKEN as an environment variable");
            expect(out).to.include("verifies for 1s; this stack requires at least 900s");
            expect(out).to.not.match(/\n\s+at .*\.(ts|js):\d+/); // a message, not a stack trace
        } finally {
            await stack.remove();
        }
    });
});
