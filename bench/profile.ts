// `npm run bench:profile -- [--window 5]`: one release, step by step. A throwaway stack of
// the reference agent is deployed and released once (so images and dist/run/ are warm),
// then released again under `pulumi up --json -v=9 --logtostderr`: each engine event and
// each plugin launch is stamped when it arrives, and printed as a timeline with the gap
// since the line before, and the wall time besides the window. Verbose logging costs the
// engine a little; the release report's phases and bench:compare measure without it.
import { spawn } from "child_process";
import * as readline from "readline";
import * as path from "path";
import { agentStack, freePort, TestStack, uniqueName } from "../test/support/pulumi";
import { updateCommand } from "../ops/leftoverPlugins";

const ROOT = path.join(__dirname, "..");

interface Mark {
    at: number;
    what: string;
}

/** What a line of `pulumi up --json` says for the timeline, if anything (steps that change nothing are left out). */
function eventMark(line: string, commandLines: Map<string, number>): string | undefined {
    let e: Record<string, { metadata?: { op: string; urn: string }; message?: string; urn?: string }>;
    try {
        e = JSON.parse(line);
    } catch {
        return undefined;
    }
    const name = (urn: string) => urn.split("::").pop();
    if (e.preludeEvent) return "engine: update begins (prelude)";
    if (e.summaryEvent) return "engine: summary";
    const step = e.resourcePreEvent ?? e.resOutputsEvent;
    if (step?.metadata && step.metadata.op !== "same")
        return `${e.resourcePreEvent ? "step" : "done"}: ${step.metadata.op} ${name(step.metadata.urn)}`;
    const d = e.diagnosticEvent;
    if (d?.urn && d.message && !/^using pulumi-/.test(d.message)) {
        const n = (commandLines.get(d.urn) ?? 0) + 1;
        commandLines.set(d.urn, n);
        const text = d.message.trim().split("\n")[0].slice(0, 90);
        return n === 1 ? `first line of ${name(d.urn)}: ${text}` : `${name(d.urn)}: ${text}`;
    }
    return undefined;
}

/** What a line of the engine's verbose log says for the timeline: plugin launches and the program's run. */
function logMark(line: string): string | undefined {
    let msg: string;
    try {
        msg = (JSON.parse(line) as { msg?: string }).msg ?? "";
    } catch {
        return undefined;
    }
    const plugin = /newPlugin\(\): Launching plugin '([^']+)'/.exec(msg);
    if (plugin) return `engine: launches plugin ${plugin[1]}`;
    if (/langhost\[nodejs\]\.Run\(.*executing/.test(msg)) return "engine: asks the language host to run the program";
    if (/RegisterResource received: t=pulumi:pulumi:Stack/.test(msg)) return "program: registers its stack (SDK loaded)";
    return undefined;
}

async function profiledUp(stack: string): Promise<{ marks: Mark[]; code: number }> {
    const cmd = updateCommand(ROOT, stack, [
        "up",
        "--yes",
        "--skip-preview",
        "--json",
        "--stack",
        stack,
        "--non-interactive",
        "-v=9",
        "--logtostderr",
        "--logflow",
    ]);
    const t0 = Date.now();
    const marks: Mark[] = [{ at: 0, what: "pulumi up starts" }];
    const child = spawn(cmd.file, cmd.args, { cwd: ROOT, env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
    const commandLines = new Map<string, number>();
    const follow = (stream: NodeJS.ReadableStream, mark: (line: string) => string | undefined) =>
        new Promise<void>((resolve) =>
            readline
                .createInterface({ input: stream })
                .on("line", (l) => {
                    const what = mark(l);
                    if (what) marks.push({ at: Date.now() - t0, what });
                })
                .on("close", resolve),
        );
    await Promise.all([follow(child.stdout, (l) => eventMark(l, commandLines)), follow(child.stderr, logMark)]);
    const code: number = await new Promise((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.on("close", (c) => resolve(c ?? 1)),
    );
    marks.push({ at: Date.now() - t0, what: `pulumi up exits ${code}` });
    return { marks: marks.sort((a, b) => a.at - b.at), code };
}

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    const wi = argv.indexOf("--window");
    const window = wi >= 0 ? Number(argv[wi + 1]) : 5;
    if (!Number.isInteger(window) || window < 1 || window > 600)
        throw new Error("--window must be a whole number of seconds from 1 to 600");
    const stack = new TestStack(ROOT, uniqueName("zprf"));
    const log = (msg: string) => process.stderr.write(`[profile] ${msg}\n`);
    try {
        await stack.init(
            agentStack(stack.name, await freePort(), {
                "release.verifyWindowSeconds": String(window),
                // The load's customers answer within about a second: an exchange has ended after 5 s of quiet.
                "proxy.conversations.quietSeconds": "5",
                "release.drainTimeoutSeconds": "10",
            }),
        );
        for (const version of ["1.0.0", "2.0.0"]) {
            log(`${version === "1.0.0" ? "first deploy" : "warm-up release"} of ${version}`);
            await stack.setConfig("agent.version", version);
            const r = await stack.up();
            if (r.code !== 0) throw new Error(`pulumi up of ${version} failed:\n${r.stdout}${r.stderr}`);
        }
        log("the profiled release of 3.0.0");
        await stack.setConfig("agent.version", "3.0.0");
        const { marks, code } = await profiledUp(stack.name);
        if (code !== 0) throw new Error(`the profiled pulumi up exited ${code}`);
        console.log(`| at | since the line before | what |\n| ---: | ---: | --- |`);
        marks.forEach((m, i) =>
            console.log(
                `| ${(m.at / 1000).toFixed(2)} s | ${i ? `+${m.at - marks[i - 1].at} ms` : ""} | ${m.what.replace(/\|/g, "\\|")} |`,
            ),
        );
        const last = marks[marks.length - 1].at;
        console.log(
            `\nwall time ${(last / 1000).toFixed(1)} s for a ${window} s verification window: ${((last - window * 1000) / 1000).toFixed(1)} s besides the window`,
        );
    } finally {
        log("removing the stack");
        await stack.remove();
    }
}

if (require.main === module)
    main().catch((err: Error) => {
        console.error(`bench:profile: ${err.message}`);
        process.exit(1);
    });
