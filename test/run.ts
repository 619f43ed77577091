// The test command's runner: mocha with the spec reporter, plus an account of every
// declared test. A run that executes fewer tests than it declares (a test skipped, or
// never reached because a hook failed) fails and lists them: no suite is skipped
// silently.
//   node -r ts-node/register test/run.ts [files or folders...] [--grep <pattern>]
import Mocha from "mocha";
import * as fs from "fs";
import * as path from "path";

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

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    const gi = args.findIndex((a) => a === "--grep" || a === "-g");
    const grep = gi >= 0 ? args.splice(gi, 2)[1] : undefined;
    const files = testFiles(args.length > 0 ? args : DEFAULT_DIRS);

    const mocha = new Mocha({ reporter: "spec", timeout: 10_000, ...(grep ? { grep } : {}) });
    files.forEach((f) => mocha.addFile(f));
    await mocha.loadFilesAsync();
    const declared = allTests(mocha.suite);
    const selected = grep ? declared.filter((t) => new RegExp(grep).test(t.fullTitle())) : declared;

    const fileMs = new Map<string, number>();
    const failures: number = await new Promise((resolve) => {
        const runner = mocha.run(resolve);
        // Each file's wall time (its top-level suites, hooks included), printed at the end.
        const started = new Map<Mocha.Suite, number>();
        runner.on("suite", (s: Mocha.Suite) => {
            if (s.parent?.root && s.file) started.set(s, Date.now());
        });
        runner.on("suite end", (s: Mocha.Suite) => {
            const t0 = started.get(s);
            if (t0 !== undefined && s.file) fileMs.set(s.file, (fileMs.get(s.file) ?? 0) + Date.now() - t0);
        });
    });
    const executed = selected.filter((t) => t.state === "passed" || t.state === "failed");
    const notRun = selected.filter((t) => !executed.includes(t));
    console.log(
        `\ntests: ${executed.length} of ${selected.length} executed` +
            (grep ? ` (selected by --grep ${JSON.stringify(grep)} from ${declared.length})` : "") +
            `, ${failures} failed, from ${files.length} files`,
    );
    const slow = [...fileMs].filter(([, ms]) => ms >= 10_000).sort((a, b) => b[1] - a[1]);
    if (slow.length > 0)
        console.log(`files of 10 s or more: ${slow.map(([f, ms]) => `${path.relative(ROOT, f)} ${Math.round(ms / 1000)} s`).join(", ")}`);
    if (notRun.length > 0) {
        console.log(`NOT RUN (${notRun.length}): a skipped test is a failed run`);
        for (const t of notRun)
            console.log(`  - ${t.fullTitle()} (${t.isPending() ? "skipped" : "never reached: a hook of its suite failed"})`);
    }
    return failures > 0 || notRun.length > 0 ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (err: Error) => {
        console.error(`test runner: ${err.stack ?? err.message}`);
        process.exit(2);
    },
);
