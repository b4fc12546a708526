#!/usr/bin/env bash
# Runs every benchmark with its baseline in the same go (bench/run.py says
# which) and writes bench/results/latest.json plus a readable table,
# bench/results/latest.txt: each figure, its baseline and their ratio.
# Usage: scripts/bench.sh BUILD_DIR [bench/run.py options, e.g. --only crl --perf]
set -euo pipefail
build=${1:-build}
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)

"$here/scripts/install-bench-deps.sh"
cmake --build "$build" --target smacert ocsp_bench crl_bench bench_fixture devicechange_bench

load=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: load average $load before the run (figures are noisy above ~0.5 on 2 cores)"
# Debian's python3 (standard library only), not whatever python3 is first on PATH.
exec /usr/bin/python3 "$here/bench/run.py" --build "$build" --out "$here/bench/results" "$@"
