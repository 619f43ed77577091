// The entry of a program a command resource runs: its input decoded with its contract from
// the environment, the work done, a line in words on stderr (the resource's log) and its
// result as one JSON line on stdout (the resource's stdout); a failure is one line on stderr
// and exit code 1, which fails the resource and so the update.
import type { AnyObject } from "../core/schemaPaths";
import type { EnvContract } from "./envContract";
import type { z } from "zod";

export function runCommandProgram<S extends AnyObject>(
    /** How the program names itself in its lines ("proxy rollout"). */
    label: string,
    contract: EnvContract<S>,
    work: (input: z.output<S>, argv: string[]) => Promise<{ said: string; result: unknown }>,
): void {
    Promise.resolve()
        .then(() => work(contract.decode(process.env), process.argv.slice(2)))
        .then(
            ({ said, result }) => {
                process.stderr.write(`${label}: ${said}\n`);
                process.stdout.write(JSON.stringify(result) + "\n");
            },
            (err: Error) => {
                process.stderr.write(`${label}: ${err.message}\n`);
                process.exit(1);
            },
        );
}
