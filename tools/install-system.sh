#!/usr/bin/env bash
# Install and start what the tests need on a Debian host: docker engine, debootstrap, shellcheck, etcd; and
# for the Kubernetes node of the tests (tools/kube/node.py): containerd and runc (a second containerd instance,
# never docker's), the CNI plugins, and the GlusterFS FUSE client the kubelet's pods mount through.
# busybox-static: the shell image of that node (tools/kube/images.py), made without a registry. Prometheus:
# promtool for the alert rules' tests, the server the monitoring lab test starts on loopback.
# Idempotent: packages already present are not reinstalled; dockerd is started only when `docker info` fails.
set -euo pipefail
packages=(docker.io debootstrap shellcheck etcd-server containerd runc containernetworking-plugins glusterfs-client
  busybox-static prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # etcd-server starts a unit on install; tests start their own etcd on loopback.
  systemctl disable --now etcd >/dev/null 2>&1 || true
  # and so does prometheus (:9090); the tests start their own on loopback.
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
if ! docker info >/dev/null 2>&1; then
  mkdir -p /var/log
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
echo "docker engine: $(docker version --format '{{.Server.Version}}')"
