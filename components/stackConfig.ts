// Reads the stack's config through the Pulumi runtime and validates it with the
// schema in config.ts. A RunError prints the message without a stack trace.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, rawConfig, StackConfig } from "./config";

export function loadConfig(): StackConfig {
    try {
        return parseConfig(rawConfig(pulumi.runtime.allConfig(), pulumi.getProject()));
    } catch (err) {
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
}
