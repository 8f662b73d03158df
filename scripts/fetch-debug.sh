#!/usr/bin/env bash
# Fetch a Debian kernel -dbg package once and extract only the files kaddr's
# tests need, into a cache outside the repository. Prints the extraction root
# (the directory that holds usr/lib/debug/...) on stdout.
#
#   scripts/fetch-debug.sh x86_64|x86_64-6.12|arm64|armhf
#
# Cache: $KADDR_CACHE, else $XDG_CACHE_HOME/kaddr, else ~/.cache/kaddr.
# Exit status 3 means the package could not be downloaded (for instance it has
# left the archive): callers skip the dependent tests and say so loudly.
set -euo pipefail

arch=${1:?usage: fetch-debug.sh x86_64|x86_64-6.12|arm64|armhf}
case "$arch" in
  x86_64) pkg=linux-image-6.1.0-56-cloud-amd64-dbg; ver=6.1.192-2; debarch=amd64
          release=6.1.0-56-cloud-amd64
          sha=a835edf97e22ec84ddcd4d773596376be9eaae0c5094053b14c8e557cf9d8fb7 ;;
  x86_64-6.12)
          pkg=linux-image-6.12.118+deb12-cloud-amd64-dbg; ver=6.12.118-1~deb12u1; debarch=amd64
          release=6.12.118+deb12-cloud-amd64
          sha=b89b7692a251118be998f55e0cb0971bfca2efaf2aa833962f154941023fd746 ;;
  arm64)  pkg=linux-image-6.1.0-56-arm64-dbg; ver=6.1.192-2; debarch=arm64
          release=6.1.0-56-arm64
          sha=270010442986f46ce0f7a140c41f00e522190e6f521addc4c38fe9b512c0d068 ;;
  armhf)  pkg=linux-image-6.1.0-50-armmp-dbg; ver=6.1.176-1; debarch=armhf
          release=6.1.0-50-armmp
          sha=f5970c5f08c4ae7305fb5b68df7018a881e1a2cb0f52cee771832c83484e480a ;;
  *) echo "fetch-debug.sh: unknown tier '$arch' (x86_64, x86_64-6.12, arm64, armhf)" >&2; exit 2 ;;
esac

# Only what the tests use: the debug vmlinux, System.map, and the debug files
# of the modules the captures had loaded (names from their /proc/modules;
# files may spell '_' as '-'). Captures are in testdata/captures or, for the
# big ones, in ../shared/captures beside the clone.
here=$(cd "$(dirname "$0")/.." && pwd)
case "$arch" in
  x86_64) capdirs="deb12-6.1.0-56-cloud deb12-6.1.0-56-cloud-kinds deb12-6.1.0-56-cloud-kdump" ;;
  x86_64-6.12) capdirs="deb12-6.12.118-cloud-kinds deb12-6.12.118-cloud-kdump" ;;
  arm64) capdirs=deb12-6.1.0-56-arm64 ;; armhf) capdirs=deb12-6.1.0-50-armmp ;;
esac
lists=()
for c in $capdirs; do
  for top in "$here/testdata/captures" "$here/../shared/captures"; do
    for f in "$top/$c"/proc_modules.txt "$top/$c"/capture-*/proc_modules.txt; do [ -f "$f" ] && lists+=("$f"); done
  done
done
names=$(cat "${lists[@]}" | awk '{print $1}' | sort -u | sed 's/[_-]/[_-]/g' | paste -sd'|')

# The cache is complete when it holds the files for this list of modules
# (.complete records it: a capture added later extracts again).
cache=${KADDR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kaddr}
root="$cache/$pkg-$ver"
complete() { [ -f "$root/.complete" ] && [ "$(cat "$root/.complete")" = "$names" ]; }
if complete; then echo "$root"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/.lock-$pkg"
flock 9
if complete; then echo "$root"; exit 0; fi

deb="$cache/${pkg}_${ver}_${debarch}.deb"
if [ ! -f "$deb" ]; then
  tmp=$(mktemp -d "$cache/dl.XXXXXX")
  added_arch=
  if [ "$debarch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$debarch"; then
    dpkg --add-architecture "$debarch" && added_arch=$debarch
    apt-get update -qq >&2 || true
  fi
  echo "fetch-debug.sh: downloading $pkg $ver ($debarch) once into $cache (progress follows)" >&2
  if ! (cd "$tmp" && apt-get download "$pkg:$debarch=$ver" >&2); then
    [ -n "$added_arch" ] && dpkg --remove-architecture "$added_arch" || true
    rm -rf "$tmp"
    echo "fetch-debug.sh: cannot download $pkg $ver ($debarch) from the Debian archive" >&2
    exit 3
  fi
  if [ -n "$added_arch" ]; then dpkg --remove-architecture "$added_arch" || true; apt-get update -qq >&2 || true; fi
  mv "$tmp"/*.deb "$deb"; rm -rf "$tmp"
fi
if [ -n "$sha" ] && ! echo "$sha  $deb" | sha256sum -c --quiet - >&2; then
  echo "fetch-debug.sh: $deb does not have the sha256 the capture's MANIFEST names" >&2
  rm -f "$deb"; exit 3
fi

rel_re=$(printf '%s' "$release" | sed 's/[.+]/\\&/g')   # 6.12.118+deb12: '+' and '.' are literal
members=$(mktemp)
dpkg-deb --fsys-tarfile "$deb" | tar -t |
  grep -E "^\./usr/lib/debug/boot/(vmlinux|System\.map)-$rel_re\$|^\./usr/lib/debug/lib/modules/$rel_re/kernel/.*/($names)\.ko\$" > "$members"
rm -rf "$root.part"; mkdir -p "$root.part"
echo "fetch-debug.sh: extracting $(wc -l < "$members") debug files into $root" >&2
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root.part" -T "$members" >&2
rm -f "$members"
echo "$names" > "$root.part/.complete"
rm -rf "$root"; mv "$root.part" "$root"
rm -f "$deb"    # the extracted tree is what is reused; the .deb is not kept
echo "$root"
