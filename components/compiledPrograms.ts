// The program's modules and the programs its command resources run, as JavaScript: node
// starts them at once, where ts-node compiled every module again at every start (about 2 s
// for the program and 0.9 s for a command's program, on a 2-core machine; the profile is in
// docs/measurements.md). Each TypeScript file reached from an entry point by relative
// imports is transpiled (no type check: `npm run lint` checks the whole project) into
// dist/run/ beside the same path, only when its source, tsconfig.json or the TypeScript
// version changed. Each output's first line names the hash it was made from and the files
// it imports, so a run that finds everything current does not load TypeScript for it. A
// file is written beside its place and then moved there, so two updates of this checkout
// at once, or a command reading it, never see half a file. dist/ is ignored by git. The
// program itself starts here: program.js, the entry Pulumi.yaml names, runs index.ts
// through it.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * The part of the TypeScript compiler API used here, declared here: importing typescript's
 * own types would make type-checking this file load all of them (2.5 s), and the policy
 * runtime type-checks whatever TypeScript it loads (policies/index.ts).
 */
export interface TypeScriptApi {
    preProcessFile(source: string, readImportFiles?: boolean, detectJavaScriptImports?: boolean): { importedFiles: { fileName: string }[] };
    readConfigFile(file: string, read: (f: string) => string): { config?: { compilerOptions?: unknown }; error?: { messageText: unknown } };
    flattenDiagnosticMessageText(text: unknown, newLine: string): string;
    convertCompilerOptionsFromJson(json: unknown, basePath: string): { options: CompilerOptions };
    transpileModule(source: string, opts: { compilerOptions: CompilerOptions; fileName: string }): { outputText: string };
}
type CompilerOptions = Record<string, unknown>;

/** Where the transpiled tree lives, relative to the project folder. */
export const COMPILED_DIR = path.join("dist", "run");

const HEADER = "// zdt: transpiled, sha256 ";

/** The project folder: the nearest one up from `from` with a Pulumi.yaml (this file's folder by default: components/ or dist/run/components/). */
export function projectRoot(from: string = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml in ${from} or above it`);
    }
}

/** The relative imports of a module's source (import, export ... from, import(), require()). */
export function relativeImports(source: string, ts: Pick<TypeScriptApi, "preProcessFile">): string[] {
    return ts
        .preProcessFile(source, true, true)
        .importedFiles.map((f) => f.fileName)
        .filter((f) => f.startsWith("./") || f.startsWith("../"));
}

/** The JavaScript path of a TypeScript file (both relative to the project folder). */
export function compiledPath(tsFile: string): string {
    return path.join(COMPILED_DIR, tsFile.replace(/\.ts$/, ".js"));
}

interface Transpiler {
    ts: TypeScriptApi;
    options: CompilerOptions;
}

/** What an output depends on besides its source: the TypeScript version and tsconfig.json, read as text (without loading TypeScript). */
function recipeOf(root: string): string {
    const tsPackage = require.resolve("typescript/package.json", { paths: [root, __dirname] });
    const tsVersion = (JSON.parse(fs.readFileSync(tsPackage, "utf8")) as { version: string }).version;
    return `${tsVersion}\0${fs.readFileSync(path.join(root, "tsconfig.json"), "utf8")}`;
}

/** TypeScript and the project's compiler options: loaded only when a file has to be transpiled. */
function loadTranspiler(root: string): Transpiler {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require(require.resolve("typescript", { paths: [root, __dirname] })) as TypeScriptApi;
    const read = ts.readConfigFile(path.join(root, "tsconfig.json"), (f) => fs.readFileSync(f, "utf8"));
    if (read.error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
    const { options } = ts.convertCompilerOptionsFromJson(read.config?.compilerOptions, root);
    return { ts, options: { ...options, sourceMap: false, inlineSourceMap: false, declaration: false, noEmit: false } };
}

/** One project's compile state in a process: its recipe, TypeScript once loaded, the files checked. */
export interface CompileSession {
    root: string;
    recipe: string;
    transpiler?: Transpiler;
    checked: Set<string>;
}

export function compileSession(root: string): CompileSession {
    return { root, recipe: recipeOf(root), checked: new Set() };
}

/** Resolves a relative import of `from` (a .ts file relative to root) to the .ts file it names. */
function resolveImport(root: string, from: string, spec: string): string {
    const base = path.join(path.dirname(from), spec);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(path.join(root, candidate))) return candidate;
    throw new Error(`${from}: cannot find the module "${spec}" (${base}.ts)`);
}

/** The hash an output of `source` carries while it is current. */
function hashOf(recipe: string, source: string): string {
    return crypto.createHash("sha256").update(recipe).update("\0").update(source).digest("hex");
}

/** The first line of an output: the hash it was made from and the project files it imports. */
function headerOf(hash: string, imports: string[]): string {
    return `${HEADER}${hash} imports ${JSON.stringify(imports)}`;
}

function firstLine(file: string): string | undefined {
    let text: string;
    try {
        const fd = fs.openSync(file, "r");
        try {
            const buf = Buffer.alloc(16384);
            text = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
        } finally {
            fs.closeSync(fd);
        }
    } catch {
        return undefined;
    }
    const nl = text.indexOf("\n");
    return nl >= 0 ? text.slice(0, nl) : undefined;
}

/** The imports an output's first line names when it was made from `hash`; undefined when it was not, or there is none. */
function currentImports(out: string, hash: string): string[] | undefined {
    const prefix = `${HEADER}${hash} imports `;
    const line = firstLine(out);
    if (line === undefined || !line.startsWith(prefix)) return undefined;
    try {
        const imports: unknown = JSON.parse(line.slice(prefix.length));
        return Array.isArray(imports) && imports.every((f) => typeof f === "string") ? imports : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Brings dist/run/ up to date for `entries` (TypeScript files relative to `root`) and every
 * module they reach; returns the files it transpiled (none when everything was current).
 * Files the session has checked already are taken as current.
 */
export function compileTree(root: string, entries: string[], session: CompileSession = compileSession(root)): string[] {
    const queue = [...entries];
    const written: string[] = [];
    while (queue.length > 0) {
        const file = path.normalize(queue.shift()!);
        if (session.checked.has(file)) continue;
        session.checked.add(file);
        const source = fs.readFileSync(path.join(root, file), "utf8");
        const hash = hashOf(session.recipe, source);
        const out = path.join(root, compiledPath(file));
        const current = currentImports(out, hash);
        if (current) {
            queue.push(...current);
            continue;
        }
        session.transpiler ??= loadTranspiler(root);
        const { ts, options } = session.transpiler;
        const imports = relativeImports(source, ts).map((spec) => resolveImport(root, file, spec));
        queue.push(...imports);
        const js = ts.transpileModule(source, { compilerOptions: options, fileName: file }).outputText;
        const tmp = `${out}.${process.pid}.tmp`;
        try {
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(tmp, `${headerOf(hash, imports)}\n${js}`);
            fs.renameSync(tmp, out);
        } catch (err) {
            throw new Error(
                `cannot write ${path.relative(root, out)} (${(err as Error).message}): the program runs its modules from ${COMPILED_DIR}/ in the project folder, which must be writable`,
            );
        }
        written.push(file);
    }
    return written;
}

/** This process's compile session (its checkout): each file is checked once per process. */
let session: CompileSession | undefined;

/** The process's session for `root` (another folder, as in the unit tests, gets one of its own). */
function sessionFor(root: string): CompileSession {
    session ??= compileSession(root);
    return session.root === root ? session : compileSession(root);
}

/** Whether `file`'s output in dist/run/ is current (program.js asks it of this module before running it as JavaScript). */
export function isCurrent(root: string, file: string): boolean {
    const source = fs.readFileSync(path.join(root, file), "utf8");
    return currentImports(path.join(root, compiledPath(file)), hashOf(sessionFor(root).recipe, source)) !== undefined;
}

/** `entry` and what it imports, transpiled if needed; the JavaScript file's absolute path. */
function ensureCompiled(entry: string): string {
    const s = sessionFor(projectRoot());
    compileTree(s.root, [entry], s);
    return path.join(s.root, compiledPath(entry));
}

/** The command line that runs a program of a command resource (a .ts file relative to the project folder), compiled. */
export function programCommand(entry: string): string {
    ensureCompiled(entry);
    return `node ${compiledPath(entry)}`;
}

/** A module of the program, loaded as JavaScript. */
export function compiledModule<T>(entry: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(ensureCompiled(entry)) as T;
}
