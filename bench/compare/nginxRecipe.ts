// The blueprint's blue/green script as written (deploy-blue-green.sh): start green on the
// other port, poll its /health every 2 s, `sed` the port in nginx's site file,
// `nginx -s reload`, wait out the stability window, stop blue. nginx runs in a container
// on the host network, as on the host; the agents publish their ports on loopback.
import * as path from "path";
import { removeAgent, startAgent, waitHealthy } from "./agents";
import type { ReleaseMethod, ReleaseTimings } from "./method";
import { mustRun, run } from "../../test/support/pulumi";

const SITE = "/etc/nginx/sites-enabled/autoclaw";
const NGINX_IMAGE = "zdt-compare-nginx";

/** The site file: a typical reverse proxy for an agent with streaming answers. */
export function siteConfig(listenPort: number, agentPort: number): string {
    return [
        "server {",
        `    listen 127.0.0.1:${listenPort};`,
        "    location / {",
        `        proxy_pass http://127.0.0.1:${agentPort};`,
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_buffering off;",
        "        proxy_read_timeout 120s;",
        "    }",
        "}",
        "",
    ].join("\n");
}

export class NginxRecipe implements ReleaseMethod {
    readonly name = "blueprint recipe (nginx, sed + reload)";
    private readonly proxy = "zdt-compare-nginx";
    private live = { name: "zdt-compare-blue", port: 0 };
    private idle = { name: "zdt-compare-green", port: 0 };

    constructor(
        private readonly listenPort: number,
        ports: [number, number],
        private readonly windowMs: number,
    ) {
        this.live.port = ports[0];
        this.idle.port = ports[1];
    }

    get url(): string {
        return `http://127.0.0.1:${this.listenPort}`;
    }

    private liveUrl(): string {
        return `http://127.0.0.1:${this.live.port}`;
    }

    async setup(version: string): Promise<void> {
        await mustRun("docker", ["build", "-q", "-t", NGINX_IMAGE, path.join(__dirname, "nginx")], { timeoutMs: 600_000 });
        await startAgent(this.live.name, version, this.live.port);
        await waitHealthy(this.liveUrl(), 250);
        await run("docker", ["rm", "-f", this.proxy]);
        await mustRun("docker", ["run", "-d", "--name", this.proxy, "--label", "zdt.bench=compare", "--network", "host", NGINX_IMAGE]);
        await mustRun("docker", ["exec", "-i", this.proxy, "sh", "-c", `cat > ${SITE} && nginx -s reload`], {
            input: siteConfig(this.listenPort, this.live.port),
        });
        await waitHealthy(this.url, 250);
    }

    async release(version: string): Promise<ReleaseTimings> {
        const t0 = Date.now();
        // docker compose -f docker-compose.green.yml up -d; until curl -sf .../health; do sleep 2; done
        await startAgent(this.idle.name, version, this.idle.port);
        await waitHealthy(`http://127.0.0.1:${this.idle.port}`, 2000);
        // sed -i "s/$CURRENT_PORT/$NEW_PORT/g" /etc/nginx/sites-enabled/autoclaw; nginx -s reload
        const s0 = Date.now();
        await mustRun("docker", ["exec", this.proxy, "sed", "-i", `s/${this.live.port}/${this.idle.port}/g`, SITE]);
        await mustRun("docker", ["exec", this.proxy, "nginx", "-s", "reload"]);
        const switchMs = Date.now() - s0;
        // sleep 900 (the stability window, shortened), then docker compose -f docker-compose.blue.yml down
        await new Promise((r) => setTimeout(r, this.windowMs));
        await mustRun("docker", ["stop", this.live.name]);
        await removeAgent(this.live.name);
        [this.live, this.idle] = [this.idle, this.live];
        return { wallMs: Date.now() - t0, switchMs };
    }

    async teardown(): Promise<void> {
        await run("docker", ["rm", "-f", this.proxy, this.live.name, this.idle.name]);
    }
}
