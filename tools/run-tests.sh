#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage functions are called indirectly, as "stage_$name"
# Run every test stage (or the ones named), time each, keep going after a failure, and exit non-zero
# when any stage failed. Stages, in order: lint sanity newest (the newest ansible-core, in a trixie
# container) units molecule core216 (the ansible-core 2.16 lane) awx (AWX data, execution environment,
# site.yml as an AWX job) integration (real Heketi, the container lab) csi (the CSI driver: go test,
# csi-sanity, a real mount) kube-tests (real kube-apiserver + kube-controller-manager: StorageClass, PVCs,
# the CSI sidecars) and day2 (the day-2 playbooks on a lab of their own, the real Heketi with its ssh executor;
# `day2-lab` is its old name).
#
# The Kubernetes binaries and the CSI tools take most of a fresh machine's time (~20-35 min per Kubernetes
# version on 2 cores). tools/background-builds.sh starts them in the background (.ci/run does so before
# `make setup`); only csi and kube-tests, the last stages, wait for them.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
# GOPATH (the Go module cache) in the build cache outside the clone, for every Go command of the tests.
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"

stage_lint() {
  local scripts
  mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh' .ci/run tools/lab/lab)
  ansible-lint --offline && shellcheck "${scripts[@]}" && antsibull-changelog lint && check_build
}
# --- the package (issue 12, part 4) --------------------------------------------------------------
# The built collection carries runtime content only (galaxy.yml build_ignore), and galaxy-importer, as
# Galaxy runs it on upload (ansible-doc, ansible-lint), prints no WARNING or ERROR line on it.
check_build() {
  local out listing extra rc=0
  out="$(mktemp -d)"
  ansible-galaxy collection build --output-path "$out" . >/dev/null || { rm -rf "$out"; return 1; }
  listing="$(tar -tzf "$out"/glusterfs-heketi-*.tar.gz)"
  extra="$(grep -vE '^(\./)?((plugins|roles|playbooks|meta|docs)(/.*)?|changelogs/?|changelogs/changelog\.yaml|changelogs/config\.yaml|(README\.md|LICENSE|CHANGELOG\.rst|MANIFEST\.json|FILES\.json))$' <<<"$listing")"
  if [[ -n "$extra" ]]; then
    echo "the collection archive holds files that are not runtime content (galaxy.yml build_ignore):"
    echo "$extra"
    rc=1
  fi
  echo "collection archive: $(wc -l <<<"$listing") entries"
  (cd "$out" && python -m galaxy_importer.main glusterfs-heketi-*.tar.gz >importer.log 2>&1) || { tail -20 "$out/importer.log"; rc=1; }
  if grep -E 'WARNING|ERROR' "$out/importer.log"; then
    echo "galaxy-importer printed the WARNING/ERROR lines above"
    rc=1
  fi
  tail -1 "$out/importer.log"
  rm -rf "$out"
  return "$rc"
}
# -------------------------------------------------------------------------------------------------
stage_sanity() { tools/ansible-test.sh sanity; }
stage_units() { pytest -q tests/unit; }
# Tests by what they need: a Kubernetes control plane (the kube build), the CSI tools, the day-2 lab (a stage of
# its own, in the second lane); every other file under tests/integration needs only Heketi and docker.
kube_tests=(test_storageclass.py test_provisioning.py test_csi_role.py test_csi_sidecars.py)
csi_tests=(test_csi_sanity.py test_csi_mount.py)
day2_tests=(test_day2_lab.py)
stage_integration() {
  local ignore=() t
  for t in "${kube_tests[@]}" "${csi_tests[@]}" "${day2_tests[@]}"; do ignore+=(--ignore "tests/integration/$t"); done
  pytest -q tests/integration "${ignore[@]}"
}
# GOTOOLCHAIN=auto: csi/go.mod names the toolchain the driver is built with (its toolchain line: the Go module
# proxy serves it once into the module cache, outside the clone).
go_csi() { (cd csi && GOTOOLCHAIN=auto GOFLAGS=-mod=mod CGO_ENABLED=0 go "$@"); }
stage_csi() {
  go_csi vet ./... && go_csi test -count=1 ./... || return 1
  tools/background-builds.sh wait csi || return 1
  pytest -q "${csi_tests[@]/#/tests/integration/}"
}
stage_kube-tests() {
  tools/background-builds.sh wait kube && tools/background-builds.sh wait csi || return 1
  pytest -q "${kube_tests[@]/#/tests/integration/}"
}
# One 4-node lab for the whole file (its module-scoped fixture), taken down at the end.
stage_day2() { pytest -q --durations=0 "${day2_tests[@]/#/tests/integration/}"; }
stage_day2-lab() { stage_day2; }
stage_core216() { tools/core216-lane.sh; }
# --- issue 12: the newest ansible-core, and AWX ----------------------------------------------------
stage_newest() { tools/newest-core-lane.sh; }
stage_awx() { pytest -q tests/awx; }
# -------------------------------------------------------------------------------------------------
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
  local failed_scenarios=()
  for scenario in "${scenarios[@]}"; do
    echo "== molecule test -s $scenario"
    molecule test -s "$scenario" || { rc=1; failed_scenarios+=("$scenario"); }
  done
  # Named last, so that the tail of the log (all CI shows of a long stage) says which scenario failed.
  ((rc == 0)) || echo "== molecule: FAILED scenarios: ${failed_scenarios[*]}"
  return "$rc"
}

stages=("$@")
((${#stages[@]})) || stages=(lint sanity newest units molecule core216 awx integration day2 csi kube-tests)
if [[ " ${stages[*]} " =~ " "(csi|kube-tests)" " ]]; then
  tools/background-builds.sh start || exit 1
fi
declare -A result elapsed
failed=0
# A second lane runs some stages, one after another in the order of the stage list, beside the first lane's from
# the start: the stages that wait for the background builds and are loopback-bound or short (core216, awx, day2,
# csi, kube-tests; the first three run while the builds that csi and kube-tests wait for are still going). On 2 cores
# the two lanes overlap their waits (builds, container boots, polling). Its output is printed when it ends.
# PARALLEL_STAGES= runs every stage in order in one lane.
read -ra parallel <<<"${PARALLEL_STAGES-kube-tests csi core216 awx day2 day2-lab}"
lane_dir="$root/.cache/lanes"
declare -A beside
run_stage() {
  local stage="$1" start=$SECONDS rc=0
  echo "===== stage: $stage"
  "stage_$stage" || rc=$?
  echo "$rc $((SECONDS - start))" >"$lane_dir/$stage.rc"
  return 0
}
mkdir -p "$lane_dir"
rm -f "$lane_dir"/*.rc
second=()
if ((${#stages[@]} > 1)); then
  for stage in "${stages[@]}"; do
    [[ " ${parallel[*]} " == *" $stage "* ]] && { second+=("$stage"); beside[$stage]=1; }
  done
fi
lane_pid=""
if ((${#second[@]})); then
  (for stage in "${second[@]}"; do run_stage "$stage"; done) >"$lane_dir/second.log" 2>&1 </dev/null &
  lane_pid=$!
  echo "===== second lane started: ${second[*]} (log: $lane_dir/second.log)"
fi
for stage in "${stages[@]}"; do
  [[ -n "${beside[$stage]:-}" ]] || run_stage "$stage"
done
if [[ -n "$lane_pid" ]]; then
  wait "$lane_pid"
  echo "===== second lane (${second[*]}):"
  cat "$lane_dir/second.log"
fi
for stage in "${stages[@]}"; do
  read -r rc secs <"$lane_dir/$stage.rc" 2>/dev/null || { rc=1; secs=0; }
  if [[ "$rc" == 0 ]]; then result[$stage]=passed; else result[$stage]=FAILED; failed=1; fi
  elapsed[$stage]=$secs
done
echo "===== summary"
for stage in "${stages[@]}"; do
  printf '%-12s %-7s %5ss%s\n' "$stage" "${result[$stage]}" "${elapsed[$stage]}" "${beside[$stage]:+ (second lane)}"
done
echo "total ${SECONDS}s"
exit "$failed"
