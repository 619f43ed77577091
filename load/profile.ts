// The one load profile of the tests, the benchmarks and the demo: the strict client at
// about 120 short requests/s over 6 loops (2 of them on a new connection per request, as
// webhook deliveries come; 4 on keep-alive connections), 4 streaming chats of several
// seconds that span every flip, and 6 conversations of 4 turns a second apart, each
// checked turn by turn for the release and the turn number (a hop loses its context).
import type { LoadOptions } from "./client";

export function standardLoad(url: string): LoadOptions {
    return {
        url,
        shortRps: 120,
        shortLoops: 6,
        // 40 of the 120 a second each on a connection of its own, as webhook deliveries come.
        freshConnectionLoops: 2,
        streams: 4,
        conversations: { concurrent: 6, turns: 4, pauseMs: 1000 },
    };
}

/**
 * A second stack's load in the same test (the pipeline's dev while prod gets the standard
 * load): every kind of traffic, a quarter of the rate, so two clients and two releases
 * do not starve the machine's two cores.
 */
export function lightLoad(url: string): LoadOptions {
    return { url, shortRps: 30, shortLoops: 2, streams: 2, conversations: { concurrent: 3, turns: 4, pauseMs: 1000 } };
}

/**
 * The canary suites' load: fewer short requests, and many more conversations (60 at a
 * time, 4 turns 2.5 s apart, about 8 new ones a second), so each canary step starts
 * enough new conversations to measure the share its weight sends to the canary.
 */
export function canaryLoad(url: string): LoadOptions {
    return { url, shortRps: 60, shortLoops: 4, streams: 2, conversations: { concurrent: 60, turns: 4, pauseMs: 2500 } };
}
