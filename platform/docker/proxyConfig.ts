// Delivers HAProxy's config template into the proxy's state volume and, when the proxy
// runs, reloads it seamlessly (`start-proxy reload`): a config change reaches the proxy
// with no container replaced and no client connection reset. Run by a command resource
// the proxy container depends on, so a new proxy starts with the current template.
import * as crypto from "crypto";
import { expectStatusOf } from "../../core/health";
import * as fs from "fs";
import { docker } from "../../docker/cli";
import { SLOT_DIR } from "../../haproxy/admin";
import { proxyConfigContract } from "../../contracts/proxyConfigContract";
import { withSettings } from "../../config/proxySettings";
import { writeProxyState } from "./proxyState";

const TEMPLATE = `${SLOT_DIR}/haproxy.cfg.tmpl`;
const WRITE = `cat > ${TEMPLATE}.new && mv ${TEMPLATE}.new ${TEMPLATE}`;

async function main(): Promise<void> {
    const input = proxyConfigContract.decode(process.env);
    const template = withSettings(fs.readFileSync(input.templatePath, "utf8").replace(/\r\n/g, "\n"), {
        conversations: input.conversations,
        conversationKey: { paths: input.keyPaths, from: input.keyFrom, names: input.keyNames },
        agentHealth: { path: input.healthPath, expectStatus: expectStatusOf(input.healthStatus) },
        tls:
            input.tlsHostPort !== undefined
                ? { hostPort: input.tlsHostPort, redirectHttp: input.tlsRedirectHttp, acme: input.tlsAcme }
                : undefined,
        routes: input.routes,
    });
    const digest = crypto.createHash("sha256").update(template).digest("hex");
    const running = await writeProxyState(input, WRITE, template);
    if (running) {
        const reloaded = (await docker(["exec", input.proxyContainer, "start-proxy", "reload"], undefined, 30_000)).trim();
        process.stderr.write(`proxy config ${digest.slice(0, 12)}: ${reloaded}\n`);
    } else {
        process.stderr.write(`proxy config ${digest.slice(0, 12)}: written for the proxy's start\n`);
    }
    process.stdout.write(JSON.stringify({ templateDigest: digest, reloaded: running }) + "\n");
}

if (require.main === module) {
    main().catch((err: Error) => {
        process.stderr.write(`proxy config: ${err.message}\n`);
        process.exit(1);
    });
}
