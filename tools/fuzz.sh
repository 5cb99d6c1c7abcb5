#!/usr/bin/env bash
# Builds memsoak's libFuzzer targets (tests/fuzz) with Debian's clang into build-fuzz/ and runs
# each for a while, two at a time (one per core), from its seed corpus in tests/fuzz/corpus/NAME/.
# Usage: tools/fuzz.sh [--seconds N] [--target NAME]... [--jobs J] [--no-build]
#   --seconds N   how long each target runs (default 30; the longer run: --seconds 3600)
#   --target NAME only this target (repeatable; names as in tests/fuzz/NAME_fuzz.cpp)
# Prints, per target, the inputs it ran and whether it found anything. Exit status: 0 when no
# target found anything, 1 when one crashed, leaked, timed out or ran out of memory (the input is
# in build-fuzz/fuzz-findings/NAME/, the log in build-fuzz/fuzz-logs/NAME.log), 2 on bad usage.
# Inputs the fuzzers find go to build-fuzz/fuzz-corpus/NAME/, never into the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each target and its -max_len, in bytes: a little above its largest real input.
declare -A max_len=(
  [units]=64 [proc_parsers]=4096 [sample_file]=2048 [artifact]=2048 [stack_dump]=2048
  [worker_protocol]=4096 [run_manifest]=8192 [run_log]=4096 [scenario_file]=1024
  [heaptrack]=4096 [heaptrack_record]=1024
  [safetensors]=8192 [model_config]=2048 [vocab]=2048 [tokenizer]=2048
)
seconds=30
jobs=2
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --target) targets+=("${2:?--target needs a name}"); shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "fuzz: unknown option '$1' (see the usage at the top of tools/fuzz.sh)" >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds '$seconds': not a whole number of seconds" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --jobs '$jobs': not a whole number" >&2; exit 2; }
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(printf '%s\n' "${!max_len[@]}" | sort)
fi
for name in "${targets[@]}"; do
  [ -n "${max_len[$name]:-}" ] || { echo "fuzz: unknown target '$name' (known: ${!max_len[*]})" >&2; exit 2; }
done

build_dir=build-fuzz
if [ $build -eq 1 ]; then
  # -O1 and line tables only: libFuzzer's advice, and quicker to build than RelWithDebInfo's -O2 -g.
  # NDEBUG is left out so that assertions stay on while fuzzing.
  CC=clang CXX=clang++ cmake -S . -B $build_dir -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMSOAK_FUZZ=ON \
    -DMEMSOAK_BUILD_TESTS=OFF -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null
  # One target when all are wanted (memsoak_fuzz), so that make links them in parallel.
  wanted=("${targets[@]/#/memsoak_fuzz_}")
  [ ${#targets[@]} -eq ${#max_len[@]} ] && wanted=(memsoak_fuzz)
  cmake --build $build_dir -j"$(nproc)" --target "${wanted[@]}" >&2
fi

# Runs one target; its summary line goes to $build_dir/fuzz-logs/NAME.summary.
run_target() {
  local name=$1
  local corpus=$build_dir/fuzz-corpus/$name findings=$build_dir/fuzz-findings/$name
  local log=$build_dir/fuzz-logs/$name.log
  mkdir -p "$corpus" "$findings" "$build_dir/fuzz-logs"
  local status=0
  UBSAN_OPTIONS=print_stacktrace=1 "$build_dir/tests/fuzz/memsoak_fuzz_$name" "$corpus" "tests/fuzz/corpus/$name" \
    -max_total_time="$seconds" -max_len="${max_len[$name]}" -len_control=0 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  local done_line
  done_line=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -n 1 || true)
  if [ $status -eq 0 ] && [ -n "$done_line" ]; then
    local runs=${done_line#Done } && runs=${runs%% *}
    local took=${done_line#* in } && took=${took%% *}
    printf '%-16s %12s runs in %4s s  no findings\n' "$name" "$runs" "$took" >"$log.summary"
  else
    local what
    what=$(grep -o -m 1 -E 'ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|runtime error: .*|fuzz: .*' "$log" || echo "exit status $status")
    local input
    input=$(grep -o -m 1 "Test unit written to [^ ]*" "$log" || echo "(no input written)")
    input=${input#Test unit written to }
    printf '%-16s FINDING: %s; input %s; log %s\n' "$name" "$what" "$input" "$log" >"$log.summary"
  fi
}

echo "fuzz: ${#targets[@]} target(s), ${seconds} s each, $jobs at a time" >&2
failed=0
running=0
for name in "${targets[@]}"; do
  if [ $running -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$name" &
  running=$((running + 1))
done
wait
for name in "${targets[@]}"; do
  summary=$(cat "$build_dir/fuzz-logs/$name.log.summary")
  echo "$summary"
  [[ $summary == *FINDING* ]] && failed=1
done
exit $failed
