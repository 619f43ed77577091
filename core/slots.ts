// The two slots of the proxy's agents backend: blue and green. A module of its own, with no
// imports, so that the programs that must start fast (npm run abort) load nothing more.
export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];
