#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage functions are called indirectly, as "stage_$name"
# Run every test stage (or the ones named), time each, keep going after a failure, and exit non-zero
# when any stage failed. Stages: lint sanity newest (the newest ansible-core, in a trixie container) units
# molecule core216 (the ansible-core 2.16 lane) awx (AWX data, execution environment, site.yml as an AWX job)
# integration (the modules against the real Heketi) lab-tests (roles and drills on the container lab) csi (the CSI
# driver: go test, csi-sanity, a real mount) kube-tests (real kube-apiserver + kube-controller-manager:
# StorageClass, PVCs, the CSI sidecars) and day2 (the day-2 playbooks on a lab of their own, the real Heketi with
# its ssh executor; `day2-lab` is its old name). They run in lanes beside each other (below).
#
# The Kubernetes binaries and the CSI tools take most of a fresh machine's time (~20-35 min per Kubernetes
# version on 2 cores). tools/background-builds.sh starts them in the background (.ci/run does so before
# `make setup`); only csi and kube-tests wait for them.
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
  extra="$(grep -vE '^(\./)?((plugins|roles|playbooks|meta|docs|csi/deploy)(/.*)?|csi/?|changelogs/?|changelogs/changelog\.yaml|changelogs/config\.yaml|(README\.md|LICENSE|CHANGELOG\.rst|MANIFEST\.json|FILES\.json))$' <<<"$listing")"
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
# Tests by what they need: a Kubernetes control plane (the kube build), the CSI tools, the container lab (each file
# its own lab), the day-2 lab; every other file under tests/integration needs only the real Heketi (stage
# integration).
kube_tests=(test_storageclass.py test_provisioning.py test_csi_role.py test_csi_sidecars.py test_csi_driver_role.py)
csi_tests=(test_csi_sanity.py test_csi_mount.py)
lab_tests=(test_device_facts.py test_drills.py test_firewall_lab.py test_heketi_role.py test_package_transactions.py
  test_monitoring_lab.py)
# A new user's first hour on a fresh lab, as the README tells it (a stage of its own: it is long, and the lanes
# balance better with it apart from lab-tests).
first_hour_tests=(test_first_hour.py)
day2_tests=(test_day2_lab.py test_day2_ops_lab.py test_failover_lab.py)
pods_tests=(test_kube_node.py test_pods_intree.py test_pods_csi.py)
stage_integration() {
  local ignore=() t
  for t in "${kube_tests[@]}" "${csi_tests[@]}" "${lab_tests[@]}" "${first_hour_tests[@]}" "${day2_tests[@]}" \
    "${pods_tests[@]}"; do
    ignore+=(--ignore "tests/integration/$t")
  done
  pytest -q tests/integration "${ignore[@]}"
}
stage_lab-tests() { pytest -q "${lab_tests[@]/#/tests/integration/}"; }
stage_first-hour() { pytest -q --durations=0 "${first_hour_tests[@]/#/tests/integration/}"; }
# GOTOOLCHAIN=auto: csi/go.mod names the toolchain the driver is built with (its toolchain line: the Go module
# proxy serves it once into the module cache, outside the clone).
go_csi() { (cd csi && GOTOOLCHAIN=auto GOFLAGS=-mod=mod CGO_ENABLED=0 go "$@"); }
stage_csi() {
  go_csi vet ./... && go_csi test -count=1 ./... || return 1
  tools/background-builds.sh wait csi || return 1
  pytest -q "${csi_tests[@]/#/tests/integration/}"
}
stage_kube-tests() {
  tools/background-builds.sh wait kube && tools/background-builds.sh wait csi && tools/background-builds.sh wait kustomize || return 1
  pytest -q "${kube_tests[@]/#/tests/integration/}"
}
# Pods on real kubelets (tools/kube/node.py): the Kubernetes binaries, glusterd containers, the CSI tools and image.
stage_pods() {
  tools/background-builds.sh wait kube && tools/background-builds.sh wait csi || return 1
  pytest -q --durations=0 "${pods_tests[@]/#/tests/integration/}"
}
# One 4-node lab per file (its module-scoped fixture), taken down at the end of the file.
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
    # extensions/molecule: the layout Molecule expects in a collection (galaxy.yml at the root).
    for scenario in extensions/molecule/*/molecule.yml; do
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
((${#stages[@]})) || stages=(lint sanity newest units molecule core216 awx integration lab-tests first-hour day2 csi kube-tests pods)
build_stages=" csi kube-tests pods "
if [[ " ${stages[*]} " =~ " "(csi|kube-tests|pods)" " ]]; then
  tools/background-builds.sh start || exit 1
fi
declare -A result elapsed lane_of
failed=0
lane_dir="$root/.cache/lanes"
mkdir -p "$lane_dir"
rm -f "$lane_dir"/*.rc "$lane_dir"/*.log "$lane_dir"/queue
run_stage() {
  local stage="$1" start=$SECONDS rc=0
  echo "===== stage: $stage"
  "stage_$stage" || rc=$?
  echo "$rc $((SECONDS - start))" >"$lane_dir/$stage.rc"
  return 0
}

# Lanes: TEST_LANES (default 3) lanes take the stages from one queue, each running its next stage as soon as it is
# free. On 2 cores most stages spend much of their time waiting (container boots, package installs in the
# containers, polling, the background builds), so three lanes overlap those waits; stages never share a lab, a
# port or a scratch tree (tests/integration/test_lanes_side_by_side.py). The queue holds the longest stages first,
# by the time each took in the last run on this machine (kept in the build cache; the defaults below otherwise),
# and on a machine whose background builds are still running the stages that wait for them last. A stage's
# output is printed, whole, when it ends. TEST_LANES=1 runs the stages one after another in the order given.
declare -A expected=([lint]=100 [sanity]=80 [newest]=200 [units]=180 [molecule]=600 [core216]=250 [awx]=220
  [integration]=400 [lab-tests]=900 [day2]=500 [csi]=120 [kube-tests]=700 [pods]=400
  [first-hour]=400)
times_file="$build_cache_root/stage-times"
if [[ -r "$times_file" ]]; then
  while read -r stage secs; do [[ -n "$stage" && "$secs" =~ ^[0-9]+$ ]] && expected[$stage]=$secs; done <"$times_file"
fi
lanes="${TEST_LANES:-3}"
((${#stages[@]} > 1)) || lanes=1
order=("${stages[@]}")
if ((lanes > 1)); then
  builds_done=1
  tools/background-builds.sh check >/dev/null 2>&1 || builds_done=0
  mapfile -t order < <(for stage in "${stages[@]}"; do
    late=0
    [[ $builds_done == 0 && "$build_stages" == *" $stage "* ]] && late=1
    echo "$late ${expected[$stage]:-300} $stage"
  done | sort -k1,1n -k2,2nr | cut -d' ' -f3)
fi
printf '%s\n' "${order[@]}" >"$lane_dir/queue"
take() {
  local fd stage
  exec {fd}>"$lane_dir/queue.lock"
  flock "$fd"
  stage="$(head -n1 "$lane_dir/queue")"
  sed -i '1d' "$lane_dir/queue"
  exec {fd}>&-
  echo "$stage"
}
lane() {
  local n="$1" stage fd
  while stage="$(take)"; [[ -n "$stage" ]]; do
    echo "$n" >"$lane_dir/$stage.lane"
    run_stage "$stage" >"$lane_dir/$stage.log" 2>&1 </dev/null
    exec {fd}>"$lane_dir/out.lock"
    flock "$fd"
    echo "===== lane $n: $stage ($(cut -d' ' -f2 "$lane_dir/$stage.rc")s, rc $(cut -d' ' -f1 "$lane_dir/$stage.rc"))"
    cat "$lane_dir/$stage.log"
    exec {fd}>&-
  done
}
if ((lanes == 1)); then
  for stage in "${order[@]}"; do run_stage "$stage"; done
else
  echo "===== $lanes lanes; queue: ${order[*]}"
  pids=()
  for ((n = 1; n <= lanes; n++)); do lane "$n" & pids+=($!); done
  wait "${pids[@]}"
fi
for stage in "${stages[@]}"; do
  read -r rc secs <"$lane_dir/$stage.rc" 2>/dev/null || { rc=1; secs=0; }
  if [[ "$rc" == 0 ]]; then result[$stage]=passed; else result[$stage]=FAILED; failed=1; fi
  elapsed[$stage]=$secs
  lane_of[$stage]="$(cat "$lane_dir/$stage.lane" 2>/dev/null || echo 1)"
done
# The times of the stages that passed, for the next run's queue on this machine.
mkdir -p "$build_cache_root"
{
  for stage in "${!expected[@]}"; do
    if [[ "${result[$stage]:-}" == passed ]]; then echo "$stage ${elapsed[$stage]}"; else echo "$stage ${expected[$stage]}"; fi
  done
} | sort >"$times_file.new" && mv "$times_file.new" "$times_file"
echo "===== summary"
for stage in "${stages[@]}"; do
  printf '%-12s %-7s %5ss  lane %s\n' "$stage" "${result[$stage]}" "${elapsed[$stage]}" "${lane_of[$stage]}"
done
echo "total ${SECONDS}s"
exit "$failed"
