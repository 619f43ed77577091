// The policy pack's entry. Pulumi's policy runtime (@pulumi/pulumi's run-policy-pack)
// registers ts-node with type checking on, so whatever TypeScript it loads is type-checked
// at every preview and update: the pack's rules with the config schema and zod's types
// took 13 s on a 2-core machine. The rules (policies/pack.ts) load as JavaScript compiled
// into dist/run/ when their source changed (components/compiledPrograms.ts, as the
// program's modules); only this file and that one are checked. `npm run lint` type-checks
// the pack.
import { compiledModule } from "../components/compiledPrograms";

compiledModule<unknown>("policies/pack.ts");
