// A plugin outlives nothing: the official plugins health-check the engine and exit when
// it is gone (a `pulumi up` killed with SIGKILL cannot stop them). The local ones watch
// the process that started them, the engine, and exit once it has gone (this process is
// then re-parented, so its parent pid changes).
"use strict";

const CHECK_MS = 2000;

function watchEngine() {
    const engine = process.ppid;
    setInterval(() => {
        if (process.ppid !== engine) process.exit(0);
    }, CHECK_MS).unref();
}

module.exports = { watchEngine };
