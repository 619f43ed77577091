// The HTML release report as a page: self-contained, escaped, with its figures embedded.
import { expect } from "chai";
import { renderReportHtml, type ReportPage } from "../../ops/reportHtml";

const page = (over: Partial<ReportPage> = {}): ReportPage => ({
    title: "release 1.0.0 -> 2.0.0 on stack demo",
    ok: true,
    summary: ["8,236 requests, 0 failed"],
    gates: [
        { metric: "latency", status: "ok", message: "LLM latency p95 5 ms (1303 answers)" },
        { metric: "conversations", status: "warn", message: "4990 active conversations, 3881 before the flip (+28.6%)" },
    ],
    timeline: {
        samples: [
            { t: 0, releases: { "1-0-0-a": { rps: 120, errors5xx: 0, p95Ms: 5, weight: 100 } } },
            {
                t: 1000,
                releases: { "1-0-0-a": { rps: 60, errors5xx: 0, weight: 0 }, "2-0-0-b": { rps: 60, errors5xx: 1, p95Ms: 6, weight: 100 } },
            },
        ],
        marks: [{ t: 800, label: "flip" }],
    },
    ...over,
});

describe("HTML release report", () => {
    it("is one page with no outside resource: the figures embedded, the plot drawn by an inline script", () => {
        const html = renderReportHtml(page());
        expect(html).to.match(/^<!doctype html>/);
        expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)=/);
        const data = /<script type="application\/json" id="data">(.*)<\/script>/.exec(html)![1];
        expect(JSON.parse(data)).to.deep.equal(page().timeline);
        expect(html).to.include('<svg id="timeline"');
    });

    it("lists the gates with their status as a row class", () => {
        const html = renderReportHtml(page());
        expect(html).to.include(
            '<tr class="warn"><td>conversations</td><td>warn</td><td>4990 active conversations, 3881 before the flip (+28.6%)</td></tr>',
        );
        expect(renderReportHtml(page({ gates: [] }))).to.include("no verification ran");
    });

    it("escapes what it shows and cannot be ended early by the data", () => {
        const html = renderReportHtml(
            page({
                title: "<b>x</b>",
                gates: [{ metric: "latency", status: "breach", message: 'a "quote" & <tag>' }],
                timeline: { samples: [], marks: [{ t: 1, label: "</script><script>alert(1)</script>" }] },
            }),
        );
        expect(html).to.include("<title>&lt;b&gt;x&lt;/b&gt;</title>");
        expect(html).to.include("a &quot;quote&quot; &amp; &lt;tag&gt;");
        expect(html).to.not.include("</script><script>alert(1)");
        expect(html).to.include('<p class="verdict">released</p>');
        expect(renderReportHtml(page({ ok: false }))).to.include('<p class="verdict">failed: the previous release kept serving</p>');
    });

    it("shows the evaluation set side by side: each turn's question, the live answer, the new answer, the verdicts", () => {
        const a = (text: string, failures: string[] = []) => ({ status: 200, ms: 41.6, text, failures });
        const html = renderReportHtml(
            page({
                ok: false,
                evaluation: {
                    passed: false,
                    newPassPercent: 50,
                    livePassPercent: 100,
                    tookMs: 1234,
                    cases: [
                        {
                            name: "business plan",
                            passed: false,
                            livePassed: true,
                            turns: [
                                { question: "Starter?", next: a("19 EUR"), live: a("19 EUR") },
                                { question: "And <Business>?", next: a("I don't know", ['does not contain "79 EUR"']), live: a("79 EUR") },
                            ],
                        },
                        {
                            name: "refunds",
                            passed: true,
                            livePassed: true,
                            turns: [{ question: "Refund?", next: a("30 days"), live: a("30 days") }],
                        },
                    ],
                },
            }),
        );
        expect(html).to.include('<p id="evaluation-verdict">failed: new 50 % of the cases, live 100 %; 1.2 s</p>');
        const rows = /<table id="evaluation">[\s\S]*?<tbody>\n([\s\S]*?)\n<\/tbody>/.exec(html)![1].split("\n");
        expect(rows).to.have.length(3);
        expect(rows[0]).to.match(/^<tr class="case-fail"><td>business plan<\/td><td>Starter\?<\/td><td class="pass">19 EUR/);
        expect(rows[0]).to.match(/<td>pass \/ fail<\/td><\/tr>$/);
        expect(rows[1]).to.include("<td>And &lt;Business&gt;?</td>");
        expect(rows[1]).to.include(
            '<td class="pass">79 EUR<br><small>200, 42 ms</small></td><td class="fail">I don&#39;t know<br><em>does not contain &quot;79 EUR&quot;</em>',
        );
        expect(rows[2]).to.match(/^<tr class="case-pass"><td>refunds<\/td>/);
        expect(renderReportHtml(page())).to.not.include('id="evaluation"');
    });
});
