// A release's identity: the agent version plus a digest of everything that goes
// into its container. Each release gets its own Pulumi resource and its own
// container name, so changing anything about the agent creates a new colour
// beside the live one instead of replacing the serving container in place.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Digest of a folder's files (relative paths and contents), independent of listing order and machine. */
export function folderDigest(dir: string, ignore: (rel: string) => boolean = () => false): string {
    const hash = crypto.createHash("sha256");
    const files: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, e.name);
            const rel = path.relative(dir, full).split(path.sep).join("/");
            if (ignore(rel)) continue;
            if (e.isDirectory()) walk(full);
            else if (e.isFile()) files.push(rel);
        }
    };
    walk(dir);
    for (const rel of files.sort()) {
        // Normalise line endings so a checkout on another OS gives the same digest.
        const content = fs.readFileSync(path.join(dir, rel)).toString("binary").replace(/\r\n/g, "\n");
        hash.update(`${rel}\0${content.length}\0`).update(content, "binary");
    }
    return hash.digest("hex");
}

/** Stable JSON: object keys sorted, so the digest does not depend on declaration order. */
export function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (value && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

export function releaseId(version: string, spec: unknown): string {
    const digest = crypto.createHash("sha256").update(stableJson(spec)).digest("hex").slice(0, 8);
    return `${version.replace(/[^0-9A-Za-z]+/g, "-")}-${digest}`;
}
