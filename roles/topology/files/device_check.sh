#!/bin/sh
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Read-only inspection of the devices given as arguments; prints a JSON list, one object per device:
# exists, block, mounted (by major:minor in mountinfo, or active swap), partitions (child partitions
# in sysfs), fstype and pttype (blkid low-level probe: no udev needed), vg (for LVM2 members).
# Nothing is written to any device.
set -u
LC_ALL=C
export LC_ALL
printf '['
sep=''
for dev in "$@"; do
  exists=false block=false mounted=false parts='' fstype='' pttype='' vg=''
  [ -e "$dev" ] && exists=true
  if [ -b "$dev" ]; then
    block=true
    mm=$(stat -L -c '%t:%T' "$dev")
    maj=$((0x${mm%:*}))
    min=$((0x${mm#*:}))
    if awk -v d="$maj:$min" '$3 == d { f = 1 } END { exit !f }' /proc/self/mountinfo; then
      mounted=true
    fi
    real=$(readlink -f "$dev")
    if [ -r /proc/swaps ] && awk -v a="$dev" -v b="$real" 'NR > 1 && ($1 == a || $1 == b) { f = 1 } END { exit !f }' /proc/swaps; then
      mounted=true
    fi
    for p in /sys/dev/block/"$maj:$min"/*/partition; do
      [ -e "$p" ] || continue
      d=${p%/partition}
      parts="$parts${parts:+ }${d##*/}"
    done
    probe=$(blkid -p -o export "$dev" 2>/dev/null || true)
    fstype=$(printf '%s\n' "$probe" | sed -n 's/^TYPE=//p' | head -n 1)
    pttype=$(printf '%s\n' "$probe" | sed -n 's/^PTTYPE=//p' | head -n 1)
    if [ "$fstype" = LVM2_member ] && command -v pvs >/dev/null 2>&1; then
      vg=$(pvs --noheadings -o vg_name "$dev" 2>/dev/null | tr -d ' \n' || true)
    fi
  fi
  printf '%s{"path":"%s","exists":%s,"block":%s,"mounted":%s,"partitions":"%s","fstype":"%s","pttype":"%s","vg":"%s"}' \
    "$sep" "$dev" "$exists" "$block" "$mounted" "$parts" "$fstype" "$pttype" "$vg"
  sep=','
done
printf ']\n'
