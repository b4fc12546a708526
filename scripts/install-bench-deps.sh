#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs beyond the build's own
# (scripts/install-deps.sh): the peers that serve as baselines (nginx,
# openssl), the load generator (wrk), the profiler (linux-perf) and
# util-linux (taskset). Only the missing ones are installed, and nginx's system
# service is not started (scripts/install-packages.sh).
# Usage: scripts/install-bench-deps.sh
set -euo pipefail

packages=(nginx wrk openssl linux-perf util-linux python3 procps)

exec "$(dirname "$0")/install-packages.sh" install-bench-deps "${packages[@]}"
