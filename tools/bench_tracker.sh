#!/usr/bin/env bash
# The counting allocator's cost as ratios: the same allocation-heavy benchmarks built without
# and with it, alternated ROUNDS times (default 3) to spread the noise of a shared machine; the
# median time of each side is compared. Budget (docs/architecture.md): counters only ≤ 1.03×.
set -euo pipefail
rounds=${1:-3}
build=$(cd "$(dirname "$0")/.." && pwd)/build/tests
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for ((r = 0; r < rounds; ++r)); do
  "$build/memsoak_allocation_bench" --benchmark_min_time=0.5 --benchmark_format=json >"$dir/plain$r.json" 2>/dev/null
  "$build/memsoak_allocation_bench_counted" --benchmark_min_time=0.5 --benchmark_format=json >"$dir/counted$r.json" 2>/dev/null
done
/usr/bin/python3 - "$dir" "$rounds" <<'PY'
import json, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
def times(kind):
    out = {}
    for r in range(rounds):
        for b in json.load(open(f"{d}/{kind}{r}.json"))["benchmarks"]:
            out.setdefault(b["name"], []).append(b["cpu_time"])
    return {k: statistics.median(v) for k, v in out.items()}
plain, counted = times("plain"), times("counted")
print(f"{'benchmark':<24} {'plain ns':>10} {'counted ns':>11} {'ratio':>6}")
for name in plain:
    print(f"{name:<24} {plain[name]:10.1f} {counted[name]:11.1f} {counted[name] / plain[name]:6.3f}")
PY
