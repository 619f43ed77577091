// npm run import-compose -- <docker-compose.yml> --stack <stack> [--service <name>] [--dry-run]
// Reads the agent's service of a compose file into the stack's config (pulumi config set
// --path, one setting at a time, each printed). Refuses, writing nothing, when the service
// has anything a release cannot carry over, or when the settings would not make a valid
// stack config; --dry-run prints what it would set.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, parseConfig } from "../config/schema";
import { importService, rawSettings } from "./composeImport";
import { ROOT } from "./pulumiCli";
import { execFileSync } from "child_process";

const USAGE = "usage: npm run import-compose -- <docker-compose.yml> --stack <stack> [--service <name>] [--dry-run]";

function main(argv: string[]): number {
    const flag = (name: string) => {
        const i = argv.indexOf(name);
        return i < 0 ? undefined : argv.splice(i, 2)[1];
    };
    const dryRun = argv.includes("--dry-run") && argv.splice(argv.indexOf("--dry-run"), 1).length > 0;
    const stack = flag("--stack");
    const service = flag("--service");
    const [file] = argv;
    if (!file || (!stack && !dryRun)) {
        console.error(USAGE);
        return 2;
    }
    // npm runs scripts from the project folder; a relative path is the user's, from where they ran npm.
    const imported = importService(parse(fs.readFileSync(path.resolve(process.env.INIT_CWD ?? process.cwd(), file), "utf8")), service);
    for (const note of imported.notes) console.log(`note: ${note}`);
    if (imported.refused.length > 0) {
        console.error(
            `${file}: service "${imported.service}" has what a release cannot carry over (nothing was written):\n` +
                imported.refused.map((r) => `  - ${r}`).join("\n"),
        );
        return 1;
    }
    try {
        parseConfig(rawSettings(imported.settings));
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(`${file}: service "${imported.service}" would not make a valid stack config (nothing was written):\n${err.message}`);
        return 1;
    }
    for (const [key, value] of imported.settings) {
        console.log(`${dryRun ? "would set" : "set"} ${key} = ${value}`);
        // The stack's flags before the key, the value after "--" (a value may start with a dash).
        if (!dryRun)
            execFileSync("pulumi", ["config", "set", "--path", "--stack", stack!, "--non-interactive", key, "--", value], {
                cwd: ROOT,
                stdio: ["ignore", "ignore", "inherit"],
            });
    }
    console.log(
        `${imported.settings.length} settings from service "${imported.service}"${dryRun ? " (dry run: nothing written)" : ` in stack ${stack}`}`,
    );
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
