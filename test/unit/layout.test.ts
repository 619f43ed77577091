// The layout's rule (docs/architecture.md): a module imports from its own folder or from a
// folder of a lower layer, and no import chain comes back to where it started. The layers
// are read from the document's table, so the document and the code cannot drift apart.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const SKIPPED = new Set(["node_modules", "dist", "agent", "toolchain", "reports", ".git"]);

/** The layers of docs/architecture.md's table: folder (or file) -> layer number. */
export function layersOf(markdown: string): Map<string, number> {
    const layers = new Map<string, number>();
    for (const line of markdown.split("\n")) {
        const row = /^\|\s*(\d+)\s*\|([^|]+)\|/.exec(line);
        if (!row) continue;
        for (const name of row[2].matchAll(/`([^`]+)`/g)) layers.set(name[1], Number(row[1]));
    }
    return layers;
}

/** The relative imports of a TypeScript module (import, export ... from, import(), require()). */
export function importsOf(source: string): string[] {
    const specs: string[] = [];
    const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
    for (const m of source.matchAll(pattern)) specs.push(m[1]);
    return specs;
}

function tsFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.posix.join(dir, e.name);
        if (e.isDirectory()) return SKIPPED.has(e.name) ? [] : tsFiles(rel);
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
    });
}

function resolve(from: string, spec: string): string | undefined {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    return [`${base}.ts`, `${base}/index.ts`].find((f) => fs.existsSync(path.join(ROOT, f)));
}

/** The folder (or top-level file) of the table that holds a file: the longest match. */
function unitOf(file: string, layers: Map<string, number>): string | undefined {
    return [...layers.keys()].filter((u) => file === u || file.startsWith(`${u}/`)).sort((a, b) => b.length - a.length)[0];
}

/** Every import that breaks the rule, as "from -> to (why)". */
export function layerViolations(graph: Map<string, string[]>, layers: Map<string, number>): string[] {
    const out: string[] = [];
    for (const [file, targets] of graph) {
        const unit = unitOf(file, layers);
        for (const target of targets) {
            const to = unitOf(target, layers);
            if (!unit || !to || unit === to) continue;
            const [a, b] = [layers.get(unit)!, layers.get(to)!];
            if (b > a) out.push(`${file} -> ${target} (layer ${a} imports layer ${b})`);
            else if (b === a) out.push(`${file} -> ${target} (${unit} and ${to} are of the same layer)`);
        }
    }
    return out;
}

/** The import cycles of a graph (its strongly connected components of more than one file, or a file importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
    let index = 0;
    const idx = new Map<string, number>(),
        low = new Map<string, number>(),
        stack: string[] = [],
        on = new Set<string>();
    const found: string[][] = [];
    const visit = (v: string): void => {
        idx.set(v, index);
        low.set(v, index++);
        stack.push(v);
        on.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!idx.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        }
        if (low.get(v) === idx.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                on.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
        }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    return found;
}

function projectGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const file of tsFiles(".").map((f) => f.replace(/^\.\//, ""))) {
        const source = fs.readFileSync(path.join(ROOT, file), "utf8");
        graph.set(
            file,
            importsOf(source)
                .map((s) => resolve(file, s))
                .filter((f): f is string => f !== undefined),
        );
    }
    return graph;
}

describe("layout (docs/architecture.md)", () => {
    const layers = layersOf(fs.readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8"));
    const graph = projectGraph();

    it("names every folder of TypeScript in its table", () => {
        expect(layers.size).to.be.greaterThan(10);
        const unnamed = [...graph.keys()].filter((f) => !unitOf(f, layers));
        expect(unnamed, "files in no layer of docs/architecture.md").to.deep.equal([]);
    });

    it("has no import that points up or sideways", () => {
        expect(layerViolations(graph, layers)).to.deep.equal([]);
    });

    it("has no import cycle", () => {
        expect(cycles(graph).map((c) => c.join(" <-> "))).to.deep.equal([]);
    });

    it("catches an upward import, a sideways one and a cycle in a made-up graph", () => {
        const made = new Map([
            ["core/a.ts", ["config/b.ts"]],
            ["config/b.ts", ["core/a.ts"]],
            ["platform/swarm/s.ts", ["platform/docker/d.ts"]],
            ["platform/docker/d.ts", ["core/c.ts"]],
            ["core/c.ts", []],
        ]);
        const madeLayers = layersOf("| 0 | `core` |\n| 1 | `config` |\n| 7 | `platform/docker`, `platform/swarm` |");
        expect(layerViolations(made, madeLayers)).to.deep.equal([
            "core/a.ts -> config/b.ts (layer 0 imports layer 1)",
            "platform/swarm/s.ts -> platform/docker/d.ts (platform/swarm and platform/docker are of the same layer)",
        ]);
        expect(cycles(made)).to.deep.equal([["config/b.ts", "core/a.ts"]]);
    });

    it("reads every kind of relative import", () => {
        const src =
            'import a from "./a";\nimport type { B } from "../b";\nexport { c } from "./c";\nimport "./d";\nconst e = require("./e");\nconst f = await import("./f");\nimport * as z from "zod";';
        expect(importsOf(src)).to.deep.equal(["./a", "../b", "./c", "./d", "./e", "./f"]);
    });
});
