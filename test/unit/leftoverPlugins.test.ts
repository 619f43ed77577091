// Plugin processes a killed `pulumi up` left behind are ended by the release helper: only
// those of this checkout and stack whose engine is gone. Proved with real processes: a
// stand-in engine (a `pulumi` on PATH that starts a plugin in a process group of its own,
// as the engine starts the official plugins) killed with SIGKILL, its plugin left running.
import { expect } from "chai";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { endLeftoverPlugins, leftByKilledUpdate, type ProcessInfo, running, updateCommand, updateMarker } from "../../ops/leftoverPlugins";

describe("plugins left by a killed update (npm run release)", () => {
    it("picks the carriers of this update's marker whose engine is gone, and nothing else", () => {
        const m = updateMarker("/srv/app", "prod");
        const procs: ProcessInfo[] = [
            { pid: 10, command: "pulumi up", update: m, engine: 10 }, // a live engine
            { pid: 11, command: "pulumi-resource-docker", update: m, engine: 10 }, // its plugin
            { pid: 21, command: "pulumi-resource-docker", update: m, engine: 20 }, // engine 20 is gone
            { pid: 22, command: "pulumi-resource-command", update: m, engine: 20 },
            { pid: 31, command: "pulumi-resource-docker", update: updateMarker("/srv/app", "dev"), engine: 30 }, // another stack
            { pid: 41, command: "pulumi-resource-docker", update: updateMarker("/srv/other", "prod"), engine: 40 }, // another checkout
            { pid: 51, command: "pulumi-resource-docker" }, // no marker: not ours to judge
            { pid: 60, command: "sleep", engine: 21 }, // engine pid reused by a process without the marker
            { pid: 61, command: "pulumi-resource-random", update: m, engine: 60 },
        ];
        expect(leftByKilledUpdate(procs, m).map((p) => p.pid)).to.deep.equal([21, 22, 61]);
    });

    describe("with real processes", function () {
        this.timeout(30_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdt-leftover-"));
        const engines: ChildProcess[] = [];
        const plugins: number[] = [];
        const checkout = path.join(dir, "checkout");

        before(() => {
            // A stand-in `pulumi`: starts a plugin detached (its own process group), records its pid, waits.
            fs.writeFileSync(
                path.join(dir, "pulumi"),
                `#!${process.execPath}\n` +
                    `const { spawn } = require("child_process");\n` +
                    `const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });\n` +
                    `child.unref();\n` +
                    `require("fs").writeFileSync(process.env.PLUGIN_PID_FILE, String(child.pid));\n` +
                    `setInterval(() => {}, 1000);\n`,
                { mode: 0o755 },
            );
        });

        after(() => {
            for (const pid of [...plugins, ...engines.map((e) => e.pid!)])
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // gone
                }
            fs.rmSync(dir, { recursive: true, force: true });
        });

        /** Starts an update of `stack` through updateCommand; resolves to its engine and plugin pids. */
        async function update(stack: string): Promise<{ engine: ChildProcess; plugin: number }> {
            const pidFile = path.join(dir, `${stack}-${engines.length}.pid`);
            const cmd = updateCommand(checkout, stack, ["up", "--yes"], {
                ...process.env,
                PATH: `${dir}:${process.env.PATH}`,
                PLUGIN_PID_FILE: pidFile,
            });
            const engine = spawn(cmd.file, cmd.args, { env: cmd.env, stdio: "ignore", detached: true });
            engines.push(engine);
            const deadline = Date.now() + 15_000;
            while (!fs.existsSync(pidFile) || !fs.readFileSync(pidFile, "utf8")) {
                if (Date.now() > deadline) throw new Error("the stand-in engine never started its plugin");
                await new Promise((r) => setTimeout(r, 50));
            }
            const plugin = Number(fs.readFileSync(pidFile, "utf8"));
            plugins.push(plugin);
            return { engine, plugin };
        }

        it("ends the plugin whose engine was killed, and leaves a live update's and another stack's", async () => {
            const killed = await update("prod");
            const live = await update("prod");
            const other = await update("dev");
            // `pulumi up` killed like a lost SSH session: its process group, not the plugin's.
            process.kill(-killed.engine.pid!, "SIGKILL");
            process.kill(-other.engine.pid!, "SIGKILL");
            const deadline = Date.now() + 10_000;
            while ((running(killed.engine.pid!) || running(other.engine.pid!)) && Date.now() < deadline)
                await new Promise((r) => setTimeout(r, 50));
            expect(running(killed.plugin), "the killed update's plugin outlives its engine").to.equal(true);

            const ended = await endLeftoverPlugins(checkout, "prod", 3_000);

            expect(ended.map((p) => p.pid)).to.deep.equal([killed.plugin]);
            expect(running(killed.plugin), "the left plugin is ended").to.equal(false);
            expect(running(live.plugin), "a running update's plugin is left alone").to.equal(true);
            expect(running(live.engine.pid!), "a running update is left alone").to.equal(true);
            expect(running(other.plugin), "another stack's plugin is left alone").to.equal(true);
        });
    });
});
