// Debian's chromium, headless, for the report page test: the DOM after the page's own
// scripts ran (so a page whose script breaks shows no plot). Flags as this machine needs
// them: no sandbox as root, no background network (the network here is closed).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mustRun } from "./pulumi";

export async function renderedDom(file: string): Promise<string> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-chromium-"));
    try {
        const r = await mustRun(
            "chromium",
            [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                `--user-data-dir=${profile}`,
                "--dump-dom",
                `file://${path.resolve(file)}`,
            ],
            { timeoutMs: 60_000 },
        );
        return r.stdout;
    } finally {
        fs.rmSync(profile, { recursive: true, force: true });
    }
}
