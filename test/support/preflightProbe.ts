// A preflight probe for unit tests: every path exists, each file reads as `text`, every image
// is there, the engine has memory to spare (components/preflight.ts's checks of a template).
import type { PreflightProbe } from "../../components/preflight";

export function templateProbe(text: string, extra: Partial<PreflightProbe> = {}): PreflightProbe {
    return {
        isDirectory: () => true,
        isFile: () => true,
        readFile: () => text,
        imageProblem: () => undefined,
        memory: () => ({ totalMb: 1e6, limits: [] }),
        ...extra,
    };
}
