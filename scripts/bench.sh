#!/usr/bin/env bash
# Runs every benchmark and writes bench/results/latest.json plus a readable
# table: each figure beside its baseline from the same run, and their ratio.
# Usage: scripts/bench.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/bench/results"
mkdir -p "$out"
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

cmake --build "$build" --target ocsp_bench
"$build/bench/ocsp_bench" --benchmark_format=json --benchmark_min_time=1 > "$raw"

python3 - "$raw" "$out" <<'PY'
import json, sys, datetime
raw, out = sys.argv[1], sys.argv[2]
doc = json.load(open(raw))
rate = {b["name"]: b["items_per_second"] for b in doc["benchmarks"]}
rows = [{
    "figure": "OCSP answer, pre-signed, in process (answers/s)",
    "value": rate["BM_OcspPresigned"],
    "baseline": "signing each answer on demand (answers/s)",
    "baseline_value": rate["BM_OcspSignOnDemand"],
}]
for r in rows:
    r["ratio"] = r["value"] / r["baseline_value"]
result = {"date": datetime.datetime.utcnow().isoformat() + "Z", "context": doc["context"], "results": rows}
json.dump(result, open(out + "/latest.json", "w"), indent=2)
with open(out + "/latest.txt", "w") as t:
    for r in rows:
        line = f'{r["figure"]}: {r["value"]:,.0f}  vs  {r["baseline"]}: {r["baseline_value"]:,.0f}  →  ×{r["ratio"]:.1f}'
        print(line)
        t.write(line + "\n")
PY
