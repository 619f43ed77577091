// The release report as one self-contained HTML page (no network, no library): the
// timeline of a release (requests per second per release, 5xx, p95 LLM latency, the
// flip / abort and phase marks) drawn as SVG by a small inline script from the embedded
// figures, and the gate table. Pure: the page is a function of the report and timeline.

/** One sampled second of a release, per release id. */
export interface TimelineSample {
    /** Milliseconds since the release began. */
    t: number;
    releases: Record<string, { rps: number; errors5xx: number; p95Ms?: number; weight: number }>;
}

export interface Timeline {
    samples: TimelineSample[];
    /** Moments worth a line on the plot: phases, the flip, a flip-back or abort. */
    marks: { t: number; label: string }[];
}

export interface GateRow {
    metric: string;
    status: string;
    message: string;
}

export interface ReportPage {
    title: string;
    ok: boolean;
    summary: string[];
    gates: GateRow[];
    timeline: Timeline;
    /** The evaluation set's replay (contracts/switchContract.ts EvaluationRecord), shown case by case, turn by turn. */
    evaluation?: EvaluationRecord;
}

import type { EvaluationRecord } from "../contracts/switchContract";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The data as a script element's text: JSON with "<" escaped, so no "</script>" can end it early. */
function embedded(data: unknown): string {
    return JSON.stringify(data).replace(/</g, "\\u003c");
}

export function renderReportHtml(page: ReportPage): string {
    const rows = page.gates
        .map(
            (g) =>
                `<tr class="${escape(g.status)}"><td>${escape(g.metric)}</td><td>${escape(g.status)}</td><td>${escape(g.message)}</td></tr>`,
        )
        .join("\n");
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(page.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.3em; } .verdict { font-weight: bold; color: ${page.ok ? "#176d2c" : "#b3261e"}; }
table { border-collapse: collapse; margin-top: 1em; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
tr.breach td, td.fail { background: #fde7e7; } td.none { color: #777; } tr.warn td { background: #fff6d6; } tr.no-data td, tr.inconclusive td { color: #777; }
svg { border: 1px solid #ddd; margin-top: 1em; } .legend span { margin-right: 1.5em; }
</style>
</head>
<body>
<h1>${escape(page.title)}</h1>
<p class="verdict">${page.ok ? "released" : "failed: the previous release kept serving"}</p>
<ul>${page.summary.map((s) => `<li>${escape(s)}</li>`).join("")}</ul>
<h2>Timeline</h2>
<div id="legend" class="legend"></div>
<svg id="timeline" width="960" height="360" viewBox="0 0 960 360" role="img" aria-label="requests per second per release, 5xx and p95 latency over the release"></svg>
<h2>Gates</h2>
<table id="gates"><thead><tr><th>metric</th><th>status</th><th>last judgement</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="3">no verification ran</td></tr>'}
</tbody></table>
${page.evaluation ? evaluationSection(page.evaluation) : ""}
<script type="application/json" id="data">${embedded(page.timeline)}</script>
<script>
${PLOT_SCRIPT}
</script>
</body>
</html>
`;
}

type Answer = EvaluationRecord["cases"][number]["turns"][number]["next"];

/** The evaluation set side by side (pure): each turn's question, the live answer, the new answer, the verdicts. */
function evaluationSection(e: EvaluationRecord): string {
    const answer = (a: Answer) =>
        a === null
            ? '<td class="none">not asked</td>'
            : `<td class="${a.failures.length ? "fail" : "pass"}">${escape(a.text)}${a.failures.length ? `<br><em>${escape(a.failures.join("; "))}</em>` : ""}<br><small>${a.status}, ${Math.round(a.ms)} ms</small></td>`;
    const verdict = (p: boolean | null) => (p === null ? "-" : p ? "pass" : "fail");
    const rows = e.cases.flatMap((c) =>
        c.turns.map(
            (t, i) =>
                `<tr class="case-${c.passed ? "pass" : "fail"}"><td>${i === 0 ? escape(c.name) : ""}</td><td>${escape(t.question)}</td>` +
                `${answer(t.live)}${answer(t.next)}<td>${i === 0 ? `${verdict(c.livePassed)} / ${verdict(c.passed)}` : ""}</td></tr>`,
        ),
    );
    const live = e.livePassPercent === null ? "no live release" : `live ${Math.round(e.livePassPercent)} %`;
    return `<h2>Evaluation set</h2>
<p id="evaluation-verdict">${e.passed ? "passed" : "failed"}: new ${Math.round(e.newPassPercent)} % of the cases, ${live}; ${(e.tookMs / 1000).toFixed(1)} s</p>
<table id="evaluation"><thead><tr><th>case</th><th>question</th><th>live answer</th><th>new answer</th><th>verdict (live / new)</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>`;
}

/** Draws the timeline into #timeline from #data (kept small and dependency-free). */
const PLOT_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  var svg = document.getElementById("timeline");
  var NS = "http://www.w3.org/2000/svg", W = 960, H = 360, L = 50, R = 60, T = 20, B = 40;
  var colours = ["#1f6feb", "#2da44e", "#8250df", "#bf8700"];
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  }
  var samples = data.samples, tMax = 1, rpsMax = 1, p95Max = 1, ids = [];
  samples.forEach(function (s) {
    tMax = Math.max(tMax, s.t);
    for (var id in s.releases) {
      if (ids.indexOf(id) < 0) ids.push(id);
      rpsMax = Math.max(rpsMax, s.releases[id].rps);
      if (s.releases[id].p95Ms !== undefined) p95Max = Math.max(p95Max, s.releases[id].p95Ms);
    }
  });
  data.marks.forEach(function (m) { tMax = Math.max(tMax, m.t); });
  var x = function (t) { return L + (W - L - R) * t / tMax; };
  var y = function (v, max) { return H - B - (H - T - B) * v / max; };
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" });
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" });
  el("text", { x: L, y: H - 10, "font-size": 12 }, "0 s");
  el("text", { x: W - R, y: H - 10, "font-size": 12, "text-anchor": "end" }, Math.round(tMax / 1000) + " s");
  el("text", { x: 4, y: T + 4, "font-size": 12 }, Math.round(rpsMax) + "/s");
  el("text", { x: W - 4, y: T + 4, "font-size": 12, "text-anchor": "end" }, "p95 " + Math.round(p95Max) + " ms");
  var legend = document.getElementById("legend");
  ids.forEach(function (id, i) {
    var c = colours[i % colours.length];
    var rps = samples.filter(function (s) { return s.releases[id]; }).map(function (s) { return x(s.t) + "," + y(s.releases[id].rps, rpsMax); });
    el("polyline", { class: "rps", "data-release": id, points: rps.join(" "), fill: "none", stroke: c, "stroke-width": 2 });
    var p95 = samples.filter(function (s) { return s.releases[id] && s.releases[id].p95Ms !== undefined; }).map(function (s) { return x(s.t) + "," + y(s.releases[id].p95Ms, p95Max); });
    if (p95.length) el("polyline", { class: "p95", "data-release": id, points: p95.join(" "), fill: "none", stroke: c, "stroke-dasharray": "4 3" });
    samples.forEach(function (s) {
      var r = s.releases[id];
      if (r && r.errors5xx > 0) el("rect", { class: "errors", x: x(s.t) - 2, y: y(r.errors5xx, rpsMax), width: 4, height: H - B - y(r.errors5xx, rpsMax), fill: "#d1242f" });
    });
    var span = document.createElement("span");
    span.style.color = c;
    span.textContent = id + ": requests/s (solid), p95 LLM latency (dashed)";
    legend.appendChild(span);
  });
  // Labels of marks close together go on rows of their own, so they stay readable.
  var lastX = [-1e9, -1e9, -1e9, -1e9, -1e9, -1e9];
  data.marks.slice().sort(function (a, b) { return a.t - b.t; }).forEach(function (m) {
    var mx = x(m.t), row = 0;
    while (row < lastX.length - 1 && mx - lastX[row] < 7 * m.label.length) row++;
    lastX[row] = mx;
    el("line", { class: "mark", x1: mx, y1: T, x2: mx, y2: H - B, stroke: "#555", "stroke-dasharray": "2 2" });
    el("text", { class: "mark-label", x: mx + 3, y: T + 12 + 13 * row, "font-size": 11 }, m.label);
  });
  svg.setAttribute("data-drawn", String(ids.length));
})();`;
