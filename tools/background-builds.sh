#!/usr/bin/env bash
# The long builds the tests need, started once in the background and waited for by name, so that they
# run beside everything else (on a fresh machine they take most of the time: ~18-25 min per Kubernetes
# version on 2 cores).
#
#   tools/background-builds.sh start [NAME...]   start each build whose binaries are missing and that is
#                                                not already running (default: every build); returns at once
#   tools/background-builds.sh wait NAME         block until NAME has finished; exit with its status
#                                                (0 at once when its binaries exist)
#   tools/background-builds.sh check             exit 0 when every build's outputs are there (in the cache)
#
# Builds: kube (tools/build-kube-apiserver.sh: kube-apiserver, kube-controller-manager, kube-scheduler and the
# kubelet, every version), e2e (the same script with --e2e: Kubernetes' e2e.test, which starts once kube has
# finished, to reuse the packages kube compiled) and csi (tools/build-csi-tools.sh: csi-sanity, csi-provisioner,
# csi-resizer) and kustomize (tools/build-kustomize.sh: the csi_driver tests compare the role with it). The CSI
# and kustomize builds run niced with one compile job, so the longer kube build keeps most of the CPU.
# Every build keeps its outputs in the cache outside the clone (tools/build-cache.sh): on a machine that built
# them once, `start` only links them. State and logs live in .cache/builds/NAME.{pid,rc,log}; the log's last
# lines are printed when a build fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.cache/builds"
all=(kube e2e csi kustomize)

# command NAME: the build's command line (words).
command_of() {
  case "$1" in
    kube) echo "$root/tools/build-kube-apiserver.sh" ;;
    e2e) echo "$root/tools/build-kube-apiserver.sh --e2e" ;;
    csi) echo "$root/tools/build-csi-tools.sh" ;;
    kustomize) echo "$root/tools/build-kustomize.sh" ;;
    *) echo "background-builds: no build named '$1' (builds: ${all[*]})" >&2; return 2 ;;
  esac
}
running() { [[ -f "$state/$1.pid" && ! -f "$state/$1.rc" ]] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

start_one() {
  local name="$1" cmd
  read -ra cmd <<<"$(command_of "$name")"
  [[ -x "${cmd[0]}" ]] || return 0
  "${cmd[@]}" --check >/dev/null 2>&1 && return 0
  running "$name" && return 0
  mkdir -p "$state"
  rm -f "$state/$name.rc"
  if [[ "$name" == csi || "$name" == kustomize ]]; then
    (CSI_BUILD_GOFLAGS=-p=1 nice -n 10 "${cmd[@]}" >"$state/$name.log" 2>&1; echo $? >"$state/$name.rc") </dev/null &
  elif [[ "$name" == e2e ]]; then
    # After kube (whatever its outcome: a failed kube build leaves e2e to build what it can on its own).
    ("$0" wait kube >/dev/null 2>&1 || true; "${cmd[@]}" >"$state/$name.log" 2>&1; echo $? >"$state/$name.rc") </dev/null &
  else
    ("${cmd[@]}" >"$state/$name.log" 2>&1; echo $? >"$state/$name.rc") </dev/null &
  fi
  echo $! >"$state/$name.pid"
  echo "background build '$name' started (log: $state/$name.log)"
}

wait_one() {
  local name="$1" cmd rc
  read -ra cmd <<<"$(command_of "$name")"
  "${cmd[@]}" --check >/dev/null 2>&1 && return 0
  if [[ ! -f "$state/$name.pid" ]]; then
    echo "background-builds: '$name' was never started and its binaries are missing" >&2
    return 1
  fi
  echo "waiting for the background build '$name' (log: $state/$name.log)"
  while running "$name"; do sleep 5; done
  rc="$(cat "$state/$name.rc" 2>/dev/null || echo 1)"
  if [[ "$rc" != 0 ]] || ! "${cmd[@]}" --check >/dev/null 2>&1; then
    echo "background build '$name' failed (rc=$rc):" >&2
    tail -25 "$state/$name.log" >&2
    return 1
  fi
  grep -E '^(seconds|version|csi-)' "$state/$name.log" || true
}

case "${1:-}" in
  start)
    shift
    (($#)) || set -- "${all[@]}"
    for name in "$@"; do start_one "$name"; done
    ;;
  wait)
    [[ $# -eq 2 ]] || { echo "usage: $0 wait NAME" >&2; exit 2; }
    wait_one "$2"
    ;;
  check)
    for name in "${all[@]}"; do
      read -ra cmd <<<"$(command_of "$name")"
      "${cmd[@]}" --check >/dev/null 2>&1 || exit 1
    done
    ;;
  *)
    echo "usage: $0 start [NAME...] | wait NAME | check" >&2
    exit 2
    ;;
esac
