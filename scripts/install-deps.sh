#!/usr/bin/env bash
# Installs what kaddr needs to build and test on Debian 12 (bookworm).
set -euo pipefail
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
packages=(
  cmake g++ make pkg-config ca-certificates            # build tools
  libdw-dev libelf-dev liblzma-dev zlib1g-dev libzstd-dev  # ELF/DWARF, compressed modules
  libdebuginfod-dev debuginfod libxxhash-dev            # debug files from debuginfod, index checksums
  libboost-program-options-dev nlohmann-json3-dev doctest-dev
  clang-14 libclang-rt-14-dev                           # the sanitizer and fuzz build
  gcc binutils xz-utils zstd gzip dpkg-dev apt          # test fixtures, the -dbg package download
  gdb                                                   # the tests check gdb-symbols' lines with gdb itself
  file                                                  # CPackDeb (the .deb) calls file(1)
  python3 python3-jsonschema                            # the JSON schema check of the test suite
  debootstrap                                           # the .deb test's clean Debian 12 root
  libcapstone-dev                                       # Code: disassembly
  libkdumpfile-dev                                      # kdump vmcores (--vmcore)
  parallel                                              # the GNU parallel recipe and its test (README, Fleet use)
  python3-distributed                                   # the Dask recipe and its test (scripts/kaddr-dask.py)
)
echo "install-deps: updating the package lists (apt-get update)..." >&2
$SUDO apt-get update -qq
echo "install-deps: installing ${#packages[@]} Debian packages: ${packages[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: done" >&2
