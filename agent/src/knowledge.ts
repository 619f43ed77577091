// The knowledge base: Markdown/text files and JSON FAQ files under one folder,
// indexed into passages. An index is immutable; a reindex builds a new one and
// the server swaps it in atomically, so answers never come from a half-built index.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface Passage {
    file: string;
    text: string;
    terms: Map<string, number>;
}

export interface KnowledgeIndex {
    passages: Passage[];
    /** content hash of each indexed file, relative path -> sha256 */
    files: Map<string, string>;
    builtAt: string;
}

const TEXT_FILES = /\.(md|markdown|txt)$/i;
const FAQ_FILES = /\.json$/i;

const STOP_WORDS = new Set(
    "the and for are but not you your with this that from have has was were will can how what which who why when where does our any all its their them they there about into than then too very".split(
        " ",
    ),
);

export function tokenize(text: string): string[] {
    return (
        text
            .toLowerCase()
            .match(/[a-z0-9\u00c0-\u024f]+/g)
            ?.filter((t) => t.length > 2 && !STOP_WORDS.has(t)) ?? []
    );
}

function termCounts(text: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of tokenize(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
    return counts;
}

function listFiles(dir: string, base = dir): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => {
            const full = path.join(dir, e.name);
            if (e.isDirectory()) return listFiles(full, base);
            return TEXT_FILES.test(e.name) || FAQ_FILES.test(e.name) ? [path.relative(base, full).split(path.sep).join("/")] : [];
        })
        .sort();
}

/** Parses one file into passages; throws an Error naming the file if it is malformed. */
function parseFile(rel: string, content: Buffer): Passage[] {
    const text = content.toString("utf8");
    if (text.includes("\uFFFD")) throw new Error(`${rel}: not valid UTF-8`);
    if (FAQ_FILES.test(rel)) {
        let entries: unknown;
        try {
            entries = JSON.parse(text);
        } catch (err) {
            throw new Error(`${rel}: invalid JSON (${(err as Error).message})`);
        }
        if (!Array.isArray(entries) || !entries.every((e) => e && typeof e.q === "string" && typeof e.a === "string")) {
            throw new Error(`${rel}: a FAQ file must be a JSON array of {"q": string, "a": string}`);
        }
        return entries.map((e) => ({ file: rel, text: `${e.q} ${e.a}`, terms: termCounts(`${e.q} ${e.a}`) }));
    }
    const passages = text
        .split(/\n\s*\n/)
        .map((p) => p.trim())
        .filter((p) => p.length > 0);
    if (passages.length === 0) throw new Error(`${rel}: empty file`);
    return passages.map((p) => ({ file: rel, text: p.replace(/^#+\s*/gm, ""), terms: termCounts(p) }));
}

/**
 * Builds an index of `dir`. With `previous` and scope "incremental", files whose
 * content hash is unchanged keep their passages and are not parsed again.
 */
export function buildIndex(
    dir: string,
    previous?: KnowledgeIndex,
    scope: "full" | "incremental" = "full",
): KnowledgeIndex & { reparsed: string[] } {
    const files = new Map<string, string>();
    const passages: Passage[] = [];
    const reparsed: string[] = [];
    for (const rel of listFiles(dir)) {
        const content = fs.readFileSync(path.join(dir, rel));
        const hash = crypto.createHash("sha256").update(content).digest("hex");
        files.set(rel, hash);
        if (scope === "incremental" && previous?.files.get(rel) === hash) {
            passages.push(...previous.passages.filter((p) => p.file === rel));
        } else {
            passages.push(...parseFile(rel, content));
            reparsed.push(rel);
        }
    }
    if (passages.length === 0) throw new Error(`knowledge base ${dir} has no passages (expected .md, .txt or .json files)`);
    return { passages, files, builtAt: new Date().toISOString(), reparsed };
}

/** Best passage by TF-IDF: rare query words count more than common ones. */
export function search(index: KnowledgeIndex, query: string): Passage | undefined {
    const q = new Set(tokenize(query));
    const n = index.passages.length;
    const idf = new Map<string, number>();
    for (const t of q) idf.set(t, Math.log(1 + n / (1 + index.passages.filter((p) => p.terms.has(t)).length)));
    let best: Passage | undefined;
    let bestScore = 0;
    for (const p of index.passages) {
        let score = 0;
        for (const t of q) score += (p.terms.get(t) ?? 0) * (idf.get(t) ?? 0);
        if (score > bestScore) {
            best = p;
            bestScore = score;
        }
    }
    return best;
}
