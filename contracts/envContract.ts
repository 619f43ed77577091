// The typed contract between a Pulumi command resource and the program it runs. The
// program's input is a zod schema; the component encodes it into environment
// variables (one per leaf setting, named after it: verifyWindowSeconds ->
// VERIFY_WINDOW_SECONDS, so each setting is its own line in a preview diff) and the
// program decodes them with the same schema. Nobody else spells a variable name.
import type { Input } from "@pulumi/pulumi";
import { z } from "zod";
import { type AnyObject, leafPaths, leafSchema } from "../core/schemaPaths";

/** The schema's input shape with every leaf allowed to be a Pulumi Input (a container name known at deploy time). */
export type EnvInputs<T> = {
    [K in keyof T]: NonNullable<T[K]> extends Record<string, unknown>
        ? EnvInputs<NonNullable<T[K]>> | Extract<T[K], undefined>
        : T[K] | Input<Exclude<T[K], undefined>>;
};

type Tree = { [key: string]: Tree | unknown };

/**
 * Variables the program's process and its tools live by: a setting named after one would
 * replace it (a health `path` leaf became PATH, and the command's shell found no node).
 */
const PROCESS_VARIABLES = new Set([
    "PATH",
    "HOME",
    "USER",
    "SHELL",
    "PWD",
    "LANG",
    "TERM",
    "TMPDIR",
    "HOSTNAME",
    "NODE_OPTIONS",
    "NODE_PATH",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
]);

export function isProcessVariable(name: string): boolean {
    return PROCESS_VARIABLES.has(name) || name.startsWith("PULUMI_");
}

/** upperSnake("maxErrorRatePercent") === "MAX_ERROR_RATE_PERCENT" */
export function upperSnake(key: string): string {
    return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export class EnvContract<S extends AnyObject> {
    constructor(
        /** Who reads it, for error messages ("traffic switch"). */
        readonly reader: string,
        readonly schema: S,
    ) {}

    /** The variable of a top-level setting (for a shell line that reads it); throws for a setting the schema lacks. */
    variableOf(key: string): string {
        const found = this.variables().find(([p]) => p.length === 1 && p[0] === key);
        if (!found) throw new Error(`${this.reader} contract: no setting ${key}`);
        return found[1];
    }

    /** Leaf settings as [path, variable name]; names are unique across nesting levels. */
    variables(): [string[], string][] {
        const out = leafPaths(this.schema).map((p): [string[], string] => [p, upperSnake(p[p.length - 1])]);
        const names = out.map(([, n]) => n);
        const twice = names.filter((n, i) => names.indexOf(n) !== i);
        if (twice.length > 0) throw new Error(`${this.reader} contract: settings ${twice.join(", ")} would share a variable name`);
        const taken = names.filter(isProcessVariable);
        if (taken.length > 0)
            throw new Error(
                `${this.reader} contract: settings ${taken.join(", ")} would replace a variable the program's process needs; rename them`,
            );
        return out;
    }

    /** The variable that carries the setting at `path` (for readers of a preview, such as the policy pack). */
    variable(...path: string[]): string {
        const found = this.variables().find(([p]) => p.join(".") === path.join("."));
        if (!found) throw new Error(`${this.reader} contract has no setting ${path.join(".")}`);
        return found[1];
    }

    /** Environment for the command resource: every leaf present in `value`, numbers and booleans as strings, lists as JSON. */
    encode(value: EnvInputs<z.input<S>>): Record<string, Input<string>> {
        const env: Record<string, Input<string>> = {};
        for (const [path, name] of this.variables()) {
            const leaf = path.reduce<unknown>((o, k) => (o === undefined || o === null ? undefined : (o as Tree)[k]), value);
            if (leaf === undefined) continue;
            env[name] =
                typeof leaf === "number" || typeof leaf === "boolean"
                    ? String(leaf)
                    : Array.isArray(leaf)
                      ? JSON.stringify(leaf)
                      : (leaf as Input<string>);
        }
        return env;
    }

    /** The program's side: the environment back into the typed input, or an error naming every bad variable. */
    decode(env: Record<string, string | undefined>): z.output<S> {
        const raw: Tree = {};
        for (const [path, name] of this.variables()) {
            if (env[name] === undefined || env[name] === "") continue;
            let o = raw;
            for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Tree;
            o[path[path.length - 1]] = leafSchema(this.schema, path) instanceof z.ZodArray ? jsonOr(env[name]) : env[name];
        }
        const parsed = this.schema.safeParse(raw);
        if (!parsed.success) {
            const vars = this.variables();
            // An issue inside a list (canary.steps.1.weight) belongs to the list's variable.
            const variableOf = (p: PropertyKey[]) => {
                const found = vars.find(([v]) => v.join(".") === p.slice(0, v.length).join("."));
                return found ? found[1] + (p.length > found[0].length ? `[${p.slice(found[0].length).join(".")}]` : "") : p.join(".");
            };
            const lines = parsed.error.issues.map((i) => `${variableOf(i.path)}: ${i.message}`);
            throw new Error(`${this.reader}: invalid environment\n  ${lines.join("\n  ")}`);
        }
        return parsed.data;
    }
}

/** A list variable's JSON, or the text itself when it is not JSON (the schema then names what is wrong). */
function jsonOr(text: string | undefined): unknown {
    try {
        return JSON.parse(text ?? "");
    } catch {
        return text;
    }
}
