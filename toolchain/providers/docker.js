#!/usr/bin/env node
// Local `docker` provider: Container, Network, Volume, Image, RemoteImage and Service
// (dockerService.js) with the inputs of @pulumi/docker 4.x that this project uses. It
// drives the `docker` CLI (dockerCli.js), so DOCKER_HOST (including ssh://) is honoured
// exactly as the CLI does.
// Inputs it does not implement are rejected at check time, never ignored.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { serve, unwrap, changedKeys, UNKNOWN } = require("./lib");
const { docker, sleep, unsupported, healthArgs, withEnvFile } = require("./dockerCli");
const { service } = require("./dockerService");

// ---- Container -------------------------------------------------------------

const CONTAINER_INPUTS = new Set([
    "name",
    "image",
    "envs",
    "command",
    "entrypoints",
    "labels",
    "volumes",
    "networksAdvanced",
    "networkMode",
    "ports",
    "healthcheck",
    "wait",
    "waitTimeout",
    "memory",
    "memorySwap",
    "memoryReservation",
    "cpuShares",
    "cpus",
    "gpus",
    "restart",
    "maxRetryCount",
    "destroyGraceSeconds",
    "stopSignal",
    "stopTimeout",
    "readOnly",
    "tmpfs",
    "user",
    "workingDir",
    "hostname",
    "uploads",
    "mustRun",
    "removeVolumes",
    "privileged",
    "logDriver",
    "logOpts",
    "init",
    "start",
]);

/** The limits and restart policy: set at create, changed in place by `docker update`. */
function resourceArgs(i) {
    const a = [];
    if (i.memory) a.push("--memory", `${i.memory}m`);
    if (i.memorySwap) a.push("--memory-swap", i.memorySwap > 0 ? `${i.memorySwap}m` : String(i.memorySwap));
    if (i.memoryReservation) a.push("--memory-reservation", `${i.memoryReservation}m`);
    if (i.cpuShares) a.push("--cpu-shares", String(i.cpuShares));
    if (i.cpus) a.push("--cpus", i.cpus);
    if (i.gpus) a.push("--gpus", i.gpus);
    const restart = i.restart || "no";
    a.push("--restart", restart === "on-failure" && i.maxRetryCount ? `on-failure:${i.maxRetryCount}` : restart);
    return a;
}

// As the official provider (terraform-provider-docker v3.9.0, which pulumi-docker 4.11.2
// bridges): these inputs change a container in place with `docker update`...
const UPDATED_BY_DOCKER = ["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "memorySwap"];
// ...these only in the state (they steer the provider, or the official update ignores
// them); every other input replaces the container.
const UPDATED_IN_STATE = [
    "wait",
    "waitTimeout",
    "mustRun",
    "start",
    "removeVolumes",
    "destroyGraceSeconds",
    "healthcheck",
    "tmpfs",
    "init",
];

/**
 * What the official provider reads back from Docker into the state. `memorySwap` is the one
 * that matters: Docker stores 2 x memory when only memory is given, and since the input is
 * not computed, a program that leaves it unset gets an in-place diff on every update.
 */
async function readBack(id, i) {
    const { stdout } = await docker(["inspect", "--format", "{{.HostConfig.MemorySwap}} {{.HostConfig.NetworkMode}}", id]);
    const [swap, networkMode] = stdout.trim().split(" ");
    const bytes = Number(swap);
    return {
        ...(bytes > 0 ? { memorySwap: Math.round(bytes / 1024 / 1024) } : bytes < 0 ? { memorySwap: bytes } : {}),
        // As given unless Docker records it otherwise (`container:<name>` becomes `container:<full id>`).
        ...(i.networkMode ? { networkMode } : {}),
    };
}

function createArgs(i, envFile) {
    const a = ["create", "--name", i.name];
    if (envFile) a.push("--env-file", envFile);
    for (const l of i.labels || []) a.push("--label", `${l.label}=${l.value}`);
    for (const v of i.volumes || []) {
        const src = v.hostPath || v.volumeName;
        a.push("--volume", `${src}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
    }
    const [firstNet] = i.networksAdvanced || [];
    if (firstNet) {
        a.push("--network", firstNet.name);
        for (const alias of firstNet.aliases || []) a.push("--network-alias", alias);
    } else if (i.networkMode) {
        a.push("--network", i.networkMode);
    }
    for (const p of i.ports || []) {
        const ip = p.ip ? `${p.ip}:` : "";
        a.push("--publish", `${ip}${p.external || ""}:${p.internal}/${p.protocol || "tcp"}`);
    }
    a.push(...healthArgs(i.healthcheck));
    a.push(...resourceArgs(i));
    if (i.stopSignal) a.push("--stop-signal", i.stopSignal);
    if (i.stopTimeout !== undefined) a.push("--stop-timeout", String(i.stopTimeout));
    if (i.readOnly) a.push("--read-only");
    for (const [p, o] of Object.entries(i.tmpfs || {})) a.push("--tmpfs", o ? `${p}:${o}` : p);
    if (i.user) a.push("--user", i.user);
    if (i.workingDir) a.push("--workdir", i.workingDir);
    if (i.hostname) a.push("--hostname", i.hostname);
    if (i.privileged) a.push("--privileged");
    if (i.init) a.push("--init");
    if (i.logDriver) a.push("--log-driver", i.logDriver);
    for (const [k, v] of Object.entries(i.logOpts || {})) a.push("--log-opt", `${k}=${v}`);
    if (i.entrypoints && i.entrypoints.length) a.push("--entrypoint", i.entrypoints[0]);
    a.push(i.image);
    if (i.entrypoints && i.entrypoints.length > 1) a.push(...i.entrypoints.slice(1));
    a.push(...(i.command || []));
    return a;
}

/** A minimal ustar archive, enough for `docker cp -` to place uploaded files. */
function tarOf(files) {
    const blocks = [];
    for (const f of files) {
        const body =
            f.contentBase64 !== undefined
                ? Buffer.from(f.contentBase64, "base64")
                : f.source !== undefined
                  ? fs.readFileSync(f.source)
                  : Buffer.from(f.content || "");
        const header = Buffer.alloc(512);
        const name = f.file.replace(/^\/+/, "");
        if (Buffer.byteLength(name) > 100) throw new Error(`upload path too long: ${f.file}`);
        header.write(name, 0);
        header.write((f.executable ? "0000755" : "0000644") + "\0", 100);
        header.write("0000000\0", 108);
        header.write("0000000\0", 116);
        header.write(body.length.toString(8).padStart(11, "0") + "\0", 124);
        header.write(
            Math.floor(Date.now() / 1000)
                .toString(8)
                .padStart(11, "0") + "\0",
            136,
        );
        header.write("        ", 148);
        header.write("0", 156);
        header.write("ustar\0" + "00", 257);
        let sum = 0;
        for (const b of header) sum += b;
        header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
        blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
}

async function inspectState(id) {
    const { stdout } = await docker(["inspect", "--format", "{{json .State}}", id]);
    return JSON.parse(stdout);
}

/** The official wait: poll until "healthy", up to waitTimeout; it does not notice a crash. */
async function waitHealthy(id, i) {
    const deadline = Date.now() + (i.waitTimeout || 60) * 1000;
    for (;;) {
        const s = await inspectState(id);
        if (!s.Health) {
            throw new Error(
                "you have supplied a 'wait' argument, but the container does not have a healthcheck defined. Please remove the 'wait' argument or add a 'healthcheck' attribute",
            );
        }
        if (s.Health.Status === "healthy") return;
        if (Date.now() > deadline) throw new Error("container failed to be in healthy state");
        await sleep(1000);
    }
}

async function removeContainer(id, i) {
    if (i.destroyGraceSeconds) {
        await docker(["stop", "--time", String(i.destroyGraceSeconds), id]).catch(() => undefined);
    }
    const args = ["rm", "--force"];
    if (i.removeVolumes !== false) args.push("--volumes");
    await docker([...args, id]).catch((err) => {
        if (!/No such container/i.test(err.message)) throw err;
    });
}

const container = {
    check: (news) => {
        const failures = unsupported(news, CONTAINER_INPUTS);
        if (!news.image) failures.push({ property: "image", reason: "image is required" });
        if (!news.name) failures.push({ property: "name", reason: "name is required (the local provider does not generate names)" });
        return { inputs: news, failures };
    },
    diff: (olds, news) => {
        const keys = changedKeys(olds, news, [...CONTAINER_INPUTS]);
        const replaces = keys.filter((k) => !UPDATED_BY_DOCKER.includes(k) && !UPDATED_IN_STATE.includes(k));
        return { changes: keys.length > 0, replaces, deleteBeforeReplace: true };
    },
    create: async (raw) => {
        const i = unwrap(raw);
        // Environment values (secrets among them) go through a private file, never on the
        // `docker create` command line that any local user can read with `ps`.
        const { stdout } = await withEnvFile(i.envs || [], (envFile) => docker(createArgs(i, envFile)));
        const id = stdout.trim();
        try {
            for (const net of (i.networksAdvanced || []).slice(1)) {
                const alias = (net.aliases || []).flatMap((a) => ["--alias", a]);
                await docker(["network", "connect", ...alias, net.name, id]);
            }
            if (i.uploads && i.uploads.length) await docker(["cp", "-", `${id}:/`], { input: tarOf(i.uploads) });
            if (i.start !== false) {
                await docker(["start", id]);
                if (!i.wait && i.mustRun !== false && !(await inspectState(id)).Running) throw new Error(`container exited immediately`);
            }
        } catch (err) {
            // As the official provider: a container that did not start is removed.
            await removeContainer(id, {}).catch(() => undefined);
            throw err;
        }
        const outs = { ...raw, ...(await readBack(id, i)), id };
        if (i.start !== false && i.wait) {
            try {
                await waitHealthy(id, i);
            } catch (err) {
                // As the official provider: the container stays, recorded in the state with
                // init errors; the next update updates it (it is not replaced by that alone).
                throw Object.assign(err, { id, properties: outs, reasons: [err.message] });
            }
        }
        return { id, outs };
    },
    update: async (id, olds, news) => {
        const i = unwrap(news);
        if (changedKeys(unwrap(olds), i, UPDATED_BY_DOCKER).length > 0) await docker(["update", ...resourceArgs(i), id]);
        return { outs: { ...news, ...(await readBack(id, i)), id } };
    },
    delete: (id, props) => removeContainer(id, unwrap(props)),
};

// ---- Network ---------------------------------------------------------------

const NETWORK_INPUTS = new Set(["name", "driver", "internal", "attachable", "labels", "options", "checkDuplicate"]);

const network = {
    check: (news) => ({ inputs: news, failures: unsupported(news, NETWORK_INPUTS) }),
    diff: (olds, news) => {
        const keys = changedKeys(olds, news, [...NETWORK_INPUTS]);
        return { changes: keys.length > 0, replaces: keys, deleteBeforeReplace: true };
    },
    create: async (raw) => {
        const i = unwrap(raw);
        const a = ["network", "create"];
        if (i.driver) a.push("--driver", i.driver);
        if (i.internal) a.push("--internal");
        if (i.attachable) a.push("--attachable");
        for (const l of i.labels || []) a.push("--label", `${l.label}=${l.value}`);
        for (const [k, v] of Object.entries(i.options || {})) a.push("--opt", `${k}=${v}`);
        const { stdout } = await docker([...a, i.name]);
        return { id: stdout.trim(), outs: { ...raw } };
    },
    delete: async (id) => {
        await docker(["network", "rm", id]).catch((err) => {
            if (!/not found|No such network/i.test(err.message)) throw err;
        });
    },
};

// ---- Volume ------------------------------------------------------------------

const VOLUME_INPUTS = new Set(["name", "driver", "driverOpts", "labels"]);

const volume = {
    check: (news) => ({ inputs: news, failures: unsupported(news, VOLUME_INPUTS) }),
    diff: (olds, news) => {
        // As the official provider: every input forces a new volume.
        const keys = changedKeys(olds, news, [...VOLUME_INPUTS]);
        return { changes: keys.length > 0, replaces: keys, deleteBeforeReplace: true };
    },
    create: async (raw) => {
        const i = unwrap(raw);
        const a = ["volume", "create"];
        if (i.driver) a.push("--driver", i.driver);
        for (const l of i.labels || []) a.push("--label", `${l.label}=${l.value}`);
        for (const [k, v] of Object.entries(i.driverOpts || {})) a.push("--opt", `${k}=${v}`);
        const { stdout } = await docker([...a, i.name]);
        return { id: stdout.trim(), outs: { ...raw } };
    },
    delete: async (id) => {
        await docker(["volume", "rm", id]).catch((err) => {
            if (!/no such volume/i.test(err.message)) throw err;
        });
    },
};

// ---- Image (build) ---------------------------------------------------------

const IMAGE_INPUTS = new Set(["imageName", "build", "skipPush", "buildOnPreview", "registry", "contextDigest"]);

function ignoreMatcher(context) {
    const file = path.join(context, ".dockerignore");
    const patterns = fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => l && !l.startsWith("#"))
        : [];
    const res = patterns.map(
        (p) =>
            new RegExp(
                "^" +
                    p
                        .replace(/^\.?\//, "")
                        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                        // A NUL stands for "**" while single stars are rewritten (no path holds one).
                        .replace(/\*\*/g, "\u0000")
                        .replace(/\*/g, "[^/]*")
                        // eslint-disable-next-line no-control-regex -- the placeholder above
                        .replace(/\u0000/g, ".*")
                        .replace(/\?/g, ".") +
                    "(/.*)?$",
            ),
    );
    return (rel) => res.some((re) => re.test(rel));
}

/** Digest of the build context (paths and contents, in sorted order) so a change of any file rebuilds. */
function contextDigest(context, dockerfile) {
    const ignored = ignoreMatcher(context);
    const hash = crypto.createHash("sha256");
    const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const full = path.join(dir, entry.name);
            const rel = path.relative(context, full).split(path.sep).join("/");
            if (ignored(rel)) continue;
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile())
                hash.update(rel + "\0")
                    .update(fs.readFileSync(full))
                    .update("\0");
        }
    };
    walk(context);
    if (dockerfile && fs.existsSync(dockerfile)) hash.update(fs.readFileSync(dockerfile));
    return "sha256:" + hash.digest("hex");
}

function buildPaths(i) {
    const b = i.build || {};
    const context = path.resolve(b.context || ".");
    const dockerfile = path.resolve(context, b.dockerfile || "Dockerfile");
    return { b, context, dockerfile };
}

async function buildImage(raw) {
    const i = unwrap(raw);
    const { b, context, dockerfile } = buildPaths(i);
    const a = ["build", "--tag", i.imageName, "--file", dockerfile];
    for (const [k, v] of Object.entries(b.args || {})) a.push("--build-arg", `${k}=${v}`);
    if (b.target) a.push("--target", b.target);
    if (b.platform) a.push("--platform", b.platform);
    await docker([...a, context], { env: { ...process.env, DOCKER_BUILDKIT: process.env.DOCKER_BUILDKIT || "0" } });
    const { stdout } = await docker(["image", "inspect", "--format", "{{.Id}}", i.imageName]);
    return {
        ...raw,
        context,
        dockerfile,
        platform: b.platform || "",
        baseImageName: i.imageName,
        repoDigest: stdout.trim(),
        registryServer: "",
    };
}

const image = {
    check: (news) => {
        const failures = unsupported(news, IMAGE_INPUTS);
        const i = unwrap(news);
        if (i.skipPush !== true)
            failures.push({
                property: "skipPush",
                reason: "no registry is used: set skipPush: true (the local provider builds images without pushing)",
            });
        const inputs = { ...news };
        if (i.build && typeof i.build.context === "string" && i.build.context !== UNKNOWN) {
            const { context, dockerfile } = buildPaths(i);
            if (!fs.existsSync(context)) failures.push({ property: "build.context", reason: `build context ${context} does not exist` });
            else inputs.contextDigest = contextDigest(context, dockerfile);
        }
        return { inputs, failures };
    },
    diff: (olds, news) => {
        const keys = changedKeys(olds, news, [...IMAGE_INPUTS]);
        return { changes: keys.length > 0, replaces: keys.includes("imageName") ? ["imageName"] : [] };
    },
    create: async (raw) => ({ id: unwrap(raw).imageName, outs: await buildImage(raw) }),
    update: async (id, olds, news) => ({ outs: await buildImage(news) }),
    // Like the official provider, deleting the resource leaves the local image in place.
};

// ---- RemoteImage -----------------------------------------------------------

const REMOTE_IMAGE_INPUTS = new Set(["name", "keepLocally", "forceRemove", "pullTriggers", "triggers", "platform"]);

const remoteImage = {
    check: (news) => ({ inputs: news, failures: unsupported(news, REMOTE_IMAGE_INPUTS) }),
    diff: (olds, news) => {
        const keys = changedKeys(olds, news, [...REMOTE_IMAGE_INPUTS]);
        const replaces = keys.filter((k) => !["keepLocally", "forceRemove"].includes(k));
        return { changes: keys.length > 0, replaces };
    },
    create: async (raw) => {
        const i = unwrap(raw);
        let found = await docker(["image", "inspect", "--format", "{{.Id}}", i.name]).catch(() => undefined);
        if (!found) {
            await docker(["pull", ...(i.platform ? ["--platform", i.platform] : []), i.name]);
            found = await docker(["image", "inspect", "--format", "{{.Id}}", i.name]);
        }
        const imageId = found.stdout.trim();
        // As the official provider: repoDigest is `repo@sha256:...` as the registry gave it ("" for a local-only image).
        const digests = await docker(["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", imageId]);
        const repo = i.name.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[^/:]+$/, "");
        const repoDigest = digests.stdout.split("\n").find((d) => d.startsWith(`${repo}@`)) ?? "";
        return { id: `${imageId}${i.name}`, outs: { ...raw, imageId, repoDigest } };
    },
    update: async (id, olds, news) => ({ outs: { ...unwrap(olds), ...news } }),
    delete: async (id, props) => {
        const i = unwrap(props);
        if (i.keepLocally) return;
        await docker(["rmi", ...(i.forceRemove ? ["--force"] : []), i.name]).catch(() => undefined);
    },
};

serve("docker", "4.11.2", {
    "docker:index/container:Container": container,
    "docker:index/network:Network": network,
    "docker:index/volume:Volume": volume,
    "docker:index/image:Image": image,
    "docker:index/remoteImage:RemoteImage": remoteImage,
    "docker:index/service:Service": service,
});
