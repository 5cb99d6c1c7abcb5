#!/usr/bin/env bash
# The tracker's cost as ratios to the same allocation-heavy benchmarks built without it: counters
# only, counters + stack samples at the largest automatic mean (512 KiB), counters + every
# allocation's stack, and, for comparison, the plain build under heaptrack and valgrind memcheck
# (one round each, when installed). The memsoak builds alternate ROUNDS times (default 3) to spread
# the noise of a shared machine; the median time of each side is compared.
# Budgets (docs/architecture.md): counters ≤ 1.03×, sampled ≤ 1.05×, every allocation ≤ 2.5×.
set -euo pipefail
rounds=${1:-3}
build=$(cd "$(dirname "$0")/.." && pwd)/build/tests
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bench() { "$@" --benchmark_min_time=0.5 --benchmark_format=json 2>/dev/null; }
for ((r = 0; r < rounds; ++r)); do
  bench "$build/memsoak_allocation_bench" >"$dir/plain$r.json"
  bench "$build/memsoak_allocation_bench_counted" >"$dir/counted$r.json"
  MEMSOAK_BENCH_STACK_SAMPLE=524288 bench "$build/memsoak_allocation_bench_counted" >"$dir/sampled$r.json"
  MEMSOAK_BENCH_STACK_SAMPLE=0 bench "$build/memsoak_allocation_bench_counted" >"$dir/every$r.json"
done
kinds="plain counted sampled every"
if command -v heaptrack >/dev/null; then
  (cd "$dir" && heaptrack -o "$dir/ht" "$build/memsoak_allocation_bench" --benchmark_min_time=0.5 \
    --benchmark_out="$dir/heaptrack0.json" --benchmark_out_format=json) >/dev/null 2>&1 || true
  [ -s "$dir/heaptrack0.json" ] && kinds="$kinds heaptrack"
fi
if command -v valgrind >/dev/null; then
  valgrind -q --tool=memcheck "$build/memsoak_allocation_bench" --benchmark_min_time=0.2 \
    --benchmark_out="$dir/memcheck0.json" --benchmark_out_format=json >/dev/null 2>&1 || true
  [ -s "$dir/memcheck0.json" ] && kinds="$kinds memcheck"
fi
/usr/bin/python3 - "$dir" "$rounds" $kinds <<'PY'
import json, statistics, sys
d, rounds, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def times(kind):
    out = {}
    for r in range(rounds):
        try:
            data = json.load(open(f"{d}/{kind}{r}.json"))
        except FileNotFoundError:
            continue
        for b in data["benchmarks"]:
            out.setdefault(b["name"], []).append(b["cpu_time"])
    return {k: statistics.median(v) for k, v in out.items()}
t = {k: times(k) for k in kinds}
print(f"{'benchmark':<24} {'plain ns':>10}" + "".join(f" {k:>10}" for k in kinds[1:]))
for name, base in t["plain"].items():
    print(f"{name:<24} {base:10.1f}" + "".join(f" {t[k][name] / base:9.2f}x" for k in kinds[1:]))
PY
