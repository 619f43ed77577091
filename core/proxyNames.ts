// The names of an app's Docker objects and the ports inside its containers, in one place
// (the components declare them; the guard, the hand-over and the tools find them).
//   port holder  publishes the port and owns the network namespace; it never changes
//                unless the port or address does
//   proxy        HAProxy, in the holder's network namespace, one container per proxy image:
//                a new image starts beside the old one and takes its listening sockets over
//   legacy       the single proxy container of versions before the port holder, which
//                published the port itself

/** The proxy's global service of an app on Docker Swarm (one task per node). */
export function swarmProxyService(app: string): string {
    return `${app}-proxy`;
}

/** The port the agents listen on inside their containers (HAProxy's server lines carry it). */
export const AGENT_PORT = 8080;

/** The port HAProxy listens on inside its container (both platforms). */
export const PROXY_INTERNAL_PORT = 8080;

/**
 * Swarm: the path on every node's proxy port a load balancer in front checks: 200 while the
 * node's proxy serves the live release, 503 while it is stopping (its drain) or has no live
 * task yet (proxy/haproxy-swarm.cfg.tmpl, monitor-uri).
 */
export const PROXY_READY_PATH = "/zdt/ready";

/** The port HAProxy serves HTTPS on inside its container (proxy.tls), published as proxy.tls.port. */
export const PROXY_TLS_INTERNAL_PORT = 8443;

/**
 * The proxy's certificates: a folder in its state volume that HAProxy loads whole (one PEM
 * file a host's certificate with its key, mode 600), so a certificate is replaced in place
 * through the runtime API under the same file name.
 */
export const TLS_DIR = "/var/lib/zdt/tls";
export const CERTIFICATE_FILE = `${TLS_DIR}/edge.pem`;

/**
 * The certificate keeper of proxy.tls.mode acme (proxy/acme-keeper.sh, the proxy's image):
 * a container in the port holder's network namespace with the proxy's state volume. It
 * answers ACME's HTTP-01 challenges on ACME_CHALLENGE_ADDRESS, which the proxy's backend
 * ACME_BACKEND forwards /.well-known/acme-challenge/ to; it keeps lego's files, the
 * account key and its status file in ACME_DIR.
 */
export const ACME_BACKEND = "zdt_acme";
export const ACME_CHALLENGE_ADDRESS = "127.0.0.1:8402";
export const ACME_DIR = "/var/lib/zdt/acme";
export const ACME_STATUS_FILE = `${ACME_DIR}/status`;
export const ACME_ACCOUNT_KEY_FILE = `${ACME_DIR}/account.key`;
export const ACME_KEEPER_ROLE = "acme-keeper";

export function acmeKeeperName(app: string): string {
    return `${app}-acme-keeper`;
}

/** The app's private network (an overlay network on Swarm): the agents and the proxy meet there. */
export function appNetworkName(app: string): string {
    return `${app}-net`;
}

/** The app of a stack that names none (the stack config's `app` default). */
export const DEFAULT_APP = "agents";

/** Labels every proxy container of `app` carries (the hand-over and the tools find them by these). */
export const PROXY_ROLE = "proxy";
export const PORT_HOLDER_ROLE = "proxy-port";

export function portHolderName(app: string): string {
    return `${app}-proxy-port`;
}

/** One proxy container per proxy image: `tag` is the image's content tag. */
export function proxyContainerName(app: string, tag: string): string {
    return `${app}-proxy-${tag}`;
}

export function legacyProxyName(app: string): string {
    return `${app}-proxy`;
}

/**
 * The Docker volume that holds the knowledge base the app's agents serve (one host, hot
 * reload): written only by the stack (the files `pulumi up` accepted), never the working
 * folder, so a reload that regresses can put the previous files back.
 */
export function knowledgeVolumeName(app: string): string {
    return `${app}-knowledge`;
}
