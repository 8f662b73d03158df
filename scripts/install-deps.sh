#!/usr/bin/env bash
# Installs what kaddr needs to build and test on Debian 12 (bookworm).
set -euo pipefail
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  cmake g++ make pkg-config ca-certificates \
  libdw-dev libelf-dev libdebuginfod-dev debuginfod liblzma-dev zlib1g-dev libzstd-dev libxxhash-dev \
  libboost-program-options-dev nlohmann-json3-dev doctest-dev \
  gcc binutils xz-utils zstd gzip dpkg-dev apt \
  clang-14 libclang-rt-14-dev >/dev/null
# Capstone disassembles the reports' Code: bytes (x86_64, arm64, ARM, Thumb).
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libcapstone-dev >/dev/null
# kdump vmcores (kaddr --vmcore) are read through libkdumpfile.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libkdumpfile-dev >/dev/null
