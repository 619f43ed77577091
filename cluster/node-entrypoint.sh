#!/bin/sh
# Starts a test-cluster node's engine. The node reaches the cluster's registry at the
# same address as the host does (127.0.0.1:$REGISTRY_PORT), so an image reference
# pushed from the host pulls unchanged on every node; Docker trusts loopback
# registries over plain HTTP.
set -eu
if [ -n "${REGISTRY_PORT:-}" ]; then
  socat "TCP-LISTEN:${REGISTRY_PORT},bind=127.0.0.1,fork,reuseaddr" "TCP:${REGISTRY_HOST:-registry}:5000" &
fi
# A node killed hard (the node-loss drill's SIGKILL) leaves its engine's pid files behind,
# and the restarted engine, PID 1 again, would take the stale "1" for itself still running
# ("pid file found"). A machine's /run is a tmpfs that a reboot empties; this node's is not.
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
# Swarm mode refuses live restore; the engine's socket is shared with the host
# through /run/zdt (a bind mount), so scripts reach each node as DOCKER_HOST=unix://...
exec dockerd --host unix:///run/zdt/docker.sock --host unix:///var/run/docker.sock \
  --userland-proxy=false --storage-driver overlay2 "$@"
