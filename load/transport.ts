// How the load clients reach a URL: plain HTTP, or HTTPS that checks the server's
// certificate against a CA the test trusts (never the system's), with host names mapped to
// addresses as a test's own DNS would (agents.test -> 127.0.0.1), so the URL is the one a
// channel would call and the TLS handshake names that host (SNI).
import * as dns from "dns";
import * as http from "http";
import * as https from "https";
import type { LookupFunction } from "net";

export interface TlsTrust {
    /** The CA certificate (PEM) the server's certificate must chain to. */
    ca: string;
    /** Host names resolved to these addresses instead of by DNS. */
    hosts?: Record<string, string>;
}

/**
 * How long a kept connection may sit idle before the client closes it: well under the
 * proxy's `timeout http-keep-alive` (60 s), as a well-behaved client does (Node's agent
 * does it by itself only from a server's `Keep-Alive: timeout=` hint, which HAProxy does not
 * send). Otherwise the server closes it, and a request the client writes onto it in that
 * moment is reset: the client's race, not the release's (the pipeline's dev load met it once).
 * The agent's timeout applies to a request in progress too: the same 30 s as its own.
 */
export const IDLE_CLOSE_MS = 30_000;

/**
 * An agent for `url`: HTTPS with `tls` trusted when the URL says https. Keep-alive reuses a
 * connection for the next request; without it every request opens a connection of its own
 * (and a TLS handshake) and closes it after the answer.
 */
export function connectionAgent(url: string, maxSockets: number, tls?: TlsTrust, keepAlive = true): http.Agent {
    if (!url.startsWith("https:")) return new http.Agent({ keepAlive, maxSockets, timeout: IDLE_CLOSE_MS });
    if (!tls) throw new Error(`${url}: an https URL needs the CA to trust (tls.ca)`);
    return new https.Agent({ keepAlive, maxSockets, timeout: IDLE_CLOSE_MS, ca: tls.ca, lookup: mappedLookup(tls.hosts ?? {}) });
}

/** http.request or https.request, as the URL says. */
export function requestFor(url: string): typeof http.request {
    return url.startsWith("https:") ? https.request : http.request;
}

function mappedLookup(hosts: Record<string, string>): LookupFunction {
    return (hostname, options, callback) => {
        const address = hosts[hostname];
        if (address === undefined) return dns.lookup(hostname, options, callback);
        const family = address.includes(":") ? 6 : 4;
        if (options.all) (callback as (err: null, addresses: dns.LookupAddress[]) => void)(null, [{ address, family }]);
        else (callback as (err: null, address: string, family: number) => void)(null, address, family);
    };
}
