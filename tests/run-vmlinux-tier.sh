#!/usr/bin/env bash
# Runs the tests that need a Debian -dbg package for one architecture.
# Exit 77 (skipped) when the tier is opt-in and not asked for, or when the
# package can no longer be downloaded: said loudly, never silently.
set -uo pipefail
arch=$1 tests=$2
here=$(cd "$(dirname "$0")" && pwd)
case "$arch" in x86_64|x86_64-6.12) foreign=0 ;; *) foreign=1 ;; esac
if [ $foreign = 1 ] && [ "${KADDR_FOREIGN:-0}" != 1 ]; then
  echo "SKIPPED: the $arch vmlinux tier is opt-in (KADDR_FOREIGN=1 to run it)"
  exit 77
fi
root=$("$here/../scripts/fetch-debug.sh" "$arch")
rc=$?
if [ $rc -eq 3 ]; then
  echo "SKIPPED LOUDLY: the $arch debug package is not downloadable any more; its tests did not run" >&2
  exit 77
elif [ $rc -ne 0 ]; then
  echo "fetch-debug.sh $arch failed ($rc)" >&2
  exit 1
fi
var=KADDR_DEBUG_ROOT_$(echo "$arch" | tr 'a-z.-' 'A-Z__')
export "$var=$root"
exec "$tests" --test-suite="vmlinux-$arch"
