#!/usr/bin/env bash
# kaddr's main job on bundled real data: explain a real NULL-pointer oops from
# a Debian 6.1 x86_64 kernel (testdata/.../oops/02-bug-null.txt) with the
# captured /proc + /sys snapshot and the module's .ko. With the Debian debug
# package extracted (scripts/fetch-debug.sh x86_64), add --debug-root DIR for
# core-kernel source lines too.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cap="$here/testdata/captures/deb12-6.1.0-56-cloud"
kaddr=${KADDR:-$here/build/kaddr}
"$kaddr" oops --snapshot "$cap/capture-1/snapshot" --modules "$cap/ktoops" "$cap/capture-1/oops/02-bug-null.txt"
