// The test command's runner: mocha with the spec reporter, plus an account of every
// declared test. A run that executes fewer tests than it declares (a test skipped, or
// never reached because a hook failed) fails and lists them: no suite is skipped
// silently.
// With --lanes N the files run in N child processes side by side (test/lanes.ts decides
// which where), their lines prefixed with the lane's number, their accounts added up.
//   node -r ts-node/register test/run.ts [files or folders...] [--grep <pattern>] [--lanes N]
import { spawn } from "child_process";
import Mocha from "mocha";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { assignLanes } from "./lanes";

const ROOT = path.join(__dirname, "..");
const DEFAULT_DIRS = ["test/unit", "test/integration"];

function testFiles(targets: string[]): string[] {
    const out: string[] = [];
    const walk = (p: string) => {
        const abs = path.resolve(ROOT, p);
        if (!fs.existsSync(abs)) throw new Error(`no such test file or folder: ${p}`);
        if (fs.statSync(abs).isDirectory()) {
            for (const e of fs.readdirSync(abs).sort()) walk(path.join(abs, e));
        } else if (abs.endsWith(".test.ts")) out.push(abs);
    };
    targets.forEach(walk);
    return out;
}

function allTests(suite: Mocha.Suite): Mocha.Test[] {
    return [...suite.tests, ...suite.suites.flatMap(allTests)];
}

/** What one run (a lane) executed: the parent of lanes adds them up. */
interface Summary {
    declared: number;
    selected: number;
    executed: number;
    failed: number;
    files: number;
    notRun: string[];
    fileMs: Record<string, number>;
}

/** Takes `--name value` out of args. */
function option(args: string[], ...names: string[]): string | undefined {
    const i = args.findIndex((a) => names.includes(a));
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
}

/** A run fails when a test failed or a declared one did not run. */
function exitCode(s: Summary): number {
    return s.failed > 0 || s.notRun.length > 0 ? 1 : 0;
}

function report(s: Summary, grep: string | undefined): number {
    console.log(
        `\ntests: ${s.executed} of ${s.selected} executed` +
            (grep ? ` (selected by --grep ${JSON.stringify(grep)} from ${s.declared})` : "") +
            `, ${s.failed} failed, from ${s.files} files`,
    );
    const slow = Object.entries(s.fileMs)
        .filter(([, ms]) => ms >= 10_000)
        .sort((a, b) => b[1] - a[1]);
    if (slow.length > 0) console.log(`files of 10 s or more: ${slow.map(([f, ms]) => `${f} ${Math.round(ms / 1000)} s`).join(", ")}`);
    if (s.notRun.length > 0) {
        console.log(`NOT RUN (${s.notRun.length}): a skipped test is a failed run`);
        for (const t of s.notRun) console.log(`  - ${t}`);
    }
    return exitCode(s);
}

/** Runs the files in this process with mocha's spec reporter. */
async function runHere(files: string[], grep: string | undefined): Promise<Summary> {
    const mocha = new Mocha({ reporter: "spec", timeout: 10_000, ...(grep ? { grep } : {}) });
    files.forEach((f) => mocha.addFile(f));
    await mocha.loadFilesAsync();
    const declared = allTests(mocha.suite);
    const selected = grep ? declared.filter((t) => new RegExp(grep).test(t.fullTitle())) : declared;

    const fileMs: Record<string, number> = {};
    const failed: number = await new Promise((resolve) => {
        const runner = mocha.run(resolve);
        // Each file's wall time (its top-level suites, hooks included), printed at the end.
        const started = new Map<Mocha.Suite, number>();
        runner.on("suite", (s: Mocha.Suite) => {
            if (s.parent?.root && s.file) started.set(s, Date.now());
        });
        runner.on("suite end", (s: Mocha.Suite) => {
            const t0 = started.get(s);
            const f = s.file && path.relative(ROOT, s.file);
            if (t0 !== undefined && f) fileMs[f] = (fileMs[f] ?? 0) + Date.now() - t0;
        });
    });
    const executed = selected.filter((t) => t.state === "passed" || t.state === "failed");
    const notRun = selected
        .filter((t) => !executed.includes(t))
        .map((t) => `${t.fullTitle()} (${t.isPending() ? "skipped" : "never reached: a hook of its suite failed"})`);
    return { declared: declared.length, selected: selected.length, executed: executed.length, failed, files: files.length, notRun, fileMs };
}

/** Runs each lane in a child process, its lines prefixed with its number as they come; adds up their summaries. */
async function runLanes(lanes: string[][], grep: string | undefined): Promise<Summary> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-lanes-"));
    try {
        console.log(`running ${lanes.length} lanes side by side (test/lanes.ts):`);
        lanes.forEach((l, i) => console.log(`  [${i + 1}] ${l.map((f) => path.relative(ROOT, f)).join(" ")}`));
        const summaries = await Promise.all(
            lanes.map(
                (files, i) =>
                    new Promise<Summary>((resolve) => {
                        const file = path.join(dir, `lane-${i + 1}.json`);
                        const child = spawn(
                            process.execPath,
                            [
                                "-r",
                                "ts-node/register/transpile-only",
                                __filename,
                                "--summary",
                                file,
                                ...(grep ? ["--grep", grep] : []),
                                ...files,
                            ],
                            { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
                        );
                        for (const stream of [child.stdout, child.stderr])
                            readline.createInterface({ input: stream }).on("line", (line) => console.log(`[${i + 1}] ${line}`));
                        child.on("close", (code) => {
                            if (fs.existsSync(file)) return resolve(JSON.parse(fs.readFileSync(file, "utf8")) as Summary);
                            console.log(`[${i + 1}] lane ended (exit ${code}) without a summary: counted as failed`);
                            resolve({ declared: 0, selected: 0, executed: 0, failed: 1, files: files.length, notRun: [], fileMs: {} });
                        });
                    }),
            ),
        );
        return summaries.reduce((a, s) => ({
            declared: a.declared + s.declared,
            selected: a.selected + s.selected,
            executed: a.executed + s.executed,
            failed: a.failed + s.failed,
            files: a.files + s.files,
            notRun: [...a.notRun, ...s.notRun],
            fileMs: { ...a.fileMs, ...s.fileMs },
        }));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    const grep = option(args, "--grep", "-g");
    const lanes = Number(option(args, "--lanes") ?? "1");
    const summaryFile = option(args, "--summary");
    const files = testFiles(args.length > 0 ? args : DEFAULT_DIRS);
    if (lanes > 1) {
        const split = assignLanes(
            files.map((f) => path.relative(ROOT, f)),
            lanes,
        ).map((l) => l.map((f) => path.join(ROOT, f)));
        if (split.length > 1) return report(await runLanes(split, grep), grep);
    }
    const summary = await runHere(files, grep);
    if (summaryFile) {
        fs.writeFileSync(summaryFile, JSON.stringify(summary));
        return exitCode(summary);
    }
    return report(summary, grep);
}

main().then(
    (code) => process.exit(code),
    (err: Error) => {
        console.error(`test runner: ${err.stack ?? err.message}`);
        process.exit(2);
    },
);
