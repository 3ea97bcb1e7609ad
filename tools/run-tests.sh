#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage functions are called indirectly, as "stage_$name"
# Run every test stage (or the ones named), time each, keep going after a failure, and exit non-zero
# when any stage failed. Stages: lint sanity units molecule core216 (the ansible-core 2.16 lane) integration.
#
# The real Kubernetes builds take most of a fresh machine's time (tools/build-kube-apiserver.sh: two
# versions, ~10-20 min each on 2 cores; v1.25 builds kube-apiserver and kube-controller-manager in one
# `go build`, for the dynamic-provisioning tests). When the integration stage is to run and a binary is
# missing, the build starts in the background at once and the other stages run beside it; the
# integration stage, last, waits for it.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

stage_lint() {
  local scripts
  mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh' .ci/run tools/lab/lab)
  ansible-lint --offline && shellcheck "${scripts[@]}" && antsibull-changelog lint && check_build
}
# The built collection must hold no cache, venv, secret or test output (galaxy.yml build_ignore).
check_build() {
  local out listing
  out="$(mktemp -d)"
  ansible-galaxy collection build --output-path "$out" . >/dev/null || { rm -rf "$out"; return 1; }
  listing="$(tar -tzf "$out"/glusterfs-heketi-*.tar.gz)"
  rm -rf "$out"
  if grep -E '^(\.cache|\.venv[^/]*|\.git|tests/output|tools|\.ci)/' <<<"$listing"; then
    echo "the collection archive contains files that galaxy.yml build_ignore should exclude"
    return 1
  fi
  echo "collection archive: $(wc -l <<<"$listing") entries"
}
stage_sanity() { tools/ansible-test.sh sanity; }
stage_units() { pytest -q tests/unit; }
wait_kube_build() {
  if [[ -n "${kube_build_pid:-}" ]]; then
    echo "waiting for the Kubernetes build (kube-apiserver, kube-controller-manager; log: $kube_build_log)"
    wait "$kube_build_pid" || { tail -20 "$kube_build_log"; return 1; }
    tail -3 "$kube_build_log"
    kube_build_pid=""
  fi
}
stage_integration() {
  wait_kube_build || return 1
  pytest -q tests/integration --ignore-glob='*/test_csi_*'
}
# The CSI driver: go vet and go test (real Heketi), then csi-sanity, the real sidecars against the real
# kube-apiserver and the storageclass role's csi path (tests/integration/test_csi_*.py).
stage_csi() {
  if [[ -n "${csi_build_pid:-}" ]]; then
    echo "waiting for the CSI tools build (log: $csi_build_log)"
    wait "$csi_build_pid" || { tail -20 "$csi_build_log"; return 1; }
    grep -E '^csi-' "$csi_build_log" || true
  fi
  (cd csi && GOPATH="$root/.cache/go" GOTOOLCHAIN=local GOFLAGS=-mod=mod go vet ./... &&
    GOPATH="$root/.cache/go" GOTOOLCHAIN=local GOFLAGS=-mod=mod go test -count=1 ./...) || return 1
  wait_kube_build || return 1
  pytest -q tests/integration/test_csi_*.py
}
stage_core216() { tools/core216-lane.sh; }
stage_molecule() {
  local scenario rc=0
  local scenarios=()
  if [[ -n "${MOLECULE_SCENARIOS:-}" ]]; then
    read -ra scenarios <<<"$MOLECULE_SCENARIOS"
  else
    for scenario in molecule/*/molecule.yml; do
      [[ -f "$scenario" ]] && scenarios+=("$(basename "$(dirname "$scenario")")")
    done
  fi
  for scenario in "${scenarios[@]}"; do
    echo "== molecule test -s $scenario"
    molecule test -s "$scenario" || rc=1
  done
  return "$rc"
}

stages=("$@")
((${#stages[@]})) || stages=(lint sanity units molecule core216 csi integration)
if [[ " ${stages[*]} " =~ " "(integration|csi)" " ]] && ! tools/build-kube-apiserver.sh --check >/dev/null 2>&1; then
  kube_build_log="$root/.cache/kube-build.log"
  mkdir -p "$root/.cache"
  tools/build-kube-apiserver.sh >"$kube_build_log" 2>&1 &
  kube_build_pid=$!
  echo "Kubernetes build started in the background (pid $kube_build_pid, log $kube_build_log)"
fi
# The CSI tools (csi-sanity, csi-provisioner, csi-resizer: tools/build-csi-tools.sh) build beside it, one
# compile job at a time and niced: on 2 cores the kube build, the longer one, keeps most of the CPU.
if [[ " ${stages[*]} " == *" csi "* ]] && ! tools/build-csi-tools.sh --check >/dev/null 2>&1; then
  csi_build_log="$root/.cache/csi-build.log"
  mkdir -p "$root/.cache"
  CSI_BUILD_GOFLAGS=-p=1 nice -n 10 tools/build-csi-tools.sh >"$csi_build_log" 2>&1 &
  csi_build_pid=$!
  echo "CSI tools build started in the background (pid $csi_build_pid, log $csi_build_log)"
fi
declare -A result elapsed
failed=0
for stage in "${stages[@]}"; do
  echo "===== stage: $stage"
  start=$SECONDS
  if "stage_$stage"; then result[$stage]=passed; else result[$stage]=FAILED; failed=1; fi
  elapsed[$stage]=$((SECONDS - start))
done
echo "===== summary"
for stage in "${stages[@]}"; do
  printf '%-12s %-7s %5ss\n' "$stage" "${result[$stage]}" "${elapsed[$stage]}"
done
exit "$failed"
