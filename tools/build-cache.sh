# shellcheck shell=bash
# Sourced by the long builds (tools/build-*.sh, tools/lab/build-image.sh, tools/newest-core-lane.sh).
#
# Their outputs live in a cache OUTSIDE the clone, so that a fresh clone on the same machine (CI runs
# .ci/run on one) reuses them: $GLUSTERFS_HEKETI_CACHE, else ~/.cache/glusterfs-heketi. Each output is
# keyed by its version and by the sha256 of the script that builds it (and of the files that script reads),
# so a changed build script builds again and an unchanged one never does. The clone gets hard links to the
# outputs under .cache/ (copies across file systems), where the tests and the lab inventory look for them.
# The Go module cache (GOPATH) is shared there too; Go's build cache is outside the clone already.
build_cache_root="${GLUSTERFS_HEKETI_CACHE:-$HOME/.cache/glusterfs-heketi}"
export GOPATH="${GOPATH:-$build_cache_root/go}"

# build_key FILE...: the key of a build: 12 hex digits of the sha256 of FILEs (the script and its inputs).
build_key() { cat "$@" | sha256sum | cut -c1-12; }

# link_outputs FROM TO: TO (in the clone) gets every file of FROM (in the cache), replacing what is there.
link_outputs() {
  mkdir -p "$2"
  cp -alf "$1/." "$2/" 2>/dev/null || cp -af "$1/." "$2/"
}
