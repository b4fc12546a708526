#!/usr/bin/env bash
# Installs the Debian packages that smacert's build and tests need, and only
# those that are missing. Safe to run again: it does nothing when all are there.
# Usage: scripts/install-deps.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang-format python3
  # libraries (docs/architecture.md says what each is for)
  libssl-dev libboost-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libexpected-dev libpcsclite-dev libpq-dev
  libjemalloc-dev
  # tests
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # peers that check our output in tests; PostgreSQL 15 for the shared store's tests
  # (scripts/pg-test.sh runs a throwaway server; the package's own cluster is not used)
  openssl sqlite3 gnutls-bin libnss3-tools curl postgresql-15
  # the scale-out cluster of tests/cluster (scripts/cluster-up.sh)
  patroni etcd-server haproxy
  pcscd vsmartcard-vpcd opensc pcsc-tools
  # browser tests (tests/browser): Debian's Chromium and a CJK font for the screenshots
  chromium fonts-ipafont-gothic
)

exec "$(dirname "$0")/install-packages.sh" install-deps "${packages[@]}"
