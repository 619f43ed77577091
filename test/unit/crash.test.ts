// The health gate's fast failure on a crashed container.
import { expect } from "chai";
import { crashOf } from "../../engine/crash";
import { containerStateOf, memoryOf, mergeLogStreams } from "../../docker/releaseContainer";
import { FakeContainers } from "../support/fakeContainers";

const running = FakeContainers.running("c");

describe("crash detection of a new release", () => {
    it("a running container with no new restart has not crashed", () => {
        expect(crashOf(running, 0)).to.equal(undefined);
        expect(crashOf({ ...running, restartCount: 2 }, 2)).to.equal(undefined);
    });
    it("a restart by the restart policy since the gate began is a crash; the exit code is named only while it is known", () => {
        // Running again: Docker has reset the exit code.
        expect(crashOf({ ...running, restartCount: 3, exitCode: 0 }, 1)).to.equal(
            "its container crashed and was restarted 2 times by its restart policy",
        );
        expect(crashOf({ ...running, status: "restarting", restartCount: 2, exitCode: 3 }, 1)).to.equal(
            "its container crashed and was restarted 1 time by its restart policy (last exit code 3)",
        );
    });
    it("an exited, dead, restarting or missing container is a crash", () => {
        expect(crashOf({ ...running, status: "exited", running: false, exitCode: 3 }, 0)).to.equal("its container exited with code 3");
        expect(crashOf({ ...running, status: "dead", running: false, exitCode: 137 }, 0)).to.equal("its container died with code 137");
        expect(crashOf({ ...running, status: "restarting", exitCode: 1 }, 0)).to.match(/crashed \(exit code 1\) and is being restarted/);
        expect(crashOf(undefined, 0)).to.equal("its container is gone");
    });
    it("reads Docker's inspect output: restart count, status and the last health check output", () => {
        const json = JSON.stringify([
            {
                Image: "sha256:abc",
                RestartCount: 4,
                Config: { Image: "app-agent:2.0.0" },
                State: {
                    Status: "running",
                    Running: true,
                    ExitCode: 0,
                    Health: { Status: "unhealthy", Log: [{ Output: "old" }, { Output: '{"ok":false}\n' }] },
                },
            },
        ]);
        expect(containerStateOf(json)).to.deep.equal({
            status: "running",
            running: true,
            exitCode: 0,
            restartCount: 4,
            health: { status: "unhealthy", lastOutput: '{"ok":false}' },
            imageId: "sha256:abc",
            imageRef: "app-agent:2.0.0",
        });
    });
    it("quotes the last log lines of both streams in the order they were written", () => {
        const stdout = "2026-11-28T04:00:01.000000001Z reindex 1 done\n2026-11-28T04:00:01.500000000Z agent listening\n";
        const stderr = "2026-11-28T04:00:01.200000000Z warn: slow disk\n2026-11-28T04:00:02.000000000Z fault: exiting\n";
        expect(mergeLogStreams(stdout, stderr, 3)).to.equal("warn: slow disk\nagent listening\nfault: exiting");
    });
});

describe("container memory (docker stats)", () => {
    it("reads use and limit in MB and the share Docker computes", () => {
        expect(memoryOf("12.50% 64MiB / 512MiB")).to.deep.equal({ percent: 12.5, usedMb: 64, limitMb: 512 });
        expect(memoryOf("93.75%   120MiB / 128MiB\n")).to.deep.equal({ percent: 93.75, usedMb: 120, limitMb: 128 });
        expect(memoryOf("0.51% 41.2MiB / 7.6GiB")).to.deep.equal({ percent: 0.51, usedMb: 41, limitMb: 7782 });
    });

    it("gives no reading for what it cannot read (a stopped container prints 0B / 0B and --%)", () => {
        expect(memoryOf("")).to.equal(undefined);
        expect(memoryOf("-- 0B / 0B")).to.equal(undefined);
    });
});
