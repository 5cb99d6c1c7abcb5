#!/usr/bin/env bash
# Per-run cost of each process strategy over in-process on the reranker (no leak), as ratios from
# one soak, and the zygote's overhead next to the fork cost of its template (~30 us per resident
# MB on this class of machine). Usage: tools/bench_strategies.sh [PRESET] [ITERATIONS]
set -euo pipefail
preset=${1:-tiny}
iterations=${2:-300}
here=$(cd "$(dirname "$0")/.." && pwd)
memsoak=${MEMSOAK:-$here/build/tools/memsoak}
out=$(mktemp -d)/bench
trap 'rm -rf "$(dirname "$out")"' EXIT
"$memsoak" run --workload reranker --leak none --preset "$preset" --strategy in-process,fork,zygote,spawn,recycle:100 \
  --iterations "$iterations" --out "$out" --quiet >/dev/null
/usr/bin/python3 - "$out/report.json" "$preset" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
by = {s["strategy"]: s for s in report["strategies"]}
base = by["in-process"]["latency_ms"]["p50"]
print(f"reranker preset {sys.argv[2]}, {by['in-process']['runs']} runs per strategy, p50 latency per run")
print(f"{'strategy':<12} {'p50 ms':>8} {'ratio':>6} {'overhead ms':>12} {'setup ms/run':>13} {'RSS MiB':>8} {'USS MiB':>8}")
for name, s in by.items():
    p50 = s["latency_ms"]["p50"]
    uss = s["uss_mean_bytes"]
    print(f"{name:<12} {p50:8.3f} {p50 / base:6.2f} {p50 - base:12.3f} {s['setup_ms_per_run'] or 0:13.3f} "
          f"{s['rss_last_bytes'] / 2**20:8.1f} {(uss or 0) / 2**20:8.1f}")
z = by["zygote"]
template_mb = z["rss_last_bytes"] / 2**20
print(f"zygote overhead {z['latency_ms']['p50'] - base:.3f} ms vs fork cost of a {template_mb:.1f} MiB template "
      f"at 30 us/MB: {template_mb * 0.030:.3f} ms")
PY
