// The demo's own stack: its arguments and its stack file, Pulumi.<stack>.yaml, written
// from Pulumi.dev.yaml on every run (git ignores it), so the demo never modifies a
// tracked file and the salt `pulumi stack init` adds stays on this machine.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";

const ROOT = path.join(__dirname, "..");

export interface DemoOptions {
    stack: string;
    /** Overrides of the dev stack's `app` and `proxy.port` (CI runs the demo under names of its own). */
    app?: string;
    port?: number;
}

export function parseDemoArgs(argv: string[]): DemoOptions {
    const opts: DemoOptions = { stack: "demo" };
    for (let i = 0; i < argv.length; i++) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (flag === "--stack" && /^[a-z][a-z0-9-]*$/.test(value ?? "")) opts.stack = value;
        else if (flag === "--app" && /^[a-z][a-z0-9-]{0,30}$/.test(value ?? "")) opts.app = value;
        else if (flag === "--port" && /^\d+$/.test(value ?? "") && Number(value) > 0 && Number(value) < 65536) opts.port = Number(value);
        else
            throw new Error(
                `unexpected argument "${flag}${value === undefined ? "" : " " + value}": allowed are --stack <lowercase name>, --app <lowercase name, up to 31 characters>, --port <1-65535>`,
            );
        i++;
    }
    return opts;
}

/**
 * The demo's stack file: the dev stack's configuration with the demo's overrides,
 * keeping the salt that `pulumi stack init` wrote into an earlier copy.
 */
export function demoStackFile(devYaml: string, previous: string | undefined, opts: DemoOptions): string {
    const doc = parseDocument(devYaml);
    if (opts.app) doc.setIn(["config", "zdt:app"], opts.app);
    if (opts.port) doc.setIn(["config", "zdt:proxy", "port"], opts.port);
    const salt = previous === undefined ? undefined : parseDocument(previous).get("encryptionsalt");
    if (salt) doc.set("encryptionsalt", salt);
    doc.commentBefore = ` Written by scripts/demo from Pulumi.dev.yaml on every run (git ignores it): edit Pulumi.dev.yaml instead.`;
    return doc.toString();
}

export function writeStackFile(opts: DemoOptions): void {
    const file = path.join(ROOT, `Pulumi.${opts.stack}.yaml`);
    const tracked = execFileSync("git", ["ls-files", "--", path.basename(file)], { cwd: ROOT, encoding: "utf8" }).trim();
    if (tracked)
        throw new Error(
            `${path.basename(file)} is tracked by git; the demo writes its stack file, so give it a stack of its own (--stack demo)`,
        );
    const previous = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    fs.writeFileSync(file, demoStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"), previous, opts));
}
