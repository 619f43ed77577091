// What the health gate adds to Docker's health check output (core/health.ts, pure).
import { expect } from "chai";
import { dockerTimeoutHint } from "../../core/health";

describe("Docker's health check output in the gate's message", () => {
    it("a timed-out check names the timeout to raise: the image's own, or agent.health.timeoutSeconds", () => {
        expect(dockerTimeoutHint("Health check exceeded timeout (2s)", true)).to.match(
            /Docker before 23\.0 counts the exec's set-up in the timeout.*give the image's HEALTHCHECK --timeout more\)$/,
        );
        expect(dockerTimeoutHint("Health check exceeded timeout (2s)", false)).to.match(/give agent\.health\.timeoutSeconds more\)$/);
    });

    it("any other output adds nothing (a failing check is the agent's answer, not the engine's)", () => {
        for (const out of ["", "exit 1", "curl: (7) Failed to connect to 127.0.0.1 port 8080", '{"ok":false}'])
            expect(dockerTimeoutHint(out, true), out).to.equal("");
    });
});
