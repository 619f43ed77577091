#!/bin/sh
# The proxy's entry point, and its reload.
#   start-proxy          render haproxy.cfg, check it, run HAProxy (master-worker) in the foreground
#   start-proxy reload   render and check it again, then reload HAProxy seamlessly: the new worker
#                        takes over the listening sockets; the old one finishes its requests and
#                        streams and closes idle keep-alive connections only after a response.
# The config is the template the proxy-config command delivers (rollout/proxyConfig.ts) plus
# one server line per slot from the slot file the traffic switch keeps up to date
# ("<slot> <address> <weight> <ready|maint>" per line). Both live in the state volume, so a
# restarted or replaced proxy comes back with the live colour and the current config.
set -eu
STATE=/var/lib/zdt
SLOTS=$STATE/slots
TEMPLATE=$STATE/haproxy.cfg.tmpl
CFG=/etc/haproxy/haproxy.cfg
SOCKET=/run/haproxy/admin.sock

server_line() { # slot address weight state
  disabled=""; [ "$4" = maint ] && disabled=" disabled"
  echo "  server $1 $2:${AGENT_PORT} weight $3$disabled"
}

render() {
  [ -s "$SLOTS" ] || printf 'blue unassigned.invalid 0 maint\ngreen unassigned.invalid 0 maint\n' > "$SLOTS"
  [ -s "$TEMPLATE" ] || { echo "start-proxy: no config template at $TEMPLATE" >&2; exit 1; }
  {
    eval "cat <<ZDT_CFG
$(cat "$TEMPLATE")
ZDT_CFG"
    while read -r slot address weight state; do server_line "$slot" "$address" "$weight" "$state"; done < "$SLOTS"
  } > "$CFG.new"
  haproxy -c -q -f "$CFG.new"
  mv "$CFG.new" "$CFG"
}

worker_pid() { echo "show info" | socat -t 2 stdio "$SOCKET" 2>/dev/null | sed -n 's/^Pid: //p'; }

case "${1:-run}" in
  run)
    render
    exec haproxy -W -db -f "$CFG"
    ;;
  reload)
    before=$(worker_pid)
    render
    kill -USR2 1 # PID 1 is HAProxy's master: it starts a new worker with the new config
    for _ in $(seq 1 100); do
      now=$(worker_pid)
      if [ -n "$now" ] && [ "$now" != "$before" ]; then echo "reloaded: worker $before -> $now"; exit 0; fi
      sleep 0.1
    done
    echo "start-proxy: no new HAProxy worker within 10s of the reload" >&2
    exit 1
    ;;
  *)
    echo "usage: start-proxy [run|reload]" >&2
    exit 2
    ;;
esac
