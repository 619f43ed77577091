// Reads the stack's config through the Pulumi runtime, validates it with the schema in
// config/ and checks the files, folders and images it names (preflight.ts). A
// RunError prints the message without a stack trace; nothing is declared before.
// A stack with an edge section is an edge stack (config/edge.ts), any other an agent's.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, parseEdgeConfig, rawConfig, StackConfig } from "../config/schema";
import { type EdgeStackConfig, isEdgeConfig } from "../config/edge";
import { edgePreflightProblems, hostProbe, plainSecretsProblem, preflightProblems } from "./preflight";

export function loadConfig(projectDir: string): StackConfig | EdgeStackConfig {
    try {
        const raw = rawConfig(pulumi.runtime.allConfig(), pulumi.getProject());
        const edge = isEdgeConfig(raw);
        const cfg = edge ? parseEdgeConfig(raw) : parseConfig(raw);
        // Images are checked when an update runs under the engine (a preview builds nothing;
        // a program under unit-test mocks has no engine monitor and no Docker to ask).
        const underEngine = process.env.PULUMI_NODEJS_MONITOR !== undefined;
        const checkImages = underEngine && !pulumi.runtime.isDryRun();
        const problems =
            "edge" in cfg
                ? edgePreflightProblems(cfg, projectDir, hostProbe, checkImages)
                : preflightProblems(cfg, projectDir, hostProbe, checkImages);
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
