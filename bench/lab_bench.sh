# shellcheck shell=bash
# Sourced by the benchmarks that run playbooks on a container lab of their own (site_converge.sh,
# topology_scaling.sh): the repository root as working folder, the venv on PATH, the lab name
# (BENCH_LAB_NAME, else the script's default), a work folder, and a trap that removes the lab and
# that folder however the script ends.
#   bench_setup DEFAULT_LAB_NAME      sets root, name, work
#   timed LOG COMMAND...              runs COMMAND with its output in LOG; prints the wall time in s
bench_setup() {
  root="$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)"
  cd "$root" || exit 1
  export PATH="$root/.venv/bin:$PATH"
  name="${BENCH_LAB_NAME:-$1}"
  work="$(mktemp -d)"
  trap 'tools/lab/lab down --name "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
}

timed() {
  local log="$1" start end
  shift
  start=$(date +%s.%N)
  "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; return 1; }
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}
