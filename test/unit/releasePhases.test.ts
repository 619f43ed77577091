import { expect } from "chai";
import { formatPhases, phaseOf, urnType } from "../../ops/releasePhases";
import { UpProgress } from "../../ops/upEvents";

const STACK = "urn:pulumi:dev::zdt";
const release = `${STACK}::zdt:agents:AgentRelease::agent-2-0-0-abcd1234`;
const sw = `${STACK}::zdt:agents:TrafficSwitch::traffic`;
const kb = `${STACK}::zdt:agents:KnowledgeReload::knowledge`;
const step = (op: string, type: string, name: string, parent?: string) => ({
    op,
    type,
    urn: `${STACK}::${parent ? urnType(parent) + "$" : ""}${type}::${name}`,
    new: parent ? { parent } : undefined,
});

describe("release phases of engine steps", () => {
    it("reads the resource type from a URN, also under a parent", () => {
        expect(urnType(`${STACK}::zdt:agents:AgentRelease$docker:index/container:Container::agent-x-container`)).to.equal(
            "docker:index/container:Container",
        );
        expect(urnType(release)).to.equal("zdt:agents:AgentRelease");
    });

    it("assigns steps by their parent's type, not by their names", () => {
        expect(phaseOf(step("create", "docker:index/container:Container", "agent-x-container", release))).to.equal("bringUp");
        expect(phaseOf(step("create", "docker:index/image:Image", "agent-x-image", release))).to.equal("bringUp");
        expect(phaseOf(step("update", "command:local:Command", "traffic-switch", sw))).to.equal("switch");
        // The knowledge reindex is a command too, but not the switch.
        expect(phaseOf(step("update", "command:local:Command", "knowledge-reindex", kb))).to.equal("reindex");
        // A resource named like a release but without that parent is not the bring-up.
        expect(phaseOf(step("create", "docker:index/network:Network", "agent-network"))).to.equal("other");
    });

    it("counts deletions as their own phase, and ignores components, the stack and unchanged steps", () => {
        expect(
            phaseOf({ ...step("delete", "docker:index/container:Container", "agent-old-container"), old: { parent: release } }),
        ).to.equal("deletion");
        expect(phaseOf(step("create", "zdt:agents:AgentRelease", "agent-2-0-0"))).to.equal(undefined);
        expect(phaseOf(step("same", "docker:index/container:Container", "proxy-container"))).to.equal(undefined);
        expect(phaseOf(step("update", "pulumi:pulumi:Stack", "zdt-dev"))).to.equal(undefined);
    });

    it("prints the phases that happened, in the order they run, in seconds", () => {
        expect(formatPhases({ verification: 6012, bringUp: 12_340, healthGate: 2800, flip: 140, retirement: 10_050 })).to.equal(
            "bring-up 12.3 s, health gate 2.8 s, switch 0.1 s, verification window 6.0 s, retirement (drain) 10.1 s",
        );
        expect(formatPhases({ canary: 30_000, startup: 9100, emptyPool: 120, healthGate: 2000, bringUp: 1500 })).to.equal(
            "start-up 9.1 s, bring-up 1.5 s, health gate 2.0 s, pool emptied 0.1 s, canary steps 30.0 s",
        );
        expect(formatPhases({})).to.equal("no phase recorded");
    });

    it("profiles the switch's command from `pulumi up --json`: its program's start-up and exit, and the engine's summary", () => {
        const progress = new UpProgress(
            () => undefined,
            () => undefined,
        );
        const cmd = step("update", "command:local:Command", "traffic-switch", sw);
        const lines: [number, object][] = [
            [500, { preludeEvent: {} }],
            [5000, { resourcePreEvent: { metadata: cmd } }],
            // Another resource's line does not count as the switch's.
            [
                5100,
                {
                    diagnosticEvent: {
                        severity: "info",
                        message: "proxy config: reloaded",
                        urn: `${STACK}::zdt:agents:TrafficProxy$command:local:Command::proxy-config`,
                    },
                },
            ],
            [5400, { diagnosticEvent: { severity: "info#err", message: "[switch +0.2s] live: blue", urn: cmd.urn } }],
            [12_000, { diagnosticEvent: { severity: "info#err", message: "[switch +6.8s] kept image", urn: cmd.urn } }],
            [12_150, { resOutputsEvent: { metadata: cmd } }],
            [12_400, { summaryEvent: { resourceChanges: { update: 1 } } }],
        ];
        for (const [at, e] of lines) progress.handle(JSON.stringify(e), at);
        expect(progress.switchCommandMs()).to.deep.equal({ start: 400, exit: 150 });
        expect(progress.summaryAt).to.equal(12_400);
        expect(progress.changes).to.deep.equal({ update: 1 });
        expect(formatPhases({ switchStart: 400, switchExit: 150, engineExit: 300 })).to.equal(
            "switch program start 0.4 s, switch program exit 0.1 s, engine exit 0.3 s",
        );
    });
});
