# A Docker Swarm node for the test cluster (scripts/cluster): Debian's docker.io in a
# privileged container, its /var/lib/docker on a volume. Real clusters are machines with
# the Docker engine installed; this image only lets one machine play three of them.
# BASE_IMAGE defaults to the public Debian image (setup builds it by debootstrap where
# no registry is reachable). The same image runs the cluster's registry (Debian's
# docker-registry).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      docker.io docker-registry iptables iproute2 procps socat ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY node-entrypoint.sh /usr/local/bin/node-entrypoint
COPY registry.yml /etc/zdt/registry.yml
VOLUME /var/lib/docker
ENTRYPOINT ["/usr/local/bin/node-entrypoint"]
