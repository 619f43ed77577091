// One HTTP GET on a connection of its own, closed after the answer. A probe that left an
// idle keep-alive connection to the proxy would hold a replaced proxy alive: its old
// worker keeps idle client connections until their next request or the keep-alive
// timeout (option idle-close-on-response, so that no client sees a reset), which is up
// to 60 s of a test's `pulumi up` spent waiting for a connection nobody uses.
import * as http from "http";

export function getOnce(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent: false, headers: { connection: "close" }, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

/** One question to the reference agent through the proxy at `url` (POST /v1/chat): its answer. */
export async function askAgent(url: string, message: string): Promise<string> {
    const res = await fetch(`${url}/v1/chat`, {
        method: "POST",
        body: JSON.stringify({ message }),
        headers: { "content-type": "application/json" },
    });
    return ((await res.json()) as { answer: string }).answer;
}
