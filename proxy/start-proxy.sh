#!/bin/sh
# The proxy's entry point, its reload and its hand-over.
#   start-proxy          render haproxy.cfg, check it, run HAProxy (master-worker) in the foreground;
#                        when another proxy of this app serves (the hand-over socket in the state
#                        volume answers), take its listening sockets over (-x) instead of binding
#                        new ones: no connection is refused or reset while proxies change
#   start-proxy reload   render and check it again, then reload HAProxy seamlessly: the new worker
#                        takes over the listening sockets; the old one finishes its requests and
#                        streams and closes idle keep-alive connections only after a response
#   start-proxy promote  make this proxy the one the next proxy takes the sockets from
# Proxy containers share the network namespace of the app's port holder (the container that
# publishes the port), so a new proxy and the one it replaces listen on the same sockets.
# Each proxy's admin and hand-over sockets are its own (HAProxy would otherwise take them
# over too): /run/haproxy/admin.sock is a link to this instance's.
# The config is the template the proxy-config command delivers (platform/docker/proxyConfig.ts) plus
# one server line per slot from the slot file the traffic switch keeps up to date
# ("<slot> <address> <weight> <ready|maint> [<port>]" per line). Both live in the state volume, so a
# restarted or replaced proxy comes back with the live colour and the current config.
set -eu
STATE=/var/lib/zdt
SLOTS=$STATE/slots
TEMPLATE=$STATE/haproxy.cfg.tmpl
HANDOVER=$STATE/handover.sock
CFG=/etc/haproxy/haproxy.cfg
SOCKET=/run/haproxy/admin.sock
INSTANCE_FILE=/run/haproxy/instance
SERVER_STATE=/run/haproxy/server-state

# docker (one host): the template comes from the state volume (the proxy-config command
# delivers it); swarm: it is the image's own, and every slot is a server template.
PLATFORM=${ZDT_PLATFORM:-docker}
SLOT_SERVERS=${ZDT_SLOT_SERVERS:-1}
if [ "$PLATFORM" = swarm ]; then
  TEMPLATE=/etc/zdt/haproxy-swarm.cfg.tmpl
  ZDT_PEER_LINES=""
fi

instance() {
  [ -s "$INSTANCE_FILE" ] || head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$INSTANCE_FILE"
  cat "$INSTANCE_FILE"
}

server_line() { # slot address weight state [port]
  disabled=""; [ "$4" = maint ] && disabled=" disabled"
  if [ "$PLATFORM" = swarm ]; then
    echo "  server-template $1 1-$SLOT_SERVERS $2:${AGENT_PORT} weight $3$disabled"
  else
    echo "  server $1 $2:${5:-$AGENT_PORT} weight $3$disabled"
  fi
}

# Swarm: one peer line per node ("name=address" pairs in ZDT_PEERS); this node's own
# line has no address (HAProxy's local peer).
peer_lines() {
  for pair in ${ZDT_PEERS:-}; do
    name=${pair%%=*}
    if [ "$name" = "${ZDT_NODE:-}" ]; then echo "  server $name"; else echo "  server $name ${pair#*=}:${ZDT_PEER_PORT}"; fi
  done
}

# Swarm: each slot's probe backend, the same template with no weights: the switch's
# probes of a slot go through it (balance first: one task, the next if it fails).
probe_backends() {
  while read -r slot address weight state _port; do
    printf 'backend probe_%s\n  balance first\n  http-response set-header x-zdt-server %%[srv_name]\n  option httpchk GET %s\n  http-check expect %s\n' \
      "$slot" "${HEALTH_PATH:-/health}" "${HEALTH_EXPECT:-status 200}"
    printf '  server-template %s 1-%s %s:%s check inter 1s fall 2 rise 1 resolvers docker init-addr last,none resolve-prefer ipv4\n' \
      "$slot" "$SLOT_SERVERS" "$address" "$AGENT_PORT"
  done < "$SLOTS"
}

render() {
  id=$(instance)
  # Swarm passes the conversation key's rules (several lines) base64-encoded: an environment
  # variable may travel through an env file, which holds one line a variable.
  if [ -n "${CONVERSATION_RULES_B64:-}" ]; then
    CONVERSATION_RULES=$(printf '%s' "$CONVERSATION_RULES_B64" | base64 -d)
  fi
  [ -s "$SLOTS" ] || printf 'blue unassigned.invalid 0 maint\ngreen unassigned.invalid 0 maint\n' > "$SLOTS"
  [ -s "$TEMPLATE" ] || { echo "start-proxy: no config template at $TEMPLATE" >&2; exit 1; }
  [ "$PLATFORM" = swarm ] && ZDT_PEER_LINES=$(peer_lines)
  {
    eval "cat <<ZDT_CFG
$(cat "$TEMPLATE")
ZDT_CFG"
    while read -r slot address weight state port; do server_line "$slot" "$address" "$weight" "$state" "$port"; done < "$SLOTS"
    [ "$PLATFORM" = swarm ] && probe_backends
    :
  } | sed -e "s#$SOCKET#/run/haproxy/admin-$id.sock#g" \
      -e "/^global/a\\  stats socket $STATE/handover-$id.sock mode 600 level admin expose-fd listeners" > "$CFG.new"
  placeholder_certificate
  haproxy -c -q -f "$CFG.new"
  mv "$CFG.new" "$CFG"
  ln -sfn "admin-$id.sock" "$SOCKET"
}

# A TLS listener needs a certificate to start. Until the first one is issued (proxy.tls.mode
# acme) it is a self-signed placeholder (written beside the folder, then moved in: HAProxy
# loads every file of the folder) of a day, which the certificate keeper replaces in
# place (acme-keeper); the issuance gate holds the update until then.
placeholder_certificate() {
  grep -q "ssl crt $STATE/tls/" "$CFG.new" || return 0
  ls "$STATE"/tls/*.pem >/dev/null 2>&1 && return 0
  mkdir -p "$STATE/tls"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
      -subj "/CN=zdt-placeholder" -keyout "$STATE/placeholder.key" -out "$STATE/placeholder.crt" 2>/dev/null &&
      cat "$STATE/placeholder.crt" "$STATE/placeholder.key" > "$STATE/edge.pem.new" &&
      mv "$STATE/edge.pem.new" "$STATE/tls/edge.pem"
    rm -f "$STATE/placeholder.key" "$STATE/placeholder.crt"
  )
}

answers() { echo "show info" | socat -t 2 stdio "UNIX-CONNECT:$1" 2>/dev/null | sed -n 's/^Pid: //p'; }

# The servers' state (address, port, weight, maintenance, health) of the HAProxy behind
# socket $1, which the next worker starts from (the templates' server-state-file). Without
# it a new worker's servers have no address until Docker's DNS answers, and a new
# connection in that moment got a 503 (5 of 3,000 over 8 reloads; 0 of 3,000 with it).
save_server_state() {
  echo "show servers state" | socat -t 2 stdio "UNIX-CONNECT:$1" > "$SERVER_STATE.new" 2>/dev/null || true
  if [ -s "$SERVER_STATE.new" ]; then mv "$SERVER_STATE.new" "$SERVER_STATE"; else rm -f "$SERVER_STATE.new"; fi
}

case "${1:-run}" in
  run)
    render
    if [ -S "$HANDOVER" ] && [ -n "$(answers "$HANDOVER")" ]; then
      echo "start-proxy: taking the listening sockets over from $(readlink "$HANDOVER")"
      save_server_state "$HANDOVER"
      exec haproxy -W -db -f "$CFG" -x "$HANDOVER"
    fi
    exec haproxy -W -db -f "$CFG"
    ;;
  reload)
    before=$(answers "$SOCKET")
    render
    save_server_state "$SOCKET"
    kill -USR2 1 # PID 1 is HAProxy's master: it starts a new worker with the new config
    for _ in $(seq 1 100); do
      now=$(answers "$SOCKET")
      if [ -n "$now" ] && [ "$now" != "$before" ]; then echo "reloaded: worker $before -> $now"; exit 0; fi
      sleep 0.1
    done
    echo "start-proxy: no new HAProxy worker within 10s of the reload" >&2
    exit 1
    ;;
  promote)
    id=$(instance)
    [ -n "$(answers "$STATE/handover-$id.sock")" ] || { echo "start-proxy: this proxy does not answer on its hand-over socket" >&2; exit 1; }
    ln -sfn "handover-$id.sock" "$HANDOVER.new" && mv -T "$HANDOVER.new" "$HANDOVER"
    # Hand-over sockets of proxies that are gone.
    for f in "$STATE"/handover-*.sock; do
      [ "$f" = "$STATE/handover-$id.sock" ] || [ -n "$(answers "$f")" ] || rm -f "$f"
    done
    echo "promoted: handover-$id.sock"
    ;;
  *)
    echo "usage: start-proxy [run|reload|promote]" >&2
    exit 2
    ;;
esac
