// The entry Pulumi.yaml names: runs the program (index.ts) as JavaScript transpiled into
// dist/run/ when its source changed (components/compiledPrograms.ts), so a `pulumi up`
// loads no ts-node and does not compile index.ts (about 0.25 s of every run on a 2-core
// machine: the Pulumi SDK loads TypeScript itself; docs/measurements.md, "The official
// plugins beside the local ones, and the program without ts-node"). The transpiler is
// itself transpiled: its JavaScript runs when it is current, else (a checkout's first run,
// or a change to it) it is loaded once through ts-node, and it writes its own output with
// the rest.
"use strict";
const path = require("path");

function compiler() {
    const js = path.join(__dirname, "dist", "run", "components", "compiledPrograms.js");
    try {
        const compiled = require(js);
        if (compiled.isCurrent?.(__dirname, path.join("components", "compiledPrograms.ts"))) return compiled;
        delete require.cache[js]; // stale: the modules that import it get the new one
    } catch (err) {
        if (err.code !== "MODULE_NOT_FOUND") throw err;
    }
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "tsconfig.json") });
    return require("./components/compiledPrograms.ts");
}

module.exports = compiler().compiledModule("index.ts");
