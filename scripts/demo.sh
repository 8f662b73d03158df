#!/usr/bin/env bash
# kaddr's main job on bundled real data: the frames of a real NULL-pointer
# oops from a Debian 6.1 x86_64 kernel (testdata/.../oops/02-bug-null.txt),
# resolved with the captured /proc + /sys snapshot and the module's .ko.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cap="$here/testdata/captures/deb12-6.1.0-56-cloud"
kaddr=${KADDR:-$here/build/kaddr}
echo "== the oops =="
grep -E "BUG:|RIP: 0010|ktoops|proc_reg_write|vfs_write" "$cap/capture-1/oops/02-bug-null.txt" | head -8
echo
echo "== kaddr resolve =="
"$kaddr" resolve --snapshot "$cap/capture-1/snapshot" --modules "$cap/ktoops" \
  'ktoops_deref+0x6/0x30 [ktoops]'
"$kaddr" resolve --return-address --snapshot "$cap/capture-1/snapshot" --modules "$cap/ktoops" \
  'ktoops_level2+0xd/0x30 [ktoops]' 'ktoops_level1+0xd/0x30 [ktoops]' \
  'ktoops_public_entry+0x2a/0xb0 [ktoops]' 'ktoops_write+0x59/0xb0 [ktoops]' 'proc_reg_write+0x56/0xa0'
