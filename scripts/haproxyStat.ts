// Reads one row of HAProxy's `show stat` CSV (the header line names the columns).
export function statRow(csv: string, proxy: string, server: string): Record<string, string> | undefined {
    const [header, ...rows] = csv.split("\n");
    const cols = header.replace(/^#\s*/, "").split(",");
    const row = rows.map((r) => r.split(",")).find((f) => f[0] === proxy && f[1] === server);
    return row && Object.fromEntries(cols.map((c, i) => [c, row[i] ?? ""]));
}
