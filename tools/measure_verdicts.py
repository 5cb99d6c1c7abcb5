#!/usr/bin/env python3
"""Measure how well memsoak's verdict works: run `memsoak run` many times, read each run
directory's report.json and print Markdown tables (ready to paste into README.md).

Suites
  sensitivity  the smallest leak found within --iterations runs. From RSS alone: the example C++
               worker (`--leak B`, `--exec-tracker off`, in-process), B = 16..256; goal: leak or
               retention for B >= 64, RSS rate within 10 % of the bytes kept (--rss-expect).
               From the live heap: synthetic `cache:B` and `dropped:B`, B = 2..32; goal: leak for
               B >= 8, heap rate within 10 % of the exact growth of memsoak's heap counters.
  false-leaks  no `leak` or `retention` over --seeds seeds each of a stable noisy workload
               (in-process, fork), bounded caches filling before and after warm-up, recycling.
  all          both.

--iterations auto: memsoak stops each strategy itself; the tables add the runs per strategy. If
this memsoak refuses it, the mode is skipped with a message (exit 77).

stdout: the command line, Markdown tables, the misses with report.json's verdict_reason.
stderr: one progress line per soak (soaks run one at a time).
Exit status: 0 every goal met, 1 a goal missed or a soak failed, 2 bad usage, 77 auto skipped.
"""

import argparse
import csv
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RSS_SIZES = [16, 32, 64, 128, 256]
HEAP_SIZES = [2, 4, 8, 16, 32]
RSS_GOAL_MIN = 64  # bytes per run: leak verdict required from here up
HEAP_GOAL_MIN = 8
RATE_TOLERANCE = 0.10
CACHE_CALIBRATION_BYTES = 4096
LEAKY = ("leak", "retention")
VERDICTS = ["stable", "plateau", "bounded", "inconclusive", "leak", "retention"]
EXIT_SKIPPED = 77


class AutoRefused(Exception):
    """memsoak refused --iterations auto."""


# ---------------------------------------------------------------- malloc arithmetic (glibc, 64-bit)
def chunk(size):
    """glibc's chunk for malloc(size), 64-bit: size + 8-byte header rounded up to 16, at least 32. One
    taken from a free list may be 16 bytes larger (a remainder under 32 bytes is not split off)."""
    return max(32, (size + 8 + 15) & ~15)


def usable(size):
    """malloc_usable_size of a fresh chunk for malloc(size): what memsoak's counting allocator counts."""
    return chunk(size) - 8


def string_heap(size):
    """libstdc++: std::string::resize(size) from empty allocates nothing up to 15 bytes (SSO),
    else capacity max(size, 2 * 15) + 1."""
    return 0 if size <= 15 else usable(max(size, 30) + 1)


# ---------------------------------------------------------------- formatting
def fmt_rate(x):
    return "—" if x is None else f"{x:,.1f}"


def fmt_pct(x):
    return "—" if x is None else f"{x:+.1f} %"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def span(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return fmt_rate(values[0] if values else None)
    return f"{fmt_rate(statistics.median(values))} ({fmt_rate(min(values))}–{fmt_rate(max(values))})"


def verdict_counts(verdicts):
    return ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS if v in verdicts) or "—"


def ci(pair):
    return "—" if not pair else f"{fmt_rate(pair[0])} to {fmt_rate(pair[1])}"


def table(header, rows, drop=None):
    """A Markdown table; column `drop` (the runs column when not --iterations auto) is left out."""
    header = [h for i, h in enumerate(header) if i != drop]
    rows = [[c for i, c in enumerate(row) if i != drop] for row in rows]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- running soaks
class Runner:
    def __init__(self, args):
        self.memsoak, self.out, self.keep, self.iterations = args.memsoak, args.out, args.keep, args.iterations
        self.extra = shlex.split(args.memsoak_args) if args.memsoak_args else []
        self.planned = self.done = 0
        self.soak_seconds = []

    def command(self, args, out_dir="DIR"):
        return [str(self.memsoak), "run", *args, "--iterations", str(self.iterations), *self.extra,
                "--quiet", "--out", str(out_dir)]

    def soak(self, label, args):
        """Runs one soak; returns {'strategies': [...], 'seconds': s} or {'error': text}."""
        self.done += 1
        run_dir = self.out / f"soak-{self.done:04d}"
        if run_dir.exists():
            shutil.rmtree(run_dir)
        cmd = self.command(args, run_dir)
        start = time.monotonic()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seconds = time.monotonic() - start
        self.soak_seconds.append(seconds)
        result = {"seconds": seconds, "label": label, "command": cmd}
        report = run_dir / "report.json"
        if proc.returncode not in (0, 1) or not report.exists():
            err = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            if self.iterations == "auto" and proc.returncode == 2 and "iterations" in err:
                raise AutoRefused(err)
            result["error"] = f"exit {proc.returncode}: {err}"
            print(f"[{self.done}/{self.planned}] {label}: FAILED {result['error']} ({seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        else:
            data = json.loads(report.read_text())
            result.update(exact_heap=exact_heap_growth(run_dir / "samples.csv"), strategies=data["strategies"],
                          warmup=data.get("warmup"))
            parts = [f"{s['strategy']} {s['verdict']} heap {fmt_rate(s['heap_growth_bytes_per_run'])} "
                     f"rss {fmt_rate(s['rss_growth_bytes_per_run'])} B/run, {s['runs']} runs" for s in data["strategies"]]
            print(f"[{self.done}/{self.planned}] {label}: " + "; ".join(parts) + f" ({seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        if not self.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
        return result


def exact_heap_growth(samples):
    """Per strategy: the live heap's exact growth per run after warm-up, (last - first) / runs, from
    samples.csv: the counters sum every block's usable size, so this is what the runs really kept."""
    if not samples.exists():
        return {}
    series = {}
    flagged = set()
    with samples.open(newline="") as f:
        for row in csv.DictReader(f):
            flags = row.get("flags", "")
            if "warmup" in flags:
                flagged.add(row["strategy"])
                continue
            if "failed" in flags or not row.get("heap_live_bytes"):
                continue
            series.setdefault(row["strategy"], []).append((int(row["run_index"]), int(row["heap_live_bytes"])))
    out = {}
    for strategy, points in series.items():
        if strategy not in flagged:  # --iterations auto: the warm-up is a tenth of the runs done
            points = points[len(points) // 10:]
        if len(points) >= 2 and points[-1][0] > points[0][0]:
            out[strategy] = (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
    return out


def find_worker(memsoak):
    candidates = [memsoak.parent.parent / "scenarios" / "memsoak_example_worker",
                  *(REPO / "build").rglob("memsoak_example_worker")]
    return next((c.resolve() for c in candidates if c.is_file()), None)


# ---------------------------------------------------------------- the cases
class Report:
    def __init__(self):
        self.sections = []
        self.misses = []  # Markdown list items
        self.goal_missed = False

    def miss(self, case, seed, entry, why):
        self.goal_missed = True
        if entry is None:
            self.misses.append(f"- **{case}**, seed {seed}: {why}")
            return
        self.misses.append(
            f"- **{case}**, seed {seed}, `{entry['strategy']}`: {why}; verdict `{entry['verdict']}`, "
            f"heap {fmt_rate(entry['heap_growth_bytes_per_run'])} B/run, "
            f"RSS {fmt_rate(entry['rss_growth_bytes_per_run'])} B/run "
            f"(CI {ci(entry.get('rss_growth_ci'))}), {entry['runs']} runs. Reason: \"{entry['verdict_reason']}\"")


def runs_cell(entries):
    runs = [e["runs"] for e in entries]
    if not runs or min(runs) == max(runs):
        return str(runs[0]) if runs else "—"
    return f"{int(statistics.median(runs))} ({min(runs)}–{max(runs)})"


def sensitivity_rss(runner, rep, args, worker):
    rows = []
    smallest = None
    for size in RSS_SIZES:
        exec_cmd = f"{worker} --leak {size}"
        expected = size if args.rss_expect == "requested" else chunk(size) + 8
        entries = []
        for r in range(args.rss_repeats):
            res = runner.soak(f"sensitivity rss --leak {size} #{r + 1}",
                              ["--exec", exec_cmd, "--exec-tracker", "off", "--strategy", "in-process",
                               "--seed", str(r + 1)])
            if "error" in res:
                rep.miss(f"RSS leak {size} B", r + 1, None, res["error"])
                continue
            e = res["strategies"][0]
            entries.append(e)
            rate = e["rss_growth_bytes_per_run"]
            if size >= RSS_GOAL_MIN:
                if e["verdict"] not in LEAKY:
                    rep.miss(f"RSS leak {size} B", r + 1, e, "not found (goal: leak or retention)")
                elif rate is None or abs(rate - expected) > RATE_TOLERANCE * expected:
                    rep.miss(f"RSS leak {size} B", r + 1, e,
                             f"rate off by more than 10 % of the expected {expected} B/run")
        verdicts = [e["verdict"] for e in entries]
        rates = [e["rss_growth_bytes_per_run"] for e in entries]
        found = len(entries) == args.rss_repeats and all(v in LEAKY for v in verdicts)
        if found and smallest is None:
            smallest = size
        m = med(rates)
        rows.append([size, chunk(size) + 8, len(entries), verdict_counts(verdicts), runs_cell(entries), span(rates),
                     fmt_pct(None if m is None else 100 * (m - size) / size),
                     fmt_pct(None if m is None else 100 * (m - (chunk(size) + 8)) / (chunk(size) + 8)),
                     ("yes" if found and m is not None and abs(m - expected) <= RATE_TOLERANCE * expected
                      else "no") if size >= RSS_GOAL_MIN else "(below goal)"])
    header = ["leak B", "resident B/run (chunk + 8 B slot)", "soaks", "verdicts", "runs", "RSS rate B/run, median (min–max)",
              "vs B", "vs chunk + slot", "goal met"]
    text = [f"### Sensitivity from RSS alone (example worker, `--exec-tracker off`, in-process)", "",
            table(header, rows, None if args.iterations == "auto" else 4), "",
            f"Smallest leak found in every soak: {smallest if smallest else 'none'} B/run. "
            f"The goal rate is compared with "
            + ("B itself" if args.rss_expect == "requested" else
               "the heap the worker really keeps per run: glibc's chunk for `make_unique<char[]>(B)` "
               "(usable size + 8-byte header) plus the 8-byte `unique_ptr` slot in its `std::vector`")
            + ".", "",
            f"Command: `{shlex.join(runner.command(['--exec', f'{worker} --leak B', '--exec-tracker', 'off', '--strategy', 'in-process', '--seed', 'S']))}`"]
    rep.sections.append("\n".join(text))


def sensitivity_heap(runner, rep, args):
    seeds = list(range(1, args.heap_seeds + 1))
    # cache:B keeps an unordered_map node per run (and the bucket array grows with it): calibrate the
    # per-run overhead from a large entry, whose string is allocated exactly.
    overhead = None
    if "cache" in args.heap_modes:
        res = runner.soak(f"sensitivity heap calibration cache:{CACHE_CALIBRATION_BYTES}",
                          ["--workload", "synthetic", "--leak", f"cache:{CACHE_CALIBRATION_BYTES}",
                           "--strategy", "in-process", "--seed", "1"])
        if "error" not in res and res["strategies"][0]["heap_growth_bytes_per_run"] is not None:
            overhead = res["strategies"][0]["heap_growth_bytes_per_run"] - string_heap(CACHE_CALIBRATION_BYTES)
        else:
            rep.miss(f"cache:{CACHE_CALIBRATION_BYTES} calibration", 1, None, res.get("error", "no heap rate"))
    rows = []
    smallest = {}
    for mode in args.heap_modes:
        for size in HEAP_SIZES:
            if mode == "dropped":
                reasoned = usable(size)
                basis = f"{reasoned} (usable({size}))"
            else:
                reasoned = None if overhead is None else overhead + string_heap(size)
                basis = (f"{fmt_rate(reasoned)} (node+buckets {fmt_rate(overhead)} + string {string_heap(size)})"
                         if overhead is not None else "—")
            entries, exacts = [], []
            for seed in seeds:
                res = runner.soak(f"sensitivity heap {mode}:{size} seed {seed}",
                                  ["--workload", "synthetic", "--leak", f"{mode}:{size}", "--strategy", "in-process",
                                   "--seed", str(seed)])
                case = f"heap {mode}:{size}"
                if "error" in res:
                    rep.miss(case, seed, None, res["error"])
                    continue
                e = res["strategies"][0]
                exact = res.get("exact_heap", {}).get(e["strategy"])
                entries.append(e)
                exacts.append(exact)
                rate = e["heap_growth_bytes_per_run"]
                if size >= HEAP_GOAL_MIN:
                    if e["verdict"] != "leak":
                        rep.miss(case, seed, e, "not found (goal: leak)")
                    elif not exact or rate is None or abs(rate - exact) > RATE_TOLERANCE * exact:
                        rep.miss(case, seed, e, f"rate off by more than 10 % of the exact {fmt_rate(exact)} B/run")
            verdicts = [e["verdict"] for e in entries]
            rates = [e["heap_growth_bytes_per_run"] for e in entries]
            errors = [100 * (r - x) / x for r, x in zip(rates, exacts) if r is not None and x]
            found = len(entries) == len(seeds) and all(v == "leak" for v in verdicts)
            if found and mode not in smallest:
                smallest[mode] = size
            m = med(rates)
            within = len(errors) == len(entries) and all(abs(x) <= 100 * RATE_TOLERANCE for x in errors)
            worst = max(errors, key=abs) if errors else None
            rows.append([f"`{mode}:{size}`", basis, span(exacts), len(entries), runs_cell(entries),
                         verdict_counts(verdicts), span(rates), fmt_pct(worst),
                         fmt_pct(None if m is None or not reasoned else 100 * (m - reasoned) / reasoned),
                         ("yes" if found and within else "no") if size >= HEAP_GOAL_MIN else "(below goal)"])
    header = ["leak", "reasoned heap B/run", "exact heap B/run (counters)", "seeds", "runs", "verdicts",
              "heap rate B/run, median (min–max)", "worst error vs exact", "median vs reasoned", "goal met"]
    notes = [f"`{m}`: {smallest.get(m, 'none')} B" for m in args.heap_modes]
    text = ["### Sensitivity from the live heap (synthetic workload, in-process)", "",
            table(header, rows, None if args.iterations == "auto" else 4), "",
            "Smallest leak found with every seed: " + ", ".join(notes) + ". "
            "The goal compares the verdict's heap rate with the exact growth of the live-heap counters "
            "((last − first) / runs after warm-up, samples.csv): what the runs really kept. Reasoned: glibc's "
            "usable bytes, `dropped:B` one `new char[B]`; `cache:B` a string (none up to 15 B, else capacity "
            "max(B, 30) + 1), a 56 B map node and its share of the buckets, calibrated by one soak of "
            f"`cache:{CACHE_CALIBRATION_BYTES}`. glibc may give a chunk 16 B larger than asked (a remainder "
            "under 32 B is not split), so the exact rate can sit above the reasoned one.", "",
            f"Command: `{shlex.join(runner.command(['--workload', 'synthetic', '--leak', 'MODE:B', '--strategy', 'in-process', '--seed', 'S']))}`"]
    rep.sections.append("\n".join(text))


FALSE_LEAK_CASES = [
    # (key for --cases, case label, leak, strategies, expected verdicts)
    ("noisy", "stable, noisy", "none", "in-process,fork", {"stable"}),
    ("bounded-warmup", "bounded cache, fills in warm-up", "bounded:100x4096", "in-process", {"stable", "plateau"}),
    ("bounded-late", "bounded cache, fills after warm-up", "bounded:1000x1024", "in-process", {"plateau"}),
    ("recycle", "recycling, no leak", "none", "recycle:50,recycle-rss:64MiB", {"bounded", "stable"}),
    ("recycle-dropped", "recycling, dropped 64 KiB/run", "dropped:64KiB", "recycle:50", {"bounded"}),
]
CASE_KEYS = [c[0] for c in FALSE_LEAK_CASES]


def false_leaks(runner, rep, args):
    seeds = list(range(1, args.seeds + 1))
    per_row, order, notes = {}, [], []  # (case, leak, strategy, expected) -> report entries
    for key, case, leak, strategies, expected in FALSE_LEAK_CASES:
        if key not in args.cases:
            continue
        for seed in seeds:
            res = runner.soak(f"false-leaks {leak} {strategies} seed {seed}",
                              ["--workload", "synthetic", "--leak", leak, "--strategy", strategies,
                               "--seed", str(seed)])
            if "error" in res:
                rep.miss(f"{case} (`{leak}`, `{strategies}`)", seed, None, res["error"])
                continue
            if leak.startswith("bounded:") and seed == seeds[0] and res.get("warmup") is not None \
                    and args.iterations != "auto":  # under auto the warm-up is a tenth of the runs done
                count = int(leak.split(":")[1].split("x")[0])
                notes.append(f"`{leak}`: {count} entries fill at run {count}, warm-up is {res['warmup']} runs: "
                             + ("fills during warm-up (flat after it)." if count <= res["warmup"]
                                else "fills after warm-up (a plateau is expected)."))
            for e in res["strategies"]:
                row_key = (case, leak, e["strategy"], tuple(sorted(expected)))
                if row_key not in per_row:
                    per_row[row_key] = []
                    order.append(row_key)
                per_row[row_key].append(e)
                if e["verdict"] in LEAKY:
                    rep.miss(f"{case} (`{leak}`)", seed, e, "false leak")
    rows = []
    total_false = total_unexpected = 0
    for key in order:
        case, leak, strategy, expected = key
        verdicts = [e["verdict"] for e in per_row[key]]
        false_n = sum(v in LEAKY for v in verdicts)
        total_false += false_n
        total_unexpected += sum(v not in expected for v in verdicts)
        rows.append([case, f"`{leak}`", f"`{strategy}`", " or ".join(expected), len(verdicts),
                     runs_cell(per_row[key]), *(verdicts.count(v) for v in VERDICTS), false_n])
    header = ["case", "leak", "strategy", "expected", "seeds", "runs", *VERDICTS, "false leaks"]
    text = ["### False leaks (synthetic workload)", "", table(header, rows, None if args.iterations == "auto" else 5), "",
            f"False leaks (leak or retention where none is expected): **{total_false}**; "
            f"verdicts other than the expected ones: {total_unexpected}.", ""]
    text += notes + ([""] if notes else [])
    text.append(f"Command: `{shlex.join(runner.command(['--workload', 'synthetic', '--leak', 'LEAK', '--strategy', 'LIST', '--seed', 'S']))}`")
    rep.sections.append("\n".join(text))


# ---------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="measure_verdicts.py",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--memsoak", type=Path, default=REPO / "build" / "tools" / "memsoak",
                   help="the memsoak executable (default: build/tools/memsoak in the repository)")
    p.add_argument("--worker", type=Path, default=None,
                   help="the example C++ worker (default: memsoak_example_worker found in the build)")
    p.add_argument("--out", type=Path, default=None,
                   help="scratch directory for run directories (default: a temporary directory); each "
                        "run directory is deleted after it is read unless --keep")
    p.add_argument("--keep", action="store_true", help="keep every run directory")
    p.add_argument("--seeds", type=int, default=20, help="seeds per false-leaks case (default: 20)")
    p.add_argument("--heap-seeds", type=int, default=3, help="seeds per live-heap sensitivity size (default: 3)")
    p.add_argument("--rss-repeats", type=int, default=3,
                   help="soaks per RSS sensitivity size; the worker is deterministic (default: 3)")
    p.add_argument("--heap-modes", default="cache,dropped",
                   help="synthetic leak modes of the live-heap sensitivity, comma-separated (default: cache,dropped)")
    p.add_argument("--cases", default=",".join(CASE_KEYS),
                   help="false-leaks cases to run, comma-separated (default: all of " + ",".join(CASE_KEYS) + ")")
    p.add_argument("--rss-expect", choices=["chunk", "requested"], default="chunk",
                   help="what the RSS rate is compared with: 'chunk' (default) the heap the worker really "
                        "keeps per run, glibc chunk of B plus the 8-byte vector slot; 'requested' B itself")
    p.add_argument("--iterations", default="2000",
                   help="runs per strategy, or 'auto' (skipped with exit 77 if memsoak refuses it; default: 2000)")
    p.add_argument("--suite", choices=["sensitivity", "false-leaks", "all"], default="all",
                   help="which suite to run (default: all)")
    p.add_argument("--memsoak-args", default="",
                   help="extra arguments for every `memsoak run`, e.g. '--stack-sample off'")
    args = p.parse_args(argv)
    if args.iterations != "auto" and (not args.iterations.isdigit() or int(args.iterations) < 1):
        p.error("--iterations: a positive number or 'auto'")
    for name in ("seeds", "heap_seeds", "rss_repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}: at least 1")
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if not args.cases or any(c not in CASE_KEYS for c in args.cases):
        p.error("--cases: a comma-separated subset of " + ",".join(CASE_KEYS))
    args.heap_modes = [m.strip() for m in args.heap_modes.split(",") if m.strip()]
    if not args.heap_modes or any(m not in ("cache", "dropped") for m in args.heap_modes):
        p.error("--heap-modes: cache and/or dropped")
    return args


def main(argv):
    args = parse_args(argv)
    args.memsoak = args.memsoak.resolve()
    if not args.memsoak.is_file():
        print(f"measure_verdicts.py: memsoak not found at {args.memsoak} (build first, or --memsoak)", file=sys.stderr)
        return 2
    temp = None
    if args.out is None:
        temp = tempfile.mkdtemp(prefix="measure-verdicts-")
        args.out = Path(temp)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"measure_verdicts.py: run directories under {args.out}"
          + (" (kept)" if args.keep else " (each deleted once read)"), file=sys.stderr)
    worker = None
    if args.suite in ("sensitivity", "all"):
        worker = (args.worker or find_worker(args.memsoak))
        if worker is None or not Path(worker).is_file():
            print("measure_verdicts.py: memsoak_example_worker not found (build it, or --worker)", file=sys.stderr)
            return 2
        worker = Path(worker).resolve()

    runner = Runner(args)
    if args.suite in ("sensitivity", "all"):
        runner.planned += len(RSS_SIZES) * args.rss_repeats
        runner.planned += len(args.heap_modes) * len(HEAP_SIZES) * args.heap_seeds + ("cache" in args.heap_modes)
    if args.suite in ("false-leaks", "all"):
        runner.planned += len(args.cases) * args.seeds

    rep = Report()
    walls = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        if args.suite in ("sensitivity", "all"):
            t = time.monotonic()
            sensitivity_rss(runner, rep, args, worker)
            sensitivity_heap(runner, rep, args)
            walls.append(("sensitivity", time.monotonic() - t))
        if args.suite in ("false-leaks", "all"):
            t = time.monotonic()
            false_leaks(runner, rep, args)
            walls.append(("false-leaks", time.monotonic() - t))
    except AutoRefused as refused:
        print(f"measure_verdicts.py: this memsoak refuses --iterations auto ({refused}); "
              "auto mode skipped", file=sys.stderr)
        print(f"--iterations auto skipped: `memsoak run --iterations auto` is refused by {args.memsoak} "
              f"({refused}).")
        return EXIT_SKIPPED
    except KeyboardInterrupt:
        print("measure_verdicts.py: interrupted", file=sys.stderr)
        return 130
    finally:
        if temp and not args.keep:
            shutil.rmtree(temp, ignore_errors=True)

    print(f"## Measured verdicts ({args.iterations} runs per strategy, {started})\n")
    print(f"Ran: `{shlex.join(['tools/measure_verdicts.py', *argv])}`\n")
    for section in rep.sections:
        print(section + "\n")
    print("Wall time: " + ", ".join(f"{name} {secs / 60:.1f} min" for name, secs in walls)
          + (f"; {len(runner.soak_seconds)} soaks, median {statistics.median(runner.soak_seconds):.1f} s each"
             if runner.soak_seconds else "") + ".")
    print("\n### Goals missed\n\n" + "\n".join(rep.misses) if rep.misses else "\nEvery goal met.")
    return 1 if rep.goal_missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
