#!/usr/bin/env bash
# The Debian package on a clean Debian 12: builds kaddr as a distribution
# would (shared C++ runtime, /usr prefix), `cpack -G DEB`, then in a fresh
# debootstrap --variant=minbase root: `apt-get install ./kaddr_*.deb`
# (runtime dependencies come from the package's Depends), `kaddr oops` on a
# bundled capture, and `man kaddr`.
# Opt-in (KADDR_PACKAGE_TEST=1; .ci/run sets it): it builds a second tree
# and downloads a Debian base system (about 40 MB, once; the pristine root is
# cached as a tarball in $KADDR_CACHE). Needs root for chroot.
#   deb-test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
if [ "${KADDR_PACKAGE_TEST:-0}" != 1 ]; then echo "SKIPPED: the .deb test is opt-in (KADDR_PACKAGE_TEST=1)"; exit 77; fi
if [ "$(id -u)" -ne 0 ]; then echo "SKIPPED LOUDLY: the .deb test needs root (chroot)" >&2; exit 77; fi
say() { echo "deb-test: $*" >&2; }
cache=${KADDR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kaddr}
mkdir -p "$cache" "$work"

say "building the packages with the shared C++ runtime in $work/build"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
      -DKADDR_STATIC_CXX_RUNTIME=OFF -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$work/build" -j"$(nproc)" >/dev/null
rm -f "$work/build"/*.deb
(cd "$work/build" && cpack -G DEB >/dev/null)
deb=$(ls "$work/build"/kaddr_*.deb)
say "built $(basename "$deb"); Depends: $(dpkg-deb -f "$deb" Depends)"
contents=$(dpkg-deb -c "$deb")
for f in usr/bin/kaddr usr/share/man/man1/kaddr.1.gz usr/share/bash-completion/completions/kaddr; do
  grep -q " \./$f\$" <<<"$contents" || { echo "FAIL: $f is not in $deb"; exit 1; }
done

base="$cache/debian12-minbase.tar.zst"
if [ ! -f "$base" ]; then
  exec 9>"$cache/.lock-minbase"; flock 9
  if [ ! -f "$base" ]; then
    command -v debootstrap >/dev/null || { echo "FAIL: debootstrap is not installed (scripts/install-deps.sh)"; exit 1; }
    tmp=$(mktemp -d "$cache/minbase.XXXXXX")
    say "debootstrap --variant=minbase bookworm (once; progress follows)"
    debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >&2
    tar -C "$tmp" -I zstd -cf "$base.part" . && mv "$base.part" "$base"
    rm -rf "$tmp"
  fi
fi

root=$(mktemp -d "$work/root.XXXXXX")
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
say "a clean Debian 12 root in $root"
tar -C "$root" -I zstd -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
cap=testdata/captures/deb12-6.1.0-56-cloud
mkdir -p "$root/tmp/cap"
cp -r "$src/$cap/capture-1" "$src/$cap/ktoops" "$root/tmp/cap/"
say "apt-get install ./$(basename "$deb")"
chroot "$root" apt-get update -q >&2
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$(basename "$deb")" >&2

out=$(chroot "$root" kaddr oops --snapshot /tmp/cap/capture-1/snapshot --modules /tmp/cap/ktoops \
      /tmp/cap/capture-1/oops/02-bug-null.txt 2>&1)
# Here-strings, not `echo | grep -q` / `| head`: under pipefail a reader that
# stops early makes the writer die of SIGPIPE and the script exit silently.
tail -6 <<<"$out"
grep -q 'guilty: ktoops_deref \[ktoops\] at ktoops/ktoops.c:70' <<<"$out" || { echo "FAIL: kaddr oops in the clean root"; exit 1; }
# The libraries kaddr opens on first use (dlopen) came with the package's
# Depends: dpkg-shlibdeps cannot see them.
libs=$(chroot "$root" ldconfig -p)
for so in libkdumpfile.so.10 libcapstone.so.4 libdebuginfod.so.1; do
  grep -q "$so" <<<"$libs" || { echo "FAIL: $so is not installed with the package (Depends)"; exit 1; }
done
page=$(chroot "$root" env MANPAGER=cat COLUMNS=80 man kaddr 2>&1)
head -5 <<<"$page"
grep -q 'offline Linux kernel address and crash analyser' <<<"$page" || { echo "FAIL: man kaddr in the clean root"; exit 1; }
say "OK"
