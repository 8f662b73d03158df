#!/usr/bin/env bash
# Installs what kaddr needs to build and test on Debian 12 (bookworm).
set -euo pipefail
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  cmake g++ make pkg-config ca-certificates \
  libdw-dev libelf-dev liblzma-dev zlib1g-dev libzstd-dev \
  libboost-program-options-dev nlohmann-json3-dev doctest-dev \
  gcc binutils xz-utils zstd gzip dpkg-dev apt >/dev/null
# kdump vmcores (kaddr --vmcore) are read through libkdumpfile.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libkdumpfile-dev >/dev/null
