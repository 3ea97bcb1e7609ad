#!/bin/sh
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run on the Heketi host: can Heketi's ssh executor use each node? For every HOST=ADDRESS argument,
# ssh to ADDRESS non-interactively with Heketi's key and run `gluster --version` and
# `systemctl is-active glusterd` (through `sudo -n` when SUDO is true). The node's host key must be
# in KNOWN_HOSTS (the file Heketi itself verifies host keys against; strict checking, nothing is
# added to it). Prints a JSON list of {"host", "manage", "rc", "reason"}; rc 255 means ssh itself
# failed (a host key mismatch included). Changes nothing.
#   ssh_check.sh KEYFILE PORT USER SUDO TIMEOUT KNOWN_HOSTS HOST=ADDRESS...
set -u
LC_ALL=C
export LC_ALL
keyfile=$1 port=$2 user=$3 sudo=$4 timeout=$5 known_hosts=$6
shift 6
prefix=''
[ "$sudo" = true ] && prefix='sudo -n '
json() { printf '%s' "$1" | tr -d '\r' | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g'; }
printf '['
sep=''
for pair in "$@"; do
  host=${pair%%=*}
  addr=${pair#*=}
  out=$(ssh -n -i "$keyfile" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$known_hosts" -o GlobalKnownHostsFile=/dev/null -o CheckHostIP=no \
        -o LogLevel=ERROR -o ConnectTimeout="$timeout" \
        "$user@$addr" "${prefix}gluster --version >/dev/null && ${prefix}systemctl is-active glusterd" 2>&1)
  rc=$?
  # A changed host key: ssh's own last line says it; its warning banner before it is noise here.
  case $out in
    *'Host key verification failed'*) out='Host key verification failed.' ;;
  esac
  printf '%s{"host":"%s","manage":"%s","rc":%d,"reason":"%s"}' "$sep" "$(json "$host")" "$(json "$addr")" "$rc" "$(json "$out")"
  sep=','
done
printf ']\n'
