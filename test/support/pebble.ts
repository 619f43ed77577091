// Let's Encrypt's test ACME server, pebble (built by scripts/setup from the Go module
// github.com/letsencrypt/pebble/v2), in a container of the local base image. It validates
// HTTP-01 challenges for real: it resolves the host name through Docker's DNS of the app's
// network and fetches the challenge from the proxy's listener there, as a CA fetches it from
// port 80 of a domain pointed at the host. Its own HTTPS certificate is for the name
// "pebble" (its alias on that network), signed by the module's test CA; the certificates it
// issues chain to a root it generates at start, which the test clients trust, nothing else.
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { mustRun, run } from "./pulumi";

/** HAProxy's plain listener inside the port holder's namespace (core/proxyNames.ts PROXY_INTERNAL_PORT): where HTTP-01 arrives. */
const HTTP_PORT = 8080;

export class Pebble {
    private constructor(
        readonly container: string,
        private readonly dir: string,
        /** The CA that signs pebble's own HTTPS certificate (the keeper's proxy.tls.acme.caCertificate). */
        readonly serverCa: string,
        private readonly managementPort: number,
    ) {}

    /** The directory URL the keeper reaches it by (on the app's network). */
    readonly directory = "https://pebble:14000/dir";

    /** Starts pebble (not yet on any app network); fails naming scripts/setup when it is not built. */
    static async start(name: string): Promise<Pebble> {
        const found = await run("sh", ["-c", "command -v pebble"]);
        if (found.code !== 0)
            throw new Error("pebble is not on PATH: run scripts/setup (step 'Let's Encrypt's pebble') and load its env.sh");
        const home = path.dirname(fs.realpathSync(found.stdout.trim()));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-pebble-"));
        fs.chmodSync(dir, 0o755);
        fs.copyFileSync(path.join(home, "pebble"), path.join(dir, "pebble"));
        fs.chmodSync(path.join(dir, "pebble"), 0o755);
        for (const f of ["cert.pem", "key.pem", "pebble.minica.pem"]) fs.copyFileSync(path.join(home, "certs", f), path.join(dir, f));
        fs.writeFileSync(
            path.join(dir, "pebble.json"),
            JSON.stringify({
                pebble: {
                    listenAddress: "0.0.0.0:14000",
                    managementListenAddress: "0.0.0.0:15000",
                    certificate: "/pebble/cert.pem",
                    privateKey: "/pebble/key.pem",
                    httpPort: HTTP_PORT,
                    tlsPort: 5001,
                    ocspResponderURL: "",
                    externalAccountBindingRequired: false,
                    keyAlgorithm: "ecdsa",
                },
            }),
        );
        await mustRun("docker", [
            "run",
            "-d",
            "--name",
            name,
            "--label",
            "zdt.test=pebble",
            "-v",
            `${dir}:/pebble:ro`,
            "-p",
            "127.0.0.1::15000",
            // No sleep before a validation; every nonce accepted (lego retries a refused one, but the test stays short).
            "-e",
            "PEBBLE_VA_NOSLEEP=1",
            "-e",
            "PEBBLE_WFE_NONCEREJECT=0",
            "debian:bookworm-slim",
            "/pebble/pebble",
            "-config",
            "/pebble/pebble.json",
        ]);
        const port = Number((await mustRun("docker", ["port", name, "15000/tcp"])).stdout.trim().split("\n")[0].split(":").pop());
        return new Pebble(name, dir, fs.readFileSync(path.join(dir, "pebble.minica.pem"), "utf8"), port);
    }

    /**
     * Joins `network` as "pebble" once it exists (the stack creates it during its first `pulumi up`):
     * from then on the keeper reaches pebble and pebble reaches the proxy by its name there.
     */
    async joinNetwork(network: string, timeoutMs = 120_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while ((await run("docker", ["network", "inspect", network])).code !== 0) {
            if (Date.now() > deadline) throw new Error(`the network ${network} did not appear within ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 200));
        }
        await mustRun("docker", ["network", "connect", "--alias", "pebble", network, this.container]);
    }

    /** The root its issued certificates chain to (from its management interface): what the test clients trust. */
    async root(): Promise<string> {
        const deadline = Date.now() + 30_000;
        for (;;) {
            try {
                return await new Promise<string>((resolve, reject) => {
                    const req = https.get(
                        {
                            host: "127.0.0.1",
                            port: this.managementPort,
                            path: "/roots/0",
                            servername: "localhost",
                            ca: this.serverCa,
                            timeout: 5000,
                        },
                        (res) => {
                            let body = "";
                            res.on("data", (c) => (body += c));
                            res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`roots/0: ${res.statusCode}`))));
                        },
                    );
                    req.on("error", reject);
                    req.on("timeout", () => req.destroy(new Error("roots/0: no answer")));
                });
            } catch (err) {
                if (Date.now() > deadline) throw err;
                await new Promise((r) => setTimeout(r, 200));
            }
        }
    }

    /** Stops it (the CA cannot be reached); its issued certificates stay valid. */
    async stop(): Promise<void> {
        await mustRun("docker", ["stop", "-t", "2", this.container]);
    }

    async remove(): Promise<void> {
        await run("docker", ["rm", "-f", this.container]);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
