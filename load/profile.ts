// The one load profile of the tests, the benchmarks and the demo: the strict client at
// about 120 short requests/s over 6 keep-alive loops, plus 4 streaming chats of
// several seconds that span every flip.
import type { LoadOptions } from "./client";

export function standardLoad(url: string): LoadOptions {
    return { url, shortRps: 120, shortLoops: 6, streams: 4 };
}
