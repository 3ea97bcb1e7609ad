#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage functions are called indirectly, as "stage_$name"
# Run every test stage (or the ones named), time each, keep going after a failure, and exit non-zero
# when any stage failed. Stages: lint sanity newest (the newest ansible-core, in a trixie container) units
# molecule core216 (the ansible-core 2.16 lane) awx (AWX data, execution environment, site.yml as an AWX job) integration.
#
# The real kube-apiserver builds take most of a fresh machine's time (tools/build-kube-apiserver.sh,
# two Kubernetes versions, ~10-20 min each on 2 cores). When the integration stage is to run and the
# binaries are missing, the build starts in the background at once and the other stages run beside it;
# the integration stage, last, waits for it.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

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
stage_integration() {
  if [[ -n "${kube_build_pid:-}" ]]; then
    echo "waiting for the kube-apiserver build (log: $kube_build_log)"
    wait "$kube_build_pid" || { tail -20 "$kube_build_log"; return 1; }
    tail -3 "$kube_build_log"
  fi
  pytest -q tests/integration
}
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
  for scenario in "${scenarios[@]}"; do
    echo "== molecule test -s $scenario"
    molecule test -s "$scenario" || rc=1
  done
  return "$rc"
}

stages=("$@")
((${#stages[@]})) || stages=(lint sanity newest units molecule core216 awx integration)
if [[ " ${stages[*]} " == *" integration "* ]] && ! tools/build-kube-apiserver.sh --check >/dev/null 2>&1; then
  kube_build_log="$root/.cache/kube-build.log"
  mkdir -p "$root/.cache"
  tools/build-kube-apiserver.sh >"$kube_build_log" 2>&1 &
  kube_build_pid=$!
  echo "kube-apiserver build started in the background (pid $kube_build_pid, log $kube_build_log)"
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
