// The comparison's report: the README's table and the HTML page come from the same figures.
import { expect } from "chai";
import { markdownTable, phaseTable, renderCompareHtml, showSpread, type CompareReport } from "../../bench/compare/report";
import { rowOf, summarize, withOther } from "../../bench/compare/summary";
import type { LoadReport } from "../../load/client";

const load = (failed: number, window: { firstMs: number; lastMs: number } | null) =>
    ({
        requests: 1000,
        failed,
        streamsTruncated: 0,
        conversationsBroken: failed ? 2 : 0,
        conversationsFailed: 0,
        failureWindowMs: window,
    }) as unknown as LoadReport;

function report(): CompareReport {
    const rows = [
        rowOf("nginx <recipe>", 1, "1.0.0 -> 2.0.0", load(4, { firstMs: 100, lastMs: 677 }), { wallMs: 9000, switchMs: 257 }),
        rowOf("ours", 1, "1.0.0 -> 2.0.0", load(0, null), {
            wallMs: 38000,
            switchMs: 160,
            phasesMs: { bringUp: 9000, verification: 5000 },
            stateResources: 19,
        }),
        rowOf("nginx <recipe>", 2, "2.0.0 -> 3.0.0", load(6, { firstMs: 0, lastMs: 400 }), { wallMs: 9100, switchMs: 300 }),
        rowOf("ours", 2, "2.0.0 -> 3.0.0", load(0, null), {
            wallMs: 36000,
            switchMs: 170,
            phasesMs: { bringUp: 8000, verification: 5000 },
            stateResources: 19,
        }),
    ];
    return {
        at: "2026-11-28T14:00:00.000Z",
        machine: "2 cores",
        command: "npm run bench:compare -- --reps 2 --window 5",
        reps: 2,
        windowSeconds: 5,
        summary: summarize(rows),
        overhead: { direct: { p50: 1.1, p99: 2.5, samples: 1500, failed: 0 }, ours: { p50: 1.6, p99: 3.2, samples: 1500, failed: 0 } },
        rows,
    };
}

describe("comparison benchmark report", () => {
    it("our phases are kept with what the wall time spent outside them", () => {
        expect(withOther({ bringUp: 9000, verification: 5000 }, 38000)).to.deep.equal({ bringUp: 9000, verification: 5000, other: 24000 });
        expect(withOther({ bringUp: 9000 }, 8000).other).to.equal(0);
        expect(report().rows[1].phasesMs).to.deep.equal({ bringUp: 9000, verification: 5000, other: 24000 });
    });

    it("the README table gives each method's median and spread, and the proxies' overhead over a direct connection", () => {
        const md = markdownTable(report()).split("\n");
        expect(md[2]).to.equal("| nginx <recipe> | 4 (4-6) | 0 | 2 | 400 ms (400-577) | 257 ms (257-300) | 9,000 ms (9,000-9,100) |");
        expect(md[3]).to.equal("| ours | 0 | 0 | 0 | 0 ms | 160 ms (160-170) | 36,000 ms (36,000-38,000) |");
        expect(md).to.include("| direct | 1.10 ms | 2.50 ms | - |");
        expect(md).to.include("| ours | 1.60 ms | 3.20 ms | +0.50 / +0.70 ms |");
        expect(showSpread(undefined)).to.equal("-");
    });

    it("the README's phase table gives each of our phases' median and spread, and the state's size first and last", () => {
        const md = markdownTable(report()).split("\n");
        const at = md.findIndex((l) => l.startsWith("| our wall time by phase"));
        expect(md[at]).to.equal("| our wall time by phase | bringUp | verification | other | resources in state, first -> last release |");
        expect(md[at + 2]).to.equal("| ours | 8,000 ms (8,000-9,000) | 5,000 ms | 23,000 ms (23,000-24,000) | 19 -> 19 |");
        expect(phaseTable(report().rows.filter((x) => !x.phasesMs))).to.deep.equal([]);
    });

    it("besides the window: each method's wall time minus the window, and ours with nothing to change, when measured", () => {
        const r = report();
        expect(markdownTable(r)).to.not.include("besides the");
        r.noChange = { ours: [9000, 8000] };
        const md = markdownTable(r).split("\n");
        const at = md.indexOf("| besides the 5 s window | release wall time minus the window | the same command, nothing to change |");
        expect(at).to.be.above(0);
        expect(md[at + 2]).to.equal("| nginx <recipe> | 4,000 ms (4,000-4,100) | - |");
        expect(md[at + 3]).to.equal("| ours | 31,000 ms (31,000-33,000) | 8,000 ms (8,000-9,000) |");
        r.summary[0].figures.wallMs = { median: 2700, min: 2600, max: 2900 };
        expect(markdownTable(r).split("\n")[at + 2]).to.equal("| nginx <recipe> | - (no window) | - |");
    });

    it("the HTML page has the tables, a bar per release and method, our phases, and escapes names", () => {
        const html = renderCompareHtml(report());
        expect(html).to.include("nginx &lt;recipe&gt;").and.not.include("<recipe>");
        expect(html).to.include("npm run bench:compare -- --reps 2 --window 5");
        // Two plots of grouped bars (failed, unavailable), one bar per row each.
        expect(html.match(/<title>[^<]*repetition \d: /g)).to.have.length(8);
        // Our phases: two releases, three phases each (bringUp, verification, other).
        expect(html.match(/<title>ours [^<]*: (bringUp|verification|other) /g)).to.have.length(6);
        expect(html).to.not.include("<script");
        expect(html).to.include("Resources in the state of ours after each release: 19, 19.");
    });
});
