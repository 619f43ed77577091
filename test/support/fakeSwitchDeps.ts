// The switch's dependencies over a fake proxy (test/support/fakeProxy.ts): its admin socket
// and probes through the proxy's exec, its agents' releases, its clock; the log kept in lines.
import { HaproxyAdmin } from "../../haproxy/admin";
import { CurlProbes } from "../../haproxy/probes";
import type { SwitchDeps } from "../../engine/switch";
import { MemoryCanaryControl } from "./memoryCanaryControl";
import { FakeContainers } from "./fakeContainers";
import type { FakeProxy } from "./fakeProxy";

export function fakeSwitchDeps(
    proxy: FakeProxy,
    containers = new FakeContainers(),
): SwitchDeps & { containers: FakeContainers; lines: string[] } {
    const lines: string[] = [];
    return {
        containers,
        lines,
        canaryControl: new MemoryCanaryControl(),
        removeImage: containers.removeImage,
        admin: new HaproxyAdmin(proxy.exec, "app-proxy"),
        probes: new CurlProbes(proxy.exec, 8080),
        releaseOf: async (c) => {
            const a = proxy.agents.get(c);
            return a && { release: a.release, version: a.version };
        },
        clock: proxy.clock,
        log: (l) => lines.push(l),
        retire: async () => 0,
    };
}
