// Step-by-step suites: each step builds on the state the previous one left, so once a
// step fails the later steps of the same suite are skipped, saying which step broke.
// Nothing outside the suite is affected (unlike mocha's bail, which also skips a bail
// suite entirely when any earlier test of the whole run failed).
import type { Context } from "mocha";

export type StepFn = (this: Context) => Promise<void> | void;

/** Returns an `it` for the steps of one suite; call it inside that suite's `describe`. */
export function stepByStep(): (title: string, fn: StepFn) => void {
    let broken: string | undefined;
    return (title, fn) => {
        it(title, async function () {
            if (broken !== undefined) {
                this.test!.title += ` [skipped: the earlier step "${broken}" failed]`;
                this.skip();
            }
            try {
                await fn.call(this);
            } catch (err) {
                broken = title;
                throw err;
            }
        });
    };
}
