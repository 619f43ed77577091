// The users' workflow (.github/workflows/release.yml) run for real by nektos/act, in host
// mode against the local Docker engine and a real registry (scripts/registry): the build
// job builds and pushes the agent image, deploy-dev releases the dev stack, deploy-prod
// releases the prod stack by the pushed digest, the policy pack enforced on each.
//
// What is substituted under test, and why:
// - the test job: act skips it (`github.actor == 'nektos/act'`), as it is this test run;
// - actions/checkout: act does not download it; it copies the checkout into each job: a
//   copy of this working tree that is a git repository of its own (one commit per
//   release), with a link to a copy of this checkout's installed node_modules (npm ci
//   then has nothing to do);
// - the stack files: Pulumi.dev.yaml and Pulumi.prod.yaml keep their shape, with this
//   suite's app names, ports, registry and short windows (prod's is 15 minutes); the prod
//   policy config keeps its rules with the verification minimum lowered to match;
// - secrets: a secret file (mode 600) with this suite's backend and passphrase.
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { LoadGenerator, LoadReport } from "../../load/client";
import { lightLoad, standardLoad } from "../../load/profile";
import { freePort, mustRun, run, uniqueName } from "../support/pulumi";
import { LocalRegistry } from "../support/registry";
import { stepByStep } from "../support/steps";

const ROOT = path.join(__dirname, "..", "..");
const WINDOW_SECONDS = 6;

/** One act run: its output and how long each job and step took (act's own figures). */
interface ActRun {
    code: number;
    out: string;
    wallMs: number;
    /** "job: step" -> seconds, from act's "✅  Success - <step> [<duration>]" lines. */
    steps: Record<string, number>;
}

function actDurations(out: string): Record<string, number> {
    const steps: Record<string, number> = {};
    for (const m of out.matchAll(/^\[[^/\]]+\/([\w-]+)\s*\]\s+✅\s+Success - (.+?) \[([\d.]+)(ms|s|m[\d.]+s)?\]/gm)) {
        const [, job, name, n, unit] = m;
        const seconds = unit === "ms" ? Number(n) / 1000 : unit?.startsWith("m") ? Number(n) * 60 + Number(unit.slice(1, -1)) : Number(n);
        steps[`${job}: ${name}`] = seconds;
    }
    return steps;
}

describe("the release workflow, run by nektos/act (host mode, real engine and registry)", function () {
    this.timeout(1_200_000);
    const step = stepByStep();
    const app = uniqueName("zw");
    const registry = new LocalRegistry();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-workflow-"));
    const repo = path.join(work, "repo"); // the checkout the jobs run in
    const installed = path.join(work, "node_modules"); // its dependencies, linked from it
    const jobHome = path.join(work, "state"); // the jobs' state home (setup writes it)
    const secrets = path.join(work, "secrets");
    const backend = path.join(work, "backend");
    const passphrase = crypto.randomBytes(24).toString("base64");
    const urls: Record<string, string> = {};
    const apps = { dev: `${app}d`, prod: `${app}p` };
    let image = "";

    /** pulumi in the copy, on this suite's backend. */
    const pulumi = (args: string[]) =>
        mustRun("pulumi", [...args, "--non-interactive"], {
            cwd: repo,
            env: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: passphrase },
        });

    const git = (...args: string[]) =>
        mustRun("git", args, {
            cwd: repo,
            env: {
                GIT_AUTHOR_NAME: "zdt",
                GIT_AUTHOR_EMAIL: "zdt@localhost",
                GIT_COMMITTER_NAME: "zdt",
                GIT_COMMITTER_EMAIL: "zdt@localhost",
            },
        });

    /** Rewrites one of the copy's stack files, keeping its shape. */
    function editStack(stack: "dev" | "prod", edit: (config: Record<string, any>) => void): void {
        const file = path.join(repo, `Pulumi.${stack}.yaml`);
        const doc = parse(fs.readFileSync(file, "utf8"));
        edit(doc.config);
        fs.writeFileSync(file, stringify(doc));
    }

    async function act(): Promise<ActRun> {
        const t0 = Date.now();
        const r = await run(
            "act",
            [
                "push",
                // The jobs' checkout is act's copy of the repository, node_modules' link included.
                "--use-gitignore=false",
                "-W",
                ".github/workflows/release.yml",
                "-P",
                "self-hosted=-self-hosted",
                "-P",
                "linux=-self-hosted",
                "--secret-file",
                secrets,
                "--env",
                `ZDT_HOME=${jobHome}`,
            ],
            { cwd: repo, timeoutMs: 900_000 },
        );
        const out = r.stdout + r.stderr;
        return { code: r.code, out, wallMs: Date.now() - t0, steps: actDurations(out) };
    }

    async function version(stack: "dev" | "prod"): Promise<string | undefined> {
        const res = await fetch(`${urls[stack]}/version`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as { version: string }).version : undefined;
    }

    before(async () => {
        await registry.start();
        image = `${registry.host}/${app}-agent`;
        // The jobs' checkout: this working tree's files (tracked or new, not ignored), as a repository.
        const files = (await mustRun("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT })).stdout
            .split("\0")
            .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
        for (const f of files) fs.cpSync(path.join(ROOT, f), path.join(repo, f), { recursive: true });
        // Installed dependencies come along (setup sees they match the lock file and skips
        // `npm ci`): three jobs per run would otherwise spend about a minute each reinstalling
        // them. One copy for the suite, outside the checkout, which holds a link to it (act
        // copies a link as a link): copying 171 MB into each job took 11 to 32 s of disk
        // writes on a loaded machine, six times per suite.
        await mustRun("cp", ["-a", path.join(ROOT, "node_modules"), installed]);
        fs.symlinkSync(installed, path.join(repo, "node_modules"));
        fs.mkdirSync(backend);
        fs.mkdirSync(jobHome, { mode: 0o700 });
        fs.writeFileSync(secrets, `PULUMI_BACKEND_URL=file://${backend}\nPULUMI_CONFIG_PASSPHRASE=${passphrase}\n`, { mode: 0o600 });
        for (const stack of ["dev", "prod"] as const) {
            const port = await freePort();
            urls[stack] = `http://127.0.0.1:${port}`;
            editStack(stack, (c) => {
                c["zdt:app"] = apps[stack];
                c["zdt:proxy"] = { ...c["zdt:proxy"], port };
                c["zdt:release"] = {
                    ...c["zdt:release"],
                    verifyWindowSeconds: WINDOW_SECONDS,
                    drainTimeoutSeconds: 10,
                    healthGateTimeoutSeconds: 60,
                };
                if (stack === "prod") c["zdt:agent"] = { ...c["zdt:agent"], image, version: "1.0.0", memoryMb: 256 };
            });
            await pulumi(["stack", "init", stack]);
        }
        const prodPolicy = path.join(repo, "policies", "config", "prod.json");
        const rules = JSON.parse(fs.readFileSync(prodPolicy, "utf8"));
        rules["release-verification-window"].minVerifyWindowSeconds = WINDOW_SECONDS;
        fs.writeFileSync(prodPolicy, JSON.stringify(rules, null, 2));
        await git("init", "-q", "-b", "main");
        await git("add", "-A");
        await git("commit", "-q", "-m", "release 1.0.0");
    });

    after(async () => {
        for (const stack of ["dev", "prod"]) {
            // A job that failed mid-release leaves its stack locked: unlock it, or destroy fails.
            await pulumi(["cancel", "--yes", "--stack", stack]).catch(() => undefined);
            await pulumi(["destroy", "--yes", "--skip-preview", "--stack", stack]).catch(() => undefined);
            await pulumi(["stack", "rm", "--yes", "--force", "--stack", stack]).catch(() => undefined);
        }
        // Whatever a failed destroy left of the two apps, and nothing else.
        for (const a of [apps.dev, apps.prod]) {
            const ids = (await run("docker", ["ps", "-aq", "--filter", `label=zdt.app=${a}`])).stdout.split("\n").filter(Boolean);
            if (ids.length) await run("docker", ["rm", "-f", ...ids]);
            await run("docker", ["network", "rm", `${a}-net`]);
            await run("docker", ["volume", "rm", `${a}-proxy-state`]);
        }
        await registry.remove();
        for (const ref of [image, `${apps.dev}-agent`, `${apps.dev}-proxy`, `${apps.prod}-proxy`]) {
            const left = await run("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=${ref}`]);
            const names = left.stdout.split("\n").filter((t) => t && !t.endsWith(":<none>"));
            if (names.length) await run("docker", ["image", "rm", ...names]);
        }
        fs.rmSync(work, { recursive: true, force: true });
    });

    step("a push builds and pushes 1.0.0, releases dev, then prod by the pushed digest", async () => {
        const r = await act();
        expect(r.code, r.out.slice(-6000)).to.equal(0);
        expect(r.out).to.not.match(/\[release\/test\s*\]\s+⭐/); // the test job is this run: skipped
        for (const job of ["build", "deploy-dev", "deploy-prod"])
            expect(r.out).to.match(new RegExp(`\\[release/${job}\\s*\\]\\s+🏁\\s+Job succeeded`));
        expect(await registry.tags(`${app}-agent`)).to.deep.equal(["1.0.0"]);
        const digest = /digest=(sha256:[0-9a-f]{64})/.exec(r.out)?.[1];
        expect(digest, "the build job's digest output").to.match(/^sha256:/);
        // prod runs exactly the pushed bytes.
        const prod = JSON.parse((await pulumi(["stack", "output", "--json", "--stack", "prod"])).stdout);
        const ran = await mustRun("docker", ["inspect", "--format", "{{.Config.Image}}", `${apps.prod}-agent-${prod.liveRelease}`]);
        expect(ran.stdout.trim()).to.equal(`${image}:1.0.0@${digest}`);
        expect(await version("dev")).to.equal("1.0.0");
        expect(await version("prod")).to.equal("1.0.0");
        console.log(`      first run: ${(r.wallMs / 1000).toFixed(0)}s; ${JSON.stringify(r.steps)}`);
    });

    step("a commit bumping the version releases it through the pipeline under load: 0 failed, timed stage by stage", async () => {
        for (const stack of ["dev", "prod"] as const) editStack(stack, (c) => (c["zdt:agent"] = { ...c["zdt:agent"], version: "1.1.0" }));
        await git("commit", "-q", "-am", "release 1.1.0");
        const loads = { dev: new LoadGenerator(lightLoad(urls.dev)), prod: new LoadGenerator(standardLoad(urls.prod)) };
        loads.dev.start();
        loads.prod.start();
        const t0 = Date.now();
        const seen: Record<string, number> = {};
        const watch = setInterval(() => {
            for (const stack of ["dev", "prod"] as const)
                void version(stack).then(
                    (v) => {
                        if (!seen[stack] && v === "1.1.0") seen[stack] = Date.now() - t0;
                    },
                    () => undefined,
                );
        }, 250);
        let r: ActRun;
        let reports: Record<string, LoadReport>;
        try {
            r = await act();
        } finally {
            clearInterval(watch);
            reports = { dev: await loads.dev.stop(), prod: await loads.prod.stop() };
        }
        expect(r.code, r.out.slice(-6000)).to.equal(0);
        for (const stack of ["dev", "prod"] as const) {
            const report = reports[stack];
            const when = report.failureLog.map(
                (f) => `${f.kind} ${f.reason} sent ${f.sentAt - t0} ms, failed ${f.failedAt - t0} ms from the commit`,
            );
            expect(report.failed, `${stack}: ${JSON.stringify(report.failures)} ${when.join("; ")}`).to.equal(0);
            expect(report.streamsTruncated).to.equal(0);
            expect(report.conversationsBroken).to.equal(0);
            expect(report.ok).to.be.greaterThan(100);
            expect(await version(stack)).to.equal("1.1.0");
        }
        expect(await registry.tags(`${app}-agent`)).to.deep.equal(["1.0.0", "1.1.0"]);
        const publish = /published \S+:1\.1\.0@\S+ \(build (\d+)s, push (\d+)s\)/.exec(r.out);
        expect(publish, "scripts/publish's timings").to.not.equal(null);
        // The prod release's own phases, as the release helper prints them.
        const prodPhases = /\[release\/deploy-prod\s*\]\s+\|\s+phases: (.+)/.exec(r.out)?.[1];
        expect(prodPhases, "the release helper's phase line for prod").to.match(
            /start-up [\d.]+ s, bring-up [\d.]+ s, switch program start [\d.]+ s, health gate [\d.]+ s, pool emptied [\d.]+ s, switch [\d.]+ s, .*switch program exit [\d.]+ s/,
        );
        const served = seen.prod;
        console.log(
            `      pipeline, commit to 1.1.0 serving on prod: ${(served / 1000).toFixed(0)}s; to 1.0.0 retired (workflow done): ${(r.wallMs / 1000).toFixed(0)}s\n` +
                `      build ${publish![1]}s, push ${publish![2]}s; dev serving at ${(seen.dev / 1000).toFixed(0)}s; prod release: ${prodPhases}\n` +
                `      steps: ${JSON.stringify(r.steps)}\n` +
                `      load: dev ${reports.dev.requests} requests, ${reports.dev.failed} failed; prod ${reports.prod.requests} requests, ${reports.prod.failed} failed, ${reports.prod.conversationsCompleted} conversations, 0 broken`,
        );
    });
});
