// The comparison's report (pure): the JSON document, its self-contained HTML page (tables
// and server-drawn SVG plots, no script, no network) and the Markdown table the README
// quotes.
import { spread, type ReleaseRow, type Spread, type summarize } from "./summary";

export interface Latency {
    p50?: number;
    p99?: number;
    samples: number;
    failed: number;
}

export interface CompareReport {
    at: string;
    machine: string;
    command: string;
    reps: number;
    windowSeconds: number;
    summary: ReturnType<typeof summarize>;
    /** Short requests at the same rate: "direct" (an agent's own port) and through each proxy. */
    overhead: Record<string, Latency>;
    rows: ReleaseRow[];
    /** Per method that has one: wall times (ms) of its command when nothing changed (ours: `pulumi up` of an unchanged stack). */
    noChange?: Record<string, number[]>;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** "median (min-max)", or "-" when the method has no such figure. */
export function showSpread(s: Spread | undefined, unit = ""): string {
    if (!s) return "-";
    const f = (n: number) => n.toLocaleString("en-US");
    return s.min === s.max ? f(s.median) + unit : `${f(s.median)}${unit} (${f(s.min)}-${f(s.max)})`;
}

const COLUMNS: [keyof ReturnType<typeof summarize>[number]["figures"], string, string][] = [
    ["failed", "failed requests", ""],
    ["streamsTruncated", "truncated streams", ""],
    ["conversationsBroken", "broken conversations", ""],
    ["unavailableMs", "unavailable (first to last failure)", " ms"],
    ["switchMs", "switch", " ms"],
    ["wallMs", "release wall time", " ms"],
];

const ms = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)} ms`);
const signed = (v: number) => `${v < 0 ? "-" : "+"}${Math.abs(v).toFixed(2)}`;

/** The README's table: one line per method, median (spread) over the repetitions, then the latency overhead. */
export function markdownTable(r: CompareReport): string {
    const lines = [
        `| method | ${COLUMNS.map(([, label]) => label).join(" | ")} |`,
        `| --- | ${COLUMNS.map(() => "---").join(" | ")} |`,
        ...r.summary.map((m) => `| ${m.method} | ${COLUMNS.map(([k, , unit]) => showSpread(m.figures[k], unit)).join(" | ")} |`),
        "",
        "| short requests, same rate | p50 | p99 | overhead p50 / p99 |",
        "| --- | --- | --- | --- |",
        ...Object.entries(r.overhead).map(([name, o]) => {
            const d = r.overhead.direct;
            const over =
                name === "direct" || o.p50 === undefined || o.p99 === undefined || d?.p50 === undefined || d.p99 === undefined
                    ? "-"
                    : `${signed(o.p50 - d.p50)} / ${signed(o.p99 - d.p99)} ms`;
            return `| ${name} | ${ms(o.p50)} | ${ms(o.p99)} | ${over} |`;
        }),
        "",
        ...phaseTable(r.rows),
        ...besidesWindowTable(r),
    ];
    return lines.join("\n");
}

/**
 * Each method's release wall time minus the verification window (median), and beside ours
 * the same command with nothing to change: the fixed cost no release of that method goes
 * under. Empty when no method measured its no-change run.
 */
export function besidesWindowTable(r: CompareReport): string[] {
    if (!r.noChange || Object.keys(r.noChange).length === 0) return [];
    const windowMs = r.windowSeconds * 1000;
    return [
        "",
        `| besides the ${r.windowSeconds} s window | release wall time minus the window | the same command, nothing to change |`,
        "| --- | --- | --- |",
        ...r.summary
            .filter((m) => m.figures.wallMs)
            .map((m) => {
                const w = m.figures.wallMs!;
                // A method that waits no window (the naive recreate) releases in less than one.
                const besides =
                    w.min < windowMs
                        ? "- (no window)"
                        : showSpread({ median: w.median - windowMs, min: w.min - windowMs, max: w.max - windowMs }, " ms");
                const none = r.noChange?.[m.method];
                return `| ${m.method} | ${besides} | ${none?.length ? showSpread(spread(none), " ms") : "-"} |`;
            }),
    ];
}

/**
 * What our release wall time is spent on: each phase's median (spread) over the
 * repetitions, per method of ours, and the resources in the stack's state after the first
 * and the last release (does a release get slower as the state grows?).
 */
export function phaseTable(rows: ReleaseRow[]): string[] {
    const ours = rows.filter((x) => x.phasesMs);
    if (ours.length === 0) return [];
    const phases = [...new Set(ours.flatMap((x) => Object.keys(x.phasesMs!)))];
    const methods = [...new Set(ours.map((x) => x.method))];
    return [
        `| our wall time by phase | ${phases.join(" | ")} | resources in state, first -> last release |`,
        `| --- | ${phases.map(() => "---").join(" | ")} | --- |`,
        ...methods.map((m) => {
            const mine = ours.filter((x) => x.method === m);
            const state = mine.map((x) => x.stateResources).filter((n): n is number => n !== undefined);
            const cells = phases.map((ph) =>
                showSpread(spread(mine.map((x) => x.phasesMs![ph]).filter((v): v is number => v !== undefined)), " ms"),
            );
            return `| ${m} | ${cells.join(" | ")} | ${state.length ? `${state[0]} -> ${state[state.length - 1]}` : "-"} |`;
        }),
    ];
}

const COLORS = ["#c0392b", "#e67e22", "#2e86c1", "#27ae60", "#8e44ad", "#7f8c8d", "#16a085", "#d4ac0d", "#34495e"];

/** Grouped bars: one group per repetition, one bar per method, labelled with its value. */
function groupedBars(rows: ReleaseRow[], value: (r: ReleaseRow) => number, unit: string): string {
    const methods = [...new Set(rows.map((r) => r.method))];
    const reps = [...new Set(rows.map((r) => r.rep))].sort((a, b) => a - b);
    const max = Math.max(1, ...rows.map(value));
    const bw = 22,
        gap = 18,
        h = 160,
        top = 16;
    const width = 50 + reps.length * (methods.length * bw + gap);
    const bars = reps.flatMap((rep, gi) =>
        methods.map((m, mi) => {
            const row = rows.find((r) => r.rep === rep && r.method === m);
            if (!row) return "";
            const v = value(row);
            const bh = Math.max(1, (v / max) * h);
            const x = 50 + gi * (methods.length * bw + gap) + mi * bw;
            return `<rect x="${x}" y="${top + h - bh}" width="${bw - 3}" height="${bh}" fill="${COLORS[mi % COLORS.length]}"><title>${esc(m)}, repetition ${rep}: ${v}${unit}</title></rect><text x="${x + (bw - 3) / 2}" y="${top + h - bh - 3}" font-size="9" text-anchor="middle">${v}</text>`;
        }),
    );
    const labels = reps.map(
        (rep, gi) =>
            `<text x="${50 + gi * (methods.length * bw + gap) + (methods.length * bw) / 2}" y="${top + h + 14}" font-size="11" text-anchor="middle">rep ${rep}</text>`,
    );
    return `<svg width="${width}" height="${top + h + 24}" role="img"><line x1="48" y1="${top + h}" x2="${width}" y2="${top + h}" stroke="#999"/>${bars.join("")}${labels.join("")}</svg>`;
}

/** Stacked bars of our wall time by phase, one per release: what dominates, and whether it grows. */
function phaseBars(rows: ReleaseRow[]): string {
    const ours = rows.filter((r) => r.phasesMs);
    if (ours.length === 0) return "<p>No phase timings (no release of ours in this run).</p>";
    const phases = [...new Set(ours.flatMap((r) => Object.keys(r.phasesMs!)))];
    const max = Math.max(...ours.map((r) => r.wallMs));
    const bw = 34,
        h = 200,
        top = 10;
    const width = 60 + ours.length * (bw + 12) + 170;
    const bars = ours.map((r, i) => {
        let y = top + h;
        const x = 60 + i * (bw + 12);
        const parts = phases.map((p, pi) => {
            const v = r.phasesMs![p] ?? 0;
            const bh = (v / max) * h;
            y -= bh;
            return `<rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="${COLORS[pi % COLORS.length]}"><title>${esc(r.method)} ${esc(r.release)}: ${esc(p)} ${(v / 1000).toFixed(1)} s</title></rect>`;
        });
        const state = r.stateResources !== undefined ? `, ${r.stateResources} resources in state` : "";
        return `${parts.join("")}<text x="${x + bw / 2}" y="${top + h + 14}" font-size="10" text-anchor="middle"><title>${esc(r.method)} ${esc(r.release)}${state}</title>${esc(r.release.split(" -> ").pop()!)}</text><text x="${x + bw / 2}" y="${y - 3}" font-size="9" text-anchor="middle">${(r.wallMs / 1000).toFixed(0)} s</text>`;
    });
    const legend = phases.map(
        (p, pi) =>
            `<rect x="${width - 160}" y="${top + pi * 16}" width="10" height="10" fill="${COLORS[pi % COLORS.length]}"/><text x="${width - 145}" y="${top + pi * 16 + 9}" font-size="11">${esc(p)}</text>`,
    );
    return `<svg width="${width}" height="${top + h + 24}" role="img">${bars.join("")}${legend.join("")}</svg>`;
}

/** How many resources each of our stacks had in its state after each release (a retired release leaves none). */
export function stateLine(rows: ReleaseRow[]): string {
    const byMethod = new Map<string, number[]>();
    for (const r of rows) if (r.stateResources !== undefined) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r.stateResources]);
    return [...byMethod]
        .map(([m, counts]) => `<p>Resources in the state of ${esc(m)} after each release: ${counts.join(", ")}.</p>`)
        .join("\n");
}

export function renderCompareHtml(r: CompareReport): string {
    const methods = [...new Set(r.rows.map((x) => x.method))];
    const legend = methods.map((m, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632;</span> ${esc(m)}`).join(" &nbsp; ");
    const table = (md: string) => {
        const [head, , ...body] = md.split("\n");
        const cells = (l: string) =>
            l
                .split("|")
                .slice(1, -1)
                .map((c) => c.trim());
        return `<table><tr>${cells(head)
            .map((c) => `<th>${esc(c)}</th>`)
            .join("")}</tr>${body
            .map(
                (l) =>
                    `<tr>${cells(l)
                        .map((c) => `<td>${esc(c)}</td>`)
                        .join("")}</tr>`,
            )
            .join("")}</table>`;
    };
    const [releases, latency, phases] = markdownTable(r).split("\n\n");
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>bench:compare ${esc(r.at)}</title>
<style>body{font:14px sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body>
<h1>Release methods side by side</h1>
<p>${esc(r.at)} on ${esc(r.machine)}; ${r.reps} repetitions, ${r.windowSeconds} s window; <code>${esc(r.command)}</code></p>
<h2>Per method: median (spread) over the repetitions</h2>
${table(releases)}
<h2>Failed requests per release</h2><p>${legend}</p>
${groupedBars(r.rows, (x) => x.failed, " failed")}
<h2>Unavailability window per release (ms, first to last failure)</h2><p>${legend}</p>
${groupedBars(r.rows, (x) => x.unavailableMs, " ms")}
<h2>Our release's wall time by phase, release after release</h2>
${phaseBars(r.rows)}
${phases ? table(phases) : ""}
${stateLine(r.rows)}
<h2>Latency of short requests at the same rate</h2>
${table(latency)}
</body></html>
`;
}
