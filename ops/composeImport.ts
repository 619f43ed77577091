// A docker-compose service into stack settings (pure): what a user's compose file says
// about their agent (image, port, volumes, environment, restart, health check, memory),
// as the `pulumi config set --path` settings of the stack config, and everything it
// cannot carry over, each with why and what to do instead. Nothing is written when
// anything is refused (ops/importCompose.ts).

export interface Imported {
    /** The service read. */
    service: string;
    /** [setting path, value] in the order they are set. */
    settings: [string, string][];
    /** What cannot be carried over, one sentence each. */
    refused: string[];
    /** What was left out on purpose (the release does it its own way). */
    notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Variables whose values are secrets: they belong in agent.secrets, never in plain config. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIALS?)$/i;
const VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Compose durations ("10s", "1m30s", "500ms") in whole seconds (at least 1). */
export function durationSeconds(d: unknown): number | undefined {
    if (typeof d === "number") return Math.max(1, Math.round(d));
    if (typeof d !== "string") return undefined;
    let total = 0;
    const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== d) return undefined;
    for (const [, n, unit] of parts) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as "ms" | "s" | "m" | "h"];
    return Math.max(1, Math.round(total));
}

/** Compose byte sizes ("512m", "2g", "1024M", a number of bytes) in MB. */
export function sizeMb(v: unknown): number | undefined {
    if (typeof v === "number") return Math.round(v / 2 ** 20);
    const m = typeof v === "string" ? /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(v.trim()) : null;
    if (!m) return undefined;
    const factor = { "": 1 / 2 ** 20, b: 1 / 2 ** 20, k: 1 / 1024, m: 1, g: 1024 }[m[2].toLowerCase() as "" | "b" | "k" | "m" | "g"];
    return Math.round(Number(m[1]) * factor);
}

export function importService(doc: unknown, wanted?: string): Imported {
    const out: Imported = { service: wanted ?? "", settings: [], refused: [], notes: [] };
    const services = isObj(doc) && isObj(doc.services) ? doc.services : undefined;
    if (!services) return { ...out, refused: ["the file has no services: is it a docker-compose file?"] };
    const names = Object.keys(services);
    const name = wanted ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined)
        return { ...out, refused: [`the file has several services (${names.join(", ")}): say which is the agent with --service`] };
    const svc = services[name];
    if (!isObj(svc)) return { ...out, refused: [`no service "${name}" in the file (it has ${names.join(", ")})`] };
    out.service = name;
    const set = (path: string, value: string | number) => out.settings.push([path, String(value)]);
    const refuse = (key: string, why: string) => out.refused.push(`${key}: ${why}`);

    for (const [key, value] of Object.entries(svc)) {
        switch (key) {
            case "image":
                image(String(value), set, refuse);
                break;
            case "build": {
                const context = typeof value === "string" ? value : isObj(value) ? value.context : undefined;
                if (typeof context === "string") set("agent.buildContext", context);
                else refuse("build", "only a build context (a folder) carries over, as agent.buildContext");
                break;
            }
            case "ports":
                ports(value, set, refuse);
                break;
            case "volumes":
                volumes(value, set, refuse);
                break;
            case "environment":
                environment(value, set, refuse);
                break;
            case "restart":
                if (["no", "on-failure", "always", "unless-stopped"].includes(String(value))) set("agent.restart", String(value));
                else refuse("restart", `"${String(value)}" is not one of no, on-failure, always, unless-stopped`);
                break;
            case "healthcheck":
                healthcheck(value, set, refuse);
                break;
            case "mem_limit": {
                const mb = sizeMb(value);
                if (mb === undefined) refuse("mem_limit", `"${String(value)}" is not a size such as 512m or 2g`);
                else set("agent.memoryMb", mb);
                break;
            }
            case "deploy":
                deploy(value, set, refuse);
                break;
            case "container_name":
                out.notes.push("container_name: left out: every release's container is named by its release id, so two can run at once");
                break;
            case "networks":
            case "expose":
                out.notes.push(`${key}: left out: the agent sits on the app's private network, reached only through the proxy`);
                break;
            default:
                refuse(
                    key,
                    "not carried over: a release runs the image's own command and settings (docs/configuration.md lists what it takes); build it into the image, or remove it",
                );
        }
    }
    if (!("image" in svc) && !("build" in svc))
        refuse("image", "the service has no image: a release needs one (agent.image and agent.version)");
    return out;
}

type Set = (path: string, value: string | number) => void;
type Refuse = (key: string, why: string) => void;

function image(ref: string, set: Set, refuse: Refuse): void {
    const [named, digest] = ref.split("@");
    const m = /^(.*?)(?::([^/:]+))?$/.exec(named)!;
    const [, repo, tag] = m;
    if (!tag || !VERSION.test(tag)) {
        refuse(
            "image",
            `"${ref}" is not tagged with a version (such as 2.5.0 or v2.5.0): a release is a version (agent.version); tag the image with one`,
        );
        return;
    }
    set("agent.image", repo);
    set("agent.version", tag);
    if (digest) set("agent.digest", digest);
}

function ports(value: unknown, set: Set, refuse: Refuse): void {
    const list = Array.isArray(value) ? value : [];
    if (list.length !== 1) {
        refuse("ports", `${list.length} ports published: the proxy publishes one port, the agent's HTTP port behind it`);
        return;
    }
    const p = list[0];
    const [ip, host, container] = isObj(p)
        ? [p.host_ip, p.published, p.target]
        : ((s: string[]) => (s.length === 3 ? s : [undefined, ...s]))(
              String(p)
                  .replace(/\/tcp$/, "")
                  .split(":"),
          );
    if (!host || !container || !/^\d+$/.test(String(host)) || !/^\d+$/.test(String(container))) {
        refuse("ports", `"${isObj(p) ? JSON.stringify(p) : String(p)}" is not "host:container" with fixed port numbers`);
        return;
    }
    set("proxy.port", String(host));
    set("agent.port", String(container));
    if (ip) set("proxy.listenAddress", String(ip));
}

function volumes(value: unknown, set: Set, refuse: Refuse): void {
    let knowledge = false;
    let mounts = 0;
    for (const v of Array.isArray(value) ? value : []) {
        const [source, target, mode] = isObj(v) ? [v.source, v.target, v.read_only ? "ro" : "rw"] : String(v).split(":");
        if (typeof source !== "string" || typeof target !== "string" || !/^[./~]/.test(source)) {
            refuse(
                "volumes",
                `"${isObj(v) ? JSON.stringify(v) : String(v)}": only host folders or files (a path) carry over, not named volumes`,
            );
            continue;
        }
        if (target === "/app/config") set("agent.configDir", source);
        else if (!knowledge && /knowledge/i.test(target)) {
            knowledge = true;
            set("agent.knowledgeDir", source);
            set("agent.knowledgePath", target);
        } else {
            set(`agent.mounts[${mounts}].source`, source);
            set(`agent.mounts[${mounts}].target`, target);
            if (mode !== "ro") set(`agent.mounts[${mounts}].readOnly`, "false");
            mounts++;
        }
    }
}

function environment(value: unknown, set: Set, refuse: Refuse): void {
    const pairs: [string, string][] = Array.isArray(value)
        ? value.map((e) => {
              const s = String(e);
              const i = s.indexOf("=");
              return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
          })
        : isObj(value)
          ? Object.entries(value).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)])
          : [];
    for (const [name, v] of pairs) {
        if (SECRET_NAME.test(name))
            refuse(
                `environment.${name}`,
                `a secret: set it with pulumi config set --secret --path 'agent.secrets.${name}' (it asks for the value)`,
            );
        else if (name === "LLM_PROVIDER") set("agent.llm.provider", v);
        else if (name === "LLM_BASE_URL") set("agent.llm.baseUrl", v);
        else if (name === "LLM_MODEL") set("agent.llm.model", v);
        else if (name === "PORT")
            continue; // the release sets it from agent.port
        else set(`agent.env.${name}`, v);
    }
}

function healthcheck(value: unknown, set: Set, refuse: Refuse): void {
    if (!isObj(value)) return;
    const test = Array.isArray(value.test) ? value.test.map(String) : typeof value.test === "string" ? ["CMD-SHELL", value.test] : [];
    if (value.disable === true || test[0] === "NONE") {
        set("agent.health.docker", "none");
        return;
    }
    const line = test.slice(1).join(" ");
    const url = /https?:\/\/(?:localhost|127\.0\.0\.1)(?::\d+)?(\/[^\s"']*)?/.exec(line);
    if (!/\bcurl\b/.test(line) || !url) {
        refuse(
            "healthcheck.test",
            `"${line}" is not a curl of the agent's HTTP path: the proxy checks health by path (agent.health.path); use the image's HEALTHCHECK (agent.health.docker image) for a check of your own`,
        );
        return;
    }
    set("agent.health.path", url[1] ?? "/");
    for (const [key, setting] of [
        ["interval", "intervalSeconds"],
        ["timeout", "timeoutSeconds"],
        ["start_period", "startPeriodSeconds"],
    ] as const) {
        if (value[key] === undefined) continue;
        const s = durationSeconds(value[key]);
        if (s === undefined) refuse(`healthcheck.${key}`, `"${String(value[key])}" is not a duration such as 10s or 1m30s`);
        else set(`agent.health.${setting}`, s);
    }
    if (value.retries !== undefined) set("agent.health.retries", String(value.retries));
}

function deploy(value: unknown, set: Set, refuse: Refuse): void {
    if (!isObj(value)) return;
    for (const [key, v] of Object.entries(value)) {
        if (key !== "resources" || !isObj(v)) {
            refuse(`deploy.${key}`, "not carried over: replicas and placement are platform: swarm settings (docs/swarm.md)");
            continue;
        }
        for (const [kind, r] of Object.entries(v)) {
            if (kind === "limits" && isObj(r)) {
                for (const [limit, amount] of Object.entries(r)) {
                    const mb = limit === "memory" ? sizeMb(amount) : undefined;
                    if (mb !== undefined) set("agent.memoryMb", mb);
                    else if (limit === "cpus" && /^\d+(\.\d+)?$/.test(String(amount))) set("agent.cpus", String(amount));
                    else refuse(`deploy.resources.limits.${limit}`, "only memory and cpus limits carry over (agent.memoryMb, agent.cpus)");
                }
            } else if (kind === "reservations" && isObj(r) && Array.isArray(r.devices) && Object.keys(r).length === 1) {
                gpus(r.devices, set, refuse);
            } else refuse(`deploy.resources.${kind}`, "not carried over: only limits (memory, cpus) and GPU devices are");
        }
    }
}

/** A GPU reservation as agent.gpus: all of them, a count, or named devices. */
function gpus(devices: unknown[], set: Set, refuse: Refuse): void {
    const [d] = devices;
    const caps = isObj(d) && Array.isArray(d.capabilities) ? d.capabilities.map(String) : [];
    if (devices.length !== 1 || !isObj(d) || !caps.includes("gpu")) {
        refuse("deploy.resources.reservations.devices", "only one GPU reservation (capabilities: [gpu]) carries over, as agent.gpus");
        return;
    }
    if (Array.isArray(d.device_ids)) set("agent.gpus", `device=${d.device_ids.map(String).join(",")}`);
    else if (d.count === "all" || d.count === undefined) set("agent.gpus", "all");
    else set("agent.gpus", String(d.count));
}

/** The settings as the nested raw config `parseConfig` reads (paths like agent.mounts[0].source). */
export function rawSettings(settings: [string, string][]): Record<string, unknown> {
    const root: Record<string, unknown> = {};
    for (const [path, value] of settings) {
        const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== "");
        let node = root as Record<string, unknown>;
        keys.forEach((k, i) => {
            if (i === keys.length - 1) node[k] = value;
            else node = (node[k] ??= /^\d+$/.test(keys[i + 1]) ? [] : {}) as Record<string, unknown>;
        });
    }
    return root;
}
