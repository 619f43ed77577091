// Writes a file into the proxy's state volume: through the running proxy, or, before its
// first start, through a throwaway container of its image with the volume mounted. The
// content travels on standard input only (a config template, a certificate and its key).
import { docker } from "../../docker/cli";
import { SLOT_DIR } from "../../haproxy/admin";
import type { ProxyStateTarget } from "../../contracts/proxyStateTarget";

/** Whether the proxy container runs. */
export async function proxyRunning(proxyContainer: string): Promise<boolean> {
    return (await docker(["inspect", "--format", "{{.State.Running}}", proxyContainer]).catch(() => "false")).trim() === "true";
}

/**
 * Runs `script` (a shell command reading `content` on stdin) where the state volume is
 * mounted at SLOT_DIR; resolves to whether the proxy was running (it was written through it).
 */
export async function writeProxyState(target: ProxyStateTarget, script: string, content: string): Promise<boolean> {
    if (await proxyRunning(target.proxyContainer)) {
        await docker(["exec", "-i", target.proxyContainer, "sh", "-c", script], content);
        return true;
    }
    await docker(
        ["run", "--rm", "-i", "-v", `${target.stateVolume}:${SLOT_DIR}`, "--entrypoint", "sh", target.proxyImage, "-c", script],
        content,
        60_000,
    );
    return false;
}
