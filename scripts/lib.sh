# Shared helpers for the project's scripts: progress lines, failures that say
# which step broke and how to fix it, and the environment every script uses.
# shellcheck shell=bash

# Two homes, kept apart so that a run can start from a clean state and still reuse
# slow-to-build tools:
# - ZDT_HOME, the state home: the Pulumi backend, the state passphrase, env.sh and the
#   plugin shims of this checkout. Never shared with another run that sets its own.
# - ZDT_CACHE, the tool cache: the built Pulumi CLI and setup logs. Safe to share.
ZDT_DEFAULT_HOME="${XDG_STATE_HOME:-$HOME/.local/state}/zero-downtime-agents"
ZDT_HOME="${ZDT_HOME:-$ZDT_DEFAULT_HOME}"
ZDT_CACHE="${ZDT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zero-downtime-agents}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PULUMI_VERSION="3.248.0"
ACT_VERSION="0.2.89" # nektos/act, which runs .github/workflows/release.yml in the tests
PEBBLE_VERSION="2.10.3" # Let's Encrypt's test ACME server, which the ACME suite issues certificates from
ZDT_START=${ZDT_START:-$(date +%s)}

elapsed() { local s=$(( $(date +%s) - ZDT_START )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
step() { printf '\n==> [%s] %s  (elapsed %s)\n' "$1" "$2" "$(elapsed)"; }
info() { printf '    %s\n' "$*"; }
fail() { # fail "<step>" "<what happened>" "<how to fix>"
  printf '\nERROR in step "%s": %s\n  fix: %s\n' "$1" "$2" "$3" >&2
  exit 1
}

# Runs a long command with a heartbeat so a silent build still shows progress.
with_heartbeat() { # with_heartbeat "<label>" <log file> cmd...
  local label=$1 log=$2; shift 2
  "$@" >"$log" 2>&1 &
  local pid=$! t0; t0=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && info "$label: still running ($(( $(date +%s) - t0 ))s, log: $log)"
  done
  wait "$pid"
}

# The environment for pulumi and the tests: written by setup, read by every script.
load_env() {
  if [ ! -f "$ZDT_HOME/env.sh" ]; then
    fail "environment" "$ZDT_HOME/env.sh is missing" "run scripts/setup first"
  fi
  # shellcheck disable=SC1091
  . "$ZDT_HOME/env.sh"
}

# A plugin shim: a script that runs one of toolchain/'s programs with node. Written beside
# and moved into place, so an existing link (an official plugin linked into bin/) is
# replaced, never written through.
write_shim() { # write_shim <path> <script>
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$2" >"$tmp"
  chmod +x "$tmp"
  mv -fT "$tmp" "$1"
}
