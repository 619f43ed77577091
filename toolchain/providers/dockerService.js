// The local docker provider's Service: a Docker Swarm service with the inputs of
// @pulumi/docker 4.x (docker:index/service:Service) that the Swarm platform uses, created
// through the manager's `docker` CLI. As the official provider (terraform-provider-docker,
// which pulumi-docker bridges): with `convergeConfig` a create or update waits until every
// task runs (polled every second; the official's `delay` before the first poll is not
// waited), and a service that does not converge in time is deleted and the create fails
// naming it; without it, nothing is awaited. Inputs it does not implement are rejected at
// check time; an update it cannot apply in place is refused in the preview.
"use strict";

const { unwrap, changedKeys } = require("./lib");
const { docker, sleep, unsupported, healthArgs, withEnvFile } = require("./dockerCli");

const INPUTS = new Set(["name", "labels", "taskSpec", "mode", "endpointSpec", "convergeConfig", "updateConfig"]);
const TASK_SPEC = new Set(["containerSpec", "networksAdvanceds", "placement", "resources", "restartPolicy"]);
const CONTAINER_SPEC = new Set([
    "image",
    "env",
    "labels",
    "args",
    "commands",
    "healthcheck",
    "stopGracePeriod",
    "stopSignal",
    "mounts",
    "user",
    "dir",
    "hostname",
]);
/** @type {[string, (i: any) => any, Set<string>][]} */
const NESTED = [
    ["taskSpec.", (i) => i.taskSpec, TASK_SPEC],
    ["taskSpec.containerSpec.", (i) => i.taskSpec && i.taskSpec.containerSpec, CONTAINER_SPEC],
    ["taskSpec.placement.", (i) => i.taskSpec && i.taskSpec.placement, new Set(["constraints", "prefs", "maxReplicas"])],
    ["taskSpec.resources.", (i) => i.taskSpec && i.taskSpec.resources, new Set(["limits"])],
    [
        "taskSpec.resources.limits.",
        (i) => i.taskSpec && i.taskSpec.resources && i.taskSpec.resources.limits,
        new Set(["memoryBytes", "nanoCpus"]),
    ],
    ["taskSpec.restartPolicy.", (i) => i.taskSpec && i.taskSpec.restartPolicy, new Set(["condition", "delay", "maxAttempts", "window"])],
    ["mode.", (i) => i.mode, new Set(["replicated", "global"])],
    ["endpointSpec.", (i) => i.endpointSpec, new Set(["mode", "ports"])],
    ["convergeConfig.", (i) => i.convergeConfig, new Set(["delay", "timeout"])],
    ["updateConfig.", (i) => i.updateConfig, new Set(["parallelism", "delay", "failureAction", "monitor", "maxFailureRatio", "order"])],
];
/** What an update changes in place here (`docker service update`); any other change is refused. */
const IN_PLACE = ["replicas", "image", "labels", "convergeConfig", "updateConfig"];

/** Go durations as the official inputs give them ("10s", "1m30s", "500ms") in milliseconds. */
function durationMs(text, fallback) {
    if (!text) return fallback;
    let ms = 0;
    for (const [, n, unit] of String(text).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
        ms += Number(n) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[unit];
    return ms || fallback;
}

function replicasOf(i) {
    return i.mode && i.mode.global ? undefined : ((i.mode && i.mode.replicated && i.mode.replicated.replicas) ?? 1);
}

function createArgs(i, envFile) {
    const c = i.taskSpec.containerSpec;
    const a = ["service", "create", "--detach", "--name", i.name];
    if (envFile) a.push("--env-file", envFile);
    for (const l of i.labels || []) a.push("--label", `${l.label}=${l.value}`);
    for (const l of c.labels || []) a.push("--container-label", `${l.label}=${l.value}`);
    for (const n of i.taskSpec.networksAdvanceds || [])
        a.push("--network", (n.aliases || []).length ? `name=${n.name},alias=${n.aliases.join(",alias=")}` : n.name);
    for (const m of c.mounts || [])
        a.push("--mount", `type=${m.type || "volume"},source=${m.source},target=${m.target}${m.readOnly ? ",readonly" : ""}`);
    for (const con of (i.taskSpec.placement || {}).constraints || []) a.push("--constraint", con);
    // As the official provider: each prefs string is a spread descriptor, whole (SpreadOver.SpreadDescriptor).
    for (const pref of (i.taskSpec.placement || {}).prefs || []) a.push("--placement-pref", `spread=${pref}`);
    if ((i.taskSpec.placement || {}).maxReplicas) a.push("--replicas-max-per-node", String(i.taskSpec.placement.maxReplicas));
    const limits = (i.taskSpec.resources || {}).limits || {};
    if (limits.memoryBytes) a.push("--limit-memory", String(limits.memoryBytes));
    if (limits.nanoCpus) a.push("--limit-cpu", String(limits.nanoCpus / 1e9));
    const r = i.taskSpec.restartPolicy;
    if (r) {
        if (r.condition) a.push("--restart-condition", r.condition);
        if (r.delay) a.push("--restart-delay", r.delay);
        if (r.maxAttempts !== undefined) a.push("--restart-max-attempts", String(r.maxAttempts));
        if (r.window) a.push("--restart-window", r.window);
    }
    if (i.mode && i.mode.global) a.push("--mode", "global");
    else a.push("--replicas", String(replicasOf(i)));
    if (i.endpointSpec && i.endpointSpec.mode) a.push("--endpoint-mode", i.endpointSpec.mode);
    for (const p of (i.endpointSpec || {}).ports || [])
        a.push(
            "--publish",
            `mode=${p.publishMode || "ingress"},target=${p.targetPort},${p.publishedPort ? `published=${p.publishedPort},` : ""}protocol=${p.protocol || "tcp"}`,
        );
    a.push(...updateArgs(i.updateConfig));
    a.push(...healthArgs(c.healthcheck));
    if (c.stopGracePeriod) a.push("--stop-grace-period", c.stopGracePeriod);
    if (c.stopSignal) a.push("--stop-signal", c.stopSignal);
    if (c.user) a.push("--user", c.user);
    if (c.dir) a.push("--workdir", c.dir);
    if (c.hostname) a.push("--hostname", c.hostname);
    if (c.commands && c.commands.length) a.push("--entrypoint", c.commands.join(" "));
    a.push(c.image, ...(c.args || []));
    return a;
}

function updateArgs(u) {
    if (!u) return [];
    const a = [];
    if (u.parallelism !== undefined) a.push("--update-parallelism", String(u.parallelism));
    if (u.delay) a.push("--update-delay", u.delay);
    if (u.failureAction) a.push("--update-failure-action", u.failureAction);
    if (u.monitor) a.push("--update-monitor", u.monitor);
    if (u.maxFailureRatio) a.push("--update-max-failure-ratio", u.maxFailureRatio);
    if (u.order) a.push("--update-order", u.order);
    return a;
}

/** The service's tasks that should run, and how many of them do. */
async function taskStates(name) {
    const { stdout } = await docker([
        "service",
        "ps",
        name,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.CurrentState}}|{{.Error}}",
    ]);
    const rows = stdout.split("\n").filter(Boolean);
    return {
        wanted: rows.length,
        running: rows.filter((r) => r.startsWith("Running")).length,
        errors: rows.map((r) => r.split("|")[1]).filter(Boolean),
    };
}

/** The official converge: poll until every task runs (a replicated service: its replicas), within the timeout. */
async function converge(i) {
    const deadline = Date.now() + durationMs(i.convergeConfig.timeout, 180000);
    const want = replicasOf(i);
    let last = { wanted: 0, running: 0, errors: [] };
    for (;;) {
        last = await taskStates(i.name);
        if (last.running > 0 && last.running === last.wanted && (want === undefined || last.running === want)) return;
        if (Date.now() > deadline) {
            const errors = last.errors.length ? `; task errors: ${[...new Set(last.errors)].join("; ")}` : "";
            throw new Error(
                `Service ${i.name} did not converge after ${i.convergeConfig.timeout || "3m"}: ${last.running} of ${want ?? last.wanted} tasks running${errors}`,
            );
        }
        await sleep(1000);
    }
}

async function remove(name) {
    await docker(["service", "rm", name]).catch((err) => {
        if (!/not found|no such service/i.test(err.message)) throw err;
    });
}

function envList(c) {
    return Object.entries(c.env || {}).map(([k, v]) => `${k}=${v}`);
}

const service = {
    check: (news) => {
        const i = unwrap(news);
        const failures = unsupported(news, INPUTS);
        for (const [prefix, get, allowed] of NESTED) if (get(i)) failures.push(...unsupported(get(i), allowed, prefix));
        if (!i.name) failures.push({ property: "name", reason: "name is required (the local provider does not generate names)" });
        if (!i.taskSpec || !i.taskSpec.containerSpec || !i.taskSpec.containerSpec.image)
            failures.push({ property: "taskSpec.containerSpec.image", reason: "taskSpec.containerSpec.image is required" });
        if (i.mode && i.mode.global && i.mode.replicated)
            failures.push({ property: "mode", reason: "mode: global and replicated conflict" });
        if (i.mode && i.mode.global && i.convergeConfig)
            failures.push({
                property: "convergeConfig",
                reason: "convergeConfig cannot be used with mode: global (as the official provider)",
            });
        return { inputs: news, failures };
    },
    diff: (olds, news) => {
        const o = unwrap(olds);
        const n = unwrap(news);
        const flat = (i) => ({
            ...i,
            replicas: replicasOf(i),
            image: i.taskSpec && i.taskSpec.containerSpec && i.taskSpec.containerSpec.image,
            taskSpec: { ...(i.taskSpec || {}), containerSpec: { ...((i.taskSpec || {}).containerSpec || {}), image: undefined } },
            mode: i.mode && i.mode.global ? "global" : "replicated",
        });
        const keys = changedKeys(flat(o), flat(n), ["name", "taskSpec", "mode", "endpointSpec", ...IN_PLACE]);
        const refused = keys.filter((k) => !IN_PLACE.includes(k) && k !== "name");
        if (refused.length)
            throw new Error(
                `the local docker provider cannot update ${refused.join(", ")} of a service in place; give the service a new name (a new release) instead`,
            );
        return { changes: keys.length > 0, replaces: keys.includes("name") ? ["name"] : [], deleteBeforeReplace: false };
    },
    create: async (raw) => {
        const i = unwrap(raw);
        // Environment values (secrets among them) go through a private file, never on the command line.
        const { stdout } = await withEnvFile(envList(i.taskSpec.containerSpec), (envFile) => docker(createArgs(i, envFile)));
        const id = stdout.trim();
        if (i.convergeConfig) {
            try {
                await converge(i);
            } catch (err) {
                await remove(i.name).catch(() => undefined);
                throw err;
            }
        }
        return { id, outs: { ...raw } };
    },
    update: async (id, olds, news) => {
        const i = unwrap(news);
        const a = ["service", "update", "--detach"];
        const o = unwrap(olds);
        const image = i.taskSpec.containerSpec.image;
        if (image !== o.taskSpec.containerSpec.image) a.push("--image", image);
        if (replicasOf(i) !== undefined && replicasOf(i) !== replicasOf(o)) a.push("--replicas", String(replicasOf(i)));
        for (const l of o.labels || []) if (!(i.labels || []).some((n) => n.label === l.label)) a.push("--label-rm", l.label);
        for (const l of i.labels || []) a.push("--label-add", `${l.label}=${l.value}`);
        a.push(...updateArgs(i.updateConfig));
        await docker([...a, i.name]);
        if (i.convergeConfig) await converge(i);
        return { outs: { ...news } };
    },
    delete: async (id, props) => remove(unwrap(props).name),
};

module.exports = { service };
