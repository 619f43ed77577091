// The reference of the image an agent release runs, one rule for the program and its
// preflight check: the repository (default '<app>-agent'), the version as the tag, and
// the registry's content digest when agent.digest pins it.
import type { AgentConfig } from "../config/schema";

export function agentImageRef(app: string, agent: Pick<AgentConfig, "image" | "version" | "digest">): string {
    return `${agent.image ?? `${app}-agent`}:${agent.version}${agent.digest ? `@${agent.digest}` : ""}`;
}
