// The Pulumi CLI as the operator commands call it: one stack, never interactive, from the
// project's folder; config values and stack outputs read without failing the caller.
import { execFileSync } from "child_process";
import * as path from "path";

export const ROOT = path.join(__dirname, "..");

/** The stack outputs the helper reads (index.ts exports them). */
export interface StackOutputs {
    liveVersion?: string;
    liveColor?: string;
    previousVersion?: string | null;
    proxyUrl?: string;
    releaseReport?: unknown;
    /** The certificate the proxy serves (proxy.tls), null without HTTPS. */
    proxyCertificate?: { serial: string; notAfter: string; fingerprint256: string } | null;
}

export function pulumi(args: string[], stack: string): string {
    return execFileSync("pulumi", [...args, "--stack", stack, "--non-interactive"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}

export function configValue(stack: string, key: string): string | undefined {
    try {
        return pulumi(["config", "get", "--path", key], stack).trim() || undefined;
    } catch {
        return undefined;
    }
}

export function stackOutputs(stack: string): StackOutputs {
    try {
        return JSON.parse(pulumi(["stack", "output", "--json"], stack));
    } catch {
        return {};
    }
}
