// Checks of the config values that name a file, folder or image, before any resource
// is declared: a missing folder or base image fails the update naming the setting,
// instead of a stack trace, an empty folder Docker creates on the host, or a failed
// `docker build` minutes later.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { agentImageRef } from "./agentImage";
import { stackReleasePlan } from "./agentRelease";
import { readEvaluationSet } from "./evaluationSet";
import type { StackConfig } from "../config/schema";
import type { EdgeStackConfig } from "../config/edge";
import { certificateProblems } from "../core/certificates";
import { ACME_BACKEND } from "../core/proxyNames";

/** Where a check looks: the file system and the Docker engine. */
export interface PreflightProbe {
    isDirectory(p: string): boolean;
    isFile(p: string): boolean;
    readFile(p: string): string;
    /** Whether the engine has the image or can pull it; undefined if yes, else why not. */
    imageProblem(image: string): string | undefined;
    /** The engine's memory and the memory limits of the containers it runs (MB; containers without a limit are left out). */
    memory(): EngineMemory;
    /** Whether the engine has a network of this name (proxy.edgeNetwork); absent: not asked. */
    hasNetwork?(name: string): boolean;
}

export interface EngineMemory {
    totalMb: number;
    limits: { name: string; mb: number }[];
}

const PULL_TIMEOUT_MS = 180_000;

const docker = (args: string[], timeout: number) =>
    execFileSync("docker", args, { stdio: ["ignore", "pipe", "pipe"], timeout, encoding: "utf8" });

/**
 * Each running container's name and memory limit. A container that is gone between `docker ps`
 * and this (another stack's release retiring one) is left out: `docker inspect` still prints
 * the others, and exits 1 naming it ("No such object"), which is not a problem of this stack.
 */
function inspectRunning(ids: string[]): string {
    try {
        return docker(["inspect", "--format", "{{.Name}} {{.HostConfig.Memory}}", ...ids], 30_000);
    } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        const stderr = String(e.stderr ?? "");
        const onlyGone =
            stderr.trim() !== "" &&
            stderr
                .trim()
                .split("\n")
                .every((l) => /No such object/i.test(l));
        if (onlyGone) return String(e.stdout ?? "");
        throw err;
    }
}

export const hostProbe: PreflightProbe = {
    isDirectory: (p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false,
    isFile: (p) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false,
    readFile: (p) => fs.readFileSync(p, "utf8"),
    memory: () => {
        const totalMb = Math.floor(Number(docker(["info", "--format", "{{.MemTotal}}"], 30_000).trim()) / 2 ** 20);
        const ids = docker(["ps", "-q"], 30_000).split("\n").filter(Boolean);
        const lines = ids.length ? inspectRunning(ids).split("\n") : [];
        const limits = lines
            .map((l) => l.trim().split(" "))
            .filter(([, bytes]) => Number(bytes) > 0)
            .map(([name, bytes]) => ({ name: name.replace(/^\//, ""), mb: Math.round(Number(bytes) / 2 ** 20) }));
        return { totalMb, limits };
    },
    hasNetwork: (name) => {
        try {
            docker(["network", "inspect", "--format", "{{.Name}}", name], 30_000);
            return true;
        } catch {
            return false;
        }
    },
    imageProblem: (image) => {
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
export function plainSecretsProblem(
    cfg: {
        agent?: Pick<StackConfig["agent"], "secrets">;
        proxy: Pick<StackConfig["proxy"], "tls">;
        release?: Pick<StackConfig["release"], "evaluation">;
    },
    project: string,
    secretKeys: string[],
): string | undefined {
    const names = Object.keys(cfg.agent?.secrets ?? {});
    if (names.length > 0 && !secretKeys.includes(`${project}:agent`))
        return (
            `agent.secrets: ${names.join(", ")} stored in plain text in the stack's config file; set each value again with ` +
            `--secret (pulumi config set --secret --path 'agent.secrets.${names[0]}', which asks for the value), so it is encrypted there and in state`
        );
    if (cfg.proxy.tls.key !== undefined && !secretKeys.includes(`${project}:proxy`))
        return (
            `proxy.tls.key: stored in plain text in the stack's config file; set it again with --secret ` +
            `(pulumi config set --secret --path proxy.tls.key < privkey.pem), so it is encrypted there and in state`
        );
    if (cfg.release?.evaluation?.judge?.apiKey !== undefined && !secretKeys.includes(`${project}:release`))
        return (
            `release.evaluation.judge.apiKey: stored in plain text in the stack's config file; set it again with --secret ` +
            `(pulumi config set --secret --path release.evaluation.judge.apiKey, which asks for the value), so it is encrypted there and in state`
        );
    return undefined;
}

/**
 * Whether a new release fits beside what runs (pure): blue/green and a canary run the live
 * release and the new one at once, so the new one's memory limit must fit in what the
 * engine has beyond the limits of the containers it runs (the live release's among them).
 * A release whose container already runs (the same config again) needs nothing more.
 */
export function capacityProblem(memoryMb: number, containerName: () => string, engine: EngineMemory): string | undefined {
    const promised = engine.limits.reduce((sum, c) => sum + c.mb, 0);
    const free = engine.totalMb - promised;
    if (memoryMb <= free) return undefined;
    const name = containerName();
    if (engine.limits.some((c) => c.name === name)) return undefined;
    const largest = [...engine.limits]
        .sort((a, b) => b.mb - a.mb)
        .slice(0, 4)
        .map((c) => `${c.name} ${c.mb} MB`);
    return (
        `agent.memoryMb: the new release needs ${memoryMb} MB beside what runs, and the Docker engine has ${Math.max(free, 0)} MB of its ` +
        `${engine.totalMb} MB left beyond its containers' memory limits (${promised} MB${largest.length ? `: ${largest.join(", ")}` : ""}). ` +
        `A release runs beside the live one until it is verified: lower agent.memoryMb, free memory, or serve a large model from a container of its own (docs/own-agent.md)`
    );
}

/**
 * The proxy section's problems (an agent stack's and an edge stack's): its config template,
 * which must have the lines HTTPS (and, in an edge stack, the routes) go into, and the
 * certificate, which must match its key, be valid and cover the hosts.
 */
export function proxyProblems(
    proxy: Pick<StackConfig["proxy"], "configTemplate" | "tls">,
    projectDir: string,
    probe: Pick<PreflightProbe, "isFile" | "readFile">,
    now: Date,
    edge = false,
): string[] {
    const problems: string[] = [];
    const template = path.resolve(projectDir, proxy.configTemplate);
    const shown = edge ? "proxy/haproxy-edge.cfg.tmpl" : "proxy/haproxy.cfg.tmpl";
    if (!probe.isFile(template))
        problems.push(`proxy.configTemplate: the file ${template} does not exist (relative paths start at the project folder)`);
    const tls = proxy.tls;
    if (tls.mode === "certificate" && tls.certificate && tls.key)
        problems.push(...certificateProblems("proxy.tls", tls.certificate, tls.key, tls.hosts, now));
    const text = probe.isFile(template) ? probe.readFile(template) : undefined;
    if (text !== undefined && edge && !/\$\{EDGE_BACKENDS\}[\s\S]*\$\{EDGE_RULES\}/.test(text))
        problems.push(
            `proxy.configTemplate: ${template} has no \${EDGE_BACKENDS} and \${EDGE_RULES} lines (the routes' backends, then their rules in the frontend; ${shown} shows them)`,
        );
    if (tls.mode !== "off" && text !== undefined) {
        if (!/\$\{TLS_BIND\}[\s\S]*\$\{TLS_RULES\}/.test(text))
            problems.push(
                `proxy.configTemplate: ${template} has no \${TLS_BIND} and \${TLS_RULES} lines in its frontend, where HTTPS goes (${shown} shows them); add them or set proxy.tls.mode off`,
            );
        if (tls.mode === "acme" && !new RegExp(`^backend ${ACME_BACKEND}$`, "m").test(text))
            problems.push(
                `proxy.configTemplate: ${template} has no backend ${ACME_BACKEND}, where ACME's challenges go (${shown} shows it); add it or set proxy.tls.mode certificate`,
            );
    }
    return problems;
}

/** Every problem with the paths and images the config names, as "setting: what is wrong" lines. */
export function preflightProblems(
    cfg: StackConfig,
    projectDir: string,
    probe: PreflightProbe,
    checkImages: boolean,
    now = new Date(),
): string[] {
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
    problems.push(...proxyProblems(cfg.proxy, projectDir, probe, now));
    dir("agent.configDir", cfg.agent.configDir, "the agent config");
    if (cfg.release.evaluation)
        try {
            readEvaluationSet(cfg.release.evaluation, projectDir, probe.readFile);
        } catch (err) {
            problems.push((err as Error).message);
        }
    cfg.agent.mounts.forEach((m, i) => {
        const abs = path.resolve(projectDir, m.source);
        if (!probe.isDirectory(abs) && !probe.isFile(abs))
            problems.push(`agent.mounts[${i}].source: ${abs} does not exist (relative paths start at the project folder)`);
    });
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
        // Behind an edge: its network must be there (the edge stack is deployed first).
        const edge = cfg.proxy.edgeNetwork;
        if (edge && probe.hasNetwork && !probe.hasNetwork(edge))
            problems.push(
                `proxy.edgeNetwork: the Docker engine has no network ${edge}; deploy the edge stack first (its output edgeNetwork names it), or remove proxy.edgeNetwork`,
            );
        // One host: the new release must fit beside the live one (on Swarm the tasks run on
        // other nodes than the engine this program asks).
        if (cfg.platform === "docker" && problems.length === 0) {
            const capacity = capacityProblem(cfg.agent.memoryMb, () => stackReleasePlan(cfg, projectDir).containerName, probe.memory());
            if (capacity) problems.push(capacity);
        }
    }
    return problems;
}

/** An edge stack's problems (config/edge.ts): its proxy section's, and its base image. */
export function edgePreflightProblems(
    cfg: EdgeStackConfig,
    projectDir: string,
    probe: PreflightProbe,
    checkImages: boolean,
    now = new Date(),
): string[] {
    const problems = proxyProblems(cfg.proxy, projectDir, probe, now, true);
    const image = checkImages ? probe.imageProblem(cfg.proxy.baseImage) : undefined;
    if (image) problems.push(`proxy.baseImage: ${image}`);
    return problems;
}
