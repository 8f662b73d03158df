#!/usr/bin/env bash
# kaddr's main job on bundled real data: explain a real NULL-pointer oops from
# a Debian 6.1 x86_64 kernel (testdata/.../oops/02-bug-null.txt) with the
# captured /proc + /sys snapshot and the module's .ko. Core-kernel frames get
# source lines from that kernel's Debian debug package when it is here (the
# test suite fetches it: scripts/fetch-debug.sh x86_64, 283 MB); without it
# they stay symbol-only and the demo says how to get it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cap="$here/testdata/captures/deb12-6.1.0-56-cloud"
kaddr=${KADDR:-$here/build/kaddr}
cache=${KADDR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kaddr}
dbg="$cache/linux-image-6.1.0-56-cloud-amd64-dbg-6.1.192-2"
args=(--snapshot "$cap/capture-1/snapshot" --modules "$cap/ktoops")
if [ -f "$dbg/.complete" ]; then
  args+=(--debug-root "$dbg")
else
  cat >&2 <<NOTE
demo: core-kernel frames below are symbol-only: the kernel's debug package is
      not here. 'scripts/fetch-debug.sh x86_64' fetches this capture's (283 MB,
      the test suite uses it too); then run the demo again. For the kernel you
      run: apt-get download linux-image-\$(uname -r)-dbg && dpkg-deb -x
      linux-image-*-dbg_*.deb dbg/ and give kaddr --debug-root dbg/.
NOTE
fi
"$kaddr" oops "${args[@]}" "$cap/capture-1/oops/02-bug-null.txt"
