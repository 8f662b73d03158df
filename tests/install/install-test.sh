#!/usr/bin/env bash
# `cmake --install` into a scratch prefix, then use what it installed the way
# others would: the binary, the man page, bash completion, and libkaddr
# linked by a separate program through pkg-config.
#   install-test.sh BUILD_DIR FIXTURE_VMLINUX EXPECTED_LINE
set -euo pipefail
build=$1 fixture=$2 line=$3
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/kaddr-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/kaddr share/man/man1/kaddr.1.gz share/bash-completion/completions/kaddr \
         share/zsh/vendor-completions/_kaddr share/kaddr/kaddr-record.schema.json lib/libkaddr.a lib/pkgconfig/kaddr.pc \
         include/kaddr/resolver.h include/kaddr/version.h; do
  [ -f "$prefix/$f" ] || { echo "FAIL: cmake --install did not install $f"; exit 1; }
done
"$prefix/bin/kaddr" --version
grep -q '^\.TH KADDR 1' <<<"$(gzip -dc "$prefix/share/man/man1/kaddr.1.gz")" || { echo "FAIL: man page"; exit 1; }
# Completion: the function is defined and offers the subcommands and options.
out=$(PATH="$prefix/bin:$PATH" bash -c '
  source "$1/share/bash-completion/completions/kaddr"
  COMP_WORDS=(kaddr res); COMP_CWORD=1; _kaddr; echo "${COMPREPLY[*]}"
  COMP_WORDS=(kaddr oops --for); COMP_CWORD=2; _kaddr; echo "${COMPREPLY[*]}"' _ "$prefix")
[ "$out" = $'resolve\n--format' ] || { echo "FAIL: bash completion offered: $out"; exit 1; }
# libkaddr from another program, found through pkg-config alone (the .pc
# names the configured prefix; --define-prefix relocates it to the scratch one).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
g++ -O0 -o "$prefix/consumer" "$here/consumer.cpp" $(pkg-config --define-prefix --cflags --libs kaddr)
got=$("$prefix/consumer" "$fixture" fx_in_leaf)
echo "$got"
case "$got" in
  *"\"line\":$line"*) echo "install test: OK" ;;
  *) echo "FAIL: the pkg-config consumer did not find line $line"; exit 1 ;;
esac
