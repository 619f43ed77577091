// The typed contract between command resources and the programs they run.
import { expect } from "chai";
import { z } from "zod";
import { EnvContract, isProcessVariable, upperSnake } from "../../contracts/envContract";
import { proxyConfigContract } from "../../contracts/proxyConfigContract";
import { proxyGuardContract } from "../../contracts/proxyGuardContract";
import { proxyHandoverContract } from "../../contracts/proxyHandoverContract";
import { swarmSwitchContract } from "../../contracts/swarmSwitchContract";
import { reindexContract } from "../../contracts/reindexContract";
import { switchContract } from "../../contracts/switchContract";
import { switchInput } from "../support/switchInput";

describe("command contracts", () => {
    it("name each setting's variable after it, one per leaf", () => {
        expect(upperSnake("maxErrorRatePercent")).to.equal("MAX_ERROR_RATE_PERCENT");
        expect(switchContract.variable("verifyWindowSeconds")).to.equal("VERIFY_WINDOW_SECONDS");
        expect(switchContract.variable("thresholds", "minRequests")).to.equal("MIN_REQUESTS");
        expect(switchContract.variables().map(([, n]) => n)).to.include.members([
            "PROXY_CONTAINER",
            "TARGET_RELEASE",
            "HEALTH_GATE_TIMEOUT_SECONDS",
            "MAX_LATENCY_MS",
        ]);
        expect(() => switchContract.variable("verifyWindow")).to.throw(/traffic switch contract has no setting verifyWindow/);
    });

    it("round-trip: what the component encodes is what the program decodes", () => {
        const input = switchInput({
            verifyWindowSeconds: 42,
            thresholds: { maxErrorRatePercent: 0.5 },
            strategy: "canary",
            canary: { steps: [10, 100].map((weight) => ({ weight, pauseSeconds: 7 })), maxErrorRateDeltaPercent: 2, maxLatencyRatio: 3 },
        });
        const env = switchContract.encode(input) as Record<string, string>;
        expect(Object.values(env).every((v) => typeof v === "string")).to.equal(true);
        expect(env.VERIFY_WINDOW_SECONDS).to.equal("42");
        expect(switchContract.decode(env)).to.deep.equal(input);
    });

    it("a missing or malformed variable fails decoding, naming the variable and what is allowed", () => {
        const env = switchContract.encode(switchInput()) as Record<string, string>;
        const { TARGET_RELEASE: _, ...missing } = env;
        expect(() => switchContract.decode(missing)).to.throw(/traffic switch: invalid environment\n\s+TARGET_RELEASE: /);
        expect(() => switchContract.decode({ ...env, PROBE_INTERVAL_MS: "10" })).to.throw(
            /PROBE_INTERVAL_MS: Too small: expected number to be >=200/,
        );
        expect(() =>
            switchContract.decode({ ...env, STEPS: '[{"weight": 50, "pauseSeconds": 1}, {"weight": 20, "pauseSeconds": 1}]' }),
        ).to.throw(/STEPS: step 2: weight 20 must be above the previous step's 50/);
        expect(() => switchContract.decode({ ...env, STEPS: '[{"weight": 500, "pauseSeconds": 1}]' })).to.throw(
            /STEPS\[0\.weight\]: Too big/,
        );
        expect(() => reindexContract.decode({})).to.throw(/knowledge reindex: invalid environment[\s\S]*KNOWLEDGE_DIGEST/);
    });

    it("refuses a setting named after a variable the program's process needs (PATH, HOME, PULUMI_...)", () => {
        const clash = new EnvContract("clash", z.object({ health: z.object({ path: z.string() }) }));
        expect(() => clash.variables()).to.throw(/clash contract: settings PATH would replace a variable the program's process needs/);
        const contracts = [
            switchContract,
            swarmSwitchContract,
            reindexContract,
            proxyConfigContract,
            proxyGuardContract,
            proxyHandoverContract,
        ];
        for (const c of contracts)
            expect(
                c
                    .variables()
                    .map(([, n]) => n)
                    .filter(isProcessVariable),
                c.reader,
            ).to.deep.equal([]);
    });

    it("refuses a schema whose settings would share a variable", () => {
        const clash = new EnvContract("clash", z.object({ a: z.object({ port: z.number() }), b: z.object({ port: z.number() }) }));
        expect(() => clash.variables()).to.throw(/settings PORT would share a variable name/);
    });

    it("the defaults of the release settings are the stack schema's", () => {
        expect(
            switchContract.decode(switchContract.encode(switchInput()) as Record<string, string>).thresholds.maxErrorRatePercent,
        ).to.equal(1);
        const env = switchContract.encode(switchInput()) as Record<string, string>;
        const { MIN_REQUESTS: _, ...withoutMin } = env;
        expect(switchContract.decode(withoutMin).thresholds.minRequests).to.equal(20);
    });
});
