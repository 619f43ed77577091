// Checks of the config values that name a file, folder or image, before any resource
// is declared: a missing folder or base image fails the update naming the setting,
// instead of a stack trace, an empty folder Docker creates on the host, or a failed
// `docker build` minutes later.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { agentImageRef } from "./agentImage";
import type { StackConfig } from "../config/schema";

/** Where a check looks: the file system and the Docker engine. */
export interface PreflightProbe {
    isDirectory(p: string): boolean;
    isFile(p: string): boolean;
    /** Whether the engine has the image or can pull it; undefined if yes, else why not. */
    imageProblem(image: string): string | undefined;
}

const PULL_TIMEOUT_MS = 180_000;

export const hostProbe: PreflightProbe = {
    isDirectory: (p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false,
    isFile: (p) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false,
    imageProblem: (image) => {
        const docker = (args: string[], timeout: number) =>
            execFileSync("docker", args, { stdio: ["ignore", "pipe", "pipe"], timeout, encoding: "utf8" });
        try {
            docker(["image", "inspect", "--format", "{{.Id}}", image], 30_000);
            return undefined;
        } catch {
            try {
                docker(["pull", "--quiet", image], PULL_TIMEOUT_MS);
                return undefined;
            } catch (err) {
                const msg = String((err as { stderr?: string }).stderr ?? (err as Error).message)
                    .trim()
                    .split("\n")
                    .pop();
                return `the Docker engine has no image "${image}" and cannot pull it (${msg})`;
            }
        }
    },
};

/**
 * agent.secrets set without --secret: Pulumi lists a config key among its secret keys
 * (PULUMI_CONFIG_SECRET_KEYS, which the language host passes to the program) when a value
 * in it is encrypted, so a project's agent key missing from them means every secret in it
 * is plain text in Pulumi.<stack>.yaml (pure).
 */
export function plainSecretsProblem(cfg: StackConfig, project: string, secretKeys: string[]): string | undefined {
    const names = Object.keys(cfg.agent.secrets);
    if (names.length === 0 || secretKeys.includes(`${project}:agent`)) return undefined;
    return (
        `agent.secrets: ${names.join(", ")} stored in plain text in the stack's config file; set each value again with ` +
        `--secret (pulumi config set --secret --path 'agent.secrets.${names[0]}', which asks for the value), so it is encrypted there and in state`
    );
}

/** Every problem with the paths and images the config names, as "setting: what is wrong" lines. */
export function preflightProblems(cfg: StackConfig, projectDir: string, probe: PreflightProbe, checkImages: boolean): string[] {
    const problems: string[] = [];
    const dir = (setting: string, value: string | undefined, what: string) => {
        if (value === undefined) return undefined;
        const abs = path.resolve(projectDir, value);
        if (!probe.isDirectory(abs))
            problems.push(`${setting}: ${what} folder ${abs} does not exist (relative paths start at the project folder)`);
        return abs;
    };
    const context = dir("agent.buildContext", cfg.agent.buildContext, "the build context");
    if (context && probe.isDirectory(context) && !probe.isFile(path.join(context, "Dockerfile"))) {
        problems.push(`agent.buildContext: ${context} has no Dockerfile`);
    }
    dir("agent.knowledgeDir", cfg.agent.knowledgeDir, "the knowledge base");
    const template = path.resolve(projectDir, cfg.proxy.configTemplate);
    if (!probe.isFile(template))
        problems.push(`proxy.configTemplate: the file ${template} does not exist (relative paths start at the project folder)`);
    dir("agent.configDir", cfg.agent.configDir, "the agent config");
    if (checkImages) {
        // A pulled agent image is pulled here, before anything is declared: a version missing
        // from the registry, or a registry that does not answer, fails the update with the
        // live release untouched.
        const pulled = cfg.agent.buildContext ? undefined : agentImageRef(cfg.app, cfg.agent);
        // On Swarm the proxy image is pulled too (the manager's engine checks it); one host builds it.
        const images: [string, string | undefined][] = [
            cfg.platform === "swarm" ? ["swarm.proxyImage", cfg.swarm?.proxyImage] : ["proxy.baseImage", cfg.proxy.baseImage],
            ["agent.baseImage", cfg.agent.buildContext ? cfg.agent.baseImage : undefined],
            [cfg.agent.digest ? "agent.version / agent.digest" : "agent.version", pulled],
        ];
        for (const [setting, image] of images) {
            const problem = image === undefined ? undefined : probe.imageProblem(image);
            if (problem) problems.push(`${setting}: ${problem}`);
        }
    }
    return problems;
}
