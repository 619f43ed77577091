// The main job: a real release of the reference agent on the local Docker engine,
// under load from the strict client, with a summary at the end. First run: deploys
// the demo stack, then releases it. Later runs: release to the other demo version.
//
// The demo works on a stack of its own, `demo`, whose stack file Pulumi.demo.yaml is
// written here from Pulumi.dev.yaml (git ignores it): running the demo never modifies
// a tracked file, and the salt `pulumi stack init` adds stays on this machine.
//   scripts/demo [--stack demo] [--app NAME] [--port N]
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LoadGenerator } from "../load/client";
import { standardLoad } from "../load/profile";
import { parseDemoArgs, writeStackFile } from "./demoStack";
import { release } from "./release";
import { drainLine } from "./releaseReport";

const ROOT = path.join(__dirname, "..");
const VERSIONS = ["1.0.0", "2.0.0"];

async function main(): Promise<void> {
    const opts = parseDemoArgs(process.argv.slice(2));
    const STACK = opts.stack;
    const pulumi = (args: string[]): string =>
        execFileSync("pulumi", [...args, "--stack", STACK, "--non-interactive"], {
            cwd: ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    writeStackFile(opts);
    const stacks = execFileSync("pulumi", ["stack", "ls", "--json"], { cwd: ROOT, encoding: "utf8" });
    if (!(JSON.parse(stacks) as { name: string }[]).some((s) => s.name === STACK)) {
        console.log(`creating stack ${STACK} (config: Pulumi.${STACK}.yaml, written from Pulumi.dev.yaml)`);
        execFileSync("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: ROOT, stdio: "inherit" });
    }
    let outputs = JSON.parse(pulumi(["stack", "output", "--json"]) || "{}");
    if (!outputs.liveVersion) {
        console.log("\n== first deploy ==");
        const first = await release(STACK);
        if (!first.ok) throw new Error(`first deploy failed:\n${first.error}`);
        outputs = JSON.parse(pulumi(["stack", "output", "--json"]));
    }
    const next = outputs.liveVersion === VERSIONS[0] ? VERSIONS[1] : VERSIONS[0];
    console.log(`\n== release ${outputs.liveVersion} -> ${next} under load (${outputs.proxyUrl}) ==`);
    const load = new LoadGenerator(standardLoad(outputs.proxyUrl));
    load.start();
    await new Promise((r) => setTimeout(r, 2000));
    const report = await release(STACK, next);
    await new Promise((r) => setTimeout(r, 2000));
    const traffic = await load.stop();

    const file = path.join(ROOT, "reports", `demo-${report.startedAt.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify({ release: report, load: traffic }, null, 2) + "\n");
    const p = report.phasesMs;
    const s = (ms?: number) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);
    console.log(`
== summary ==
release          ${report.previousVersion ?? "-"} -> ${report.version}: ${report.ok ? "OK" : "FAILED"} (live colour: ${report.liveColor ?? "-"})
pulumi up        ${s(report.wallMs)} (of which verification window ${s(p.verification)})
phases           start-up ${s(p.startup)}, bring-up ${s(p.bringUp)}, health gate ${s(p.healthGate)}, pool emptied ${s(p.emptyPool)}, flip ${s(p.flip)}, confirm ${s(p.confirm)}, deletion of the old release ${s(p.deletion)}
load             ${traffic.requests} requests (${traffic.achievedRps}/s), ${traffic.streamsCompleted} streams and ${traffic.conversationsCompleted} multi-turn conversations completed
failed           ${traffic.failed} requests ${JSON.stringify(traffic.failures)}, ${traffic.streamsTruncated} truncated streams, ${traffic.conversationsBroken} broken conversations (a turn answered by another release, or out of turn)
conversations    ${report.retirement ? drainLine(report.retirement.conversations) : "-"}
retirement       ${report.retirement ? `took ${s(report.retirement.tookMs)} (drain limit ${s(report.retirement.drainMs)}), ${report.retirement.streamsCut} streams outlived the drain (ended with a 'retired' event; the client saw ${traffic.streamsRetired})` : "-"}
answers          ${Object.entries(traffic.releases)
        .map(([id, r]) => `${id}: ${r.answers}`)
        .join(", ")}
report           ${path.relative(process.cwd(), file)}`);
    if (!report.ok) console.log(`\nthe release failed and the previous release keeps serving:\n${report.error}`);
    process.exit(report.ok && traffic.failed === 0 && traffic.conversationsBroken === 0 ? 0 : 1);
}

if (require.main === module)
    main().catch((err: Error) => {
        console.error(`demo: ${err.message}`);
        process.exit(1);
    });
