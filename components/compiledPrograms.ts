// The program's modules and the programs its command resources run, as JavaScript: node
// starts them at once, where ts-node compiled every module again at every start (about 2 s
// for the program and 0.9 s for a command's program, on a 2-core machine; the profile is in
// docs/measurements.md). Each TypeScript file reached from an entry point by relative
// imports is transpiled (no type check: `npm run lint` checks the whole project) into
// dist/run/ beside the same path, only when its source, the compiler options or the
// TypeScript version changed; each output names the hash it was made from. A file is
// written beside its place and then moved there, so two updates of this checkout at once,
// or a command reading it, never see half a file. dist/ is ignored by git.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * The part of the TypeScript compiler API used here, declared here: importing typescript's
 * own types would make type-checking this file load all of them (2.5 s), and the policy
 * runtime type-checks whatever TypeScript it loads (policies/index.ts).
 */
export interface TypeScriptApi {
    version: string;
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
    recipe: string;
}

function transpiler(root: string): Transpiler {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require("typescript") as TypeScriptApi;
    const read = ts.readConfigFile(path.join(root, "tsconfig.json"), (f) => fs.readFileSync(f, "utf8"));
    if (read.error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
    const { options } = ts.convertCompilerOptionsFromJson(read.config?.compilerOptions, root);
    const settled: CompilerOptions = { ...options, sourceMap: false, inlineSourceMap: false, declaration: false, noEmit: false };
    return { ts, options: settled, recipe: `${ts.version} ${JSON.stringify(settled)}` };
}

/** Resolves a relative import of `from` (a .ts file relative to root) to the .ts file it names. */
function resolveImport(root: string, from: string, spec: string): string {
    const base = path.join(path.dirname(from), spec);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(path.join(root, candidate))) return candidate;
    throw new Error(`${from}: cannot find the module "${spec}" (${base}.ts)`);
}

/**
 * Brings dist/run/ up to date for `entries` (TypeScript files relative to `root`) and every
 * module they reach; returns the files it transpiled (none when everything was current).
 * Files in `seen` are taken as checked already (and those checked now are added to it).
 */
export function compileTree(root: string, entries: string[], t: Transpiler = transpiler(root), seen = new Set<string>()): string[] {
    const queue = [...entries];
    const written: string[] = [];
    while (queue.length > 0) {
        const file = path.normalize(queue.shift()!);
        if (seen.has(file)) continue;
        seen.add(file);
        const source = fs.readFileSync(path.join(root, file), "utf8");
        for (const spec of relativeImports(source, t.ts)) queue.push(resolveImport(root, file, spec));
        const hash = crypto.createHash("sha256").update(t.recipe).update("\0").update(source).digest("hex");
        const out = path.join(root, compiledPath(file));
        if (firstLine(out) === HEADER + hash) continue;
        const js = t.ts.transpileModule(source, { compilerOptions: t.options, fileName: file }).outputText;
        const tmp = `${out}.${process.pid}.tmp`;
        try {
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(tmp, `${HEADER}${hash}\n${js}`);
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

function firstLine(file: string): string | undefined {
    let fd: number;
    try {
        fd = fs.openSync(file, "r");
    } catch {
        return undefined;
    }
    try {
        const buf = Buffer.alloc(HEADER.length + 64);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        return buf.subarray(0, n).toString("utf8");
    } finally {
        fs.closeSync(fd);
    }
}

/** This process's project folder, transpiler and the files it has checked: each file is checked once per process. */
let session: { root: string; transpiler: Transpiler; checked: Set<string> } | undefined;

/** `entry` and what it imports, transpiled if needed; the JavaScript file's absolute path. */
function ensureCompiled(entry: string): string {
    if (!session) {
        const root = projectRoot();
        session = { root, transpiler: transpiler(root), checked: new Set() };
    }
    compileTree(session.root, [entry], session.transpiler, session.checked);
    return path.join(session.root, compiledPath(entry));
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
