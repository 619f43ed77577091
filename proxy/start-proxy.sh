#!/bin/sh
# Renders haproxy.cfg from the slot file the traffic switch keeps up to date
# (/var/lib/zdt/slots: "<slot> <address> <weight> <ready|maint>" per line), checks
# it, and runs HAProxy in the foreground. A proxy restart thus comes back with the
# colour that was live, not with an empty backend.
set -eu
SLOTS=/var/lib/zdt/slots
CFG=/etc/haproxy/haproxy.cfg
[ -s "$SLOTS" ] || printf 'blue unassigned.invalid 0 maint\ngreen unassigned.invalid 0 maint\n' > "$SLOTS"

server_line() { # slot address weight state
  disabled=""; [ "$4" = maint ] && disabled=" disabled"
  echo "  server $1 $2:${AGENT_PORT} weight $3$disabled"
}

{
cat <<CFG
global
  stats socket /run/haproxy/admin.sock mode 600 level admin
  stats timeout 10s
  hard-stop-after ${HARD_STOP_AFTER:-60s}

resolvers docker
  nameserver docker 127.0.0.11:53
  resolve_retries 3
  timeout resolve 1s
  timeout retry 1s
  hold valid 2s
  hold nx 2s
  hold other 2s
  hold obsolete 2s

defaults
  mode http
  # Clients keep their keep-alive connections; each request opens a fresh
  # connection to the agent. Server connections are never pooled, so after the
  # switch re-points a slot no request can ride an old connection to the release
  # that slot used to hold (seen in tests: 5xx from a flipped-back release).
  option http-server-close
  timeout connect 2s
  timeout client ${CLIENT_TIMEOUT:-75s}
  timeout server ${SERVER_TIMEOUT:-75s}
  timeout http-keep-alive 60s
  timeout http-request 10s
  retries 2
  option redispatch
  retry-on conn-failure empty-response

frontend agents
  bind :${LISTEN_PORT}
  default_backend agents

backend agents
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server check inter 1s fall 2 rise 1 resolvers docker init-addr last,none
  # The switch probes a slot through this very proxy before giving it traffic:
  # a request from inside the container naming a slot goes to that slot, whatever its weight.
  use-server blue if { req.hdr(x-zdt-slot) -m str blue } { src 127.0.0.1 }
  use-server green if { req.hdr(x-zdt-slot) -m str green } { src 127.0.0.1 }
CFG
while read -r slot address weight state; do server_line "$slot" "$address" "$weight" "$state"; done < "$SLOTS"
} > "$CFG.new"

haproxy -c -q -f "$CFG.new"
mv "$CFG.new" "$CFG"
exec haproxy -W -db -f "$CFG"
