// Reads the stack's config through the Pulumi runtime, validates it with the schema in
// config.ts and checks the files, folders and images it names (preflight.ts). A
// RunError prints the message without a stack trace; nothing is declared before.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, rawConfig, StackConfig } from "../config/schema";
import { hostProbe, plainSecretsProblem, preflightProblems } from "./preflight";

export function loadConfig(projectDir: string): StackConfig {
    try {
        const cfg = parseConfig(rawConfig(pulumi.runtime.allConfig(), pulumi.getProject()));
        // Images are checked when an update runs under the engine (a preview builds nothing;
        // a program under unit-test mocks has no engine monitor and no Docker to ask).
        const underEngine = process.env.PULUMI_NODEJS_MONITOR !== undefined;
        const problems = preflightProblems(cfg, projectDir, hostProbe, underEngine && !pulumi.runtime.isDryRun());
        if (underEngine) {
            const plain = plainSecretsProblem(
                cfg,
                pulumi.getProject(),
                JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS || "[]") as string[],
            );
            if (plain) problems.unshift(plain);
        }
        if (problems.length > 0)
            throw new ConfigError(`invalid stack configuration (nothing was changed):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        return cfg;
    } catch (err) {
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
}
