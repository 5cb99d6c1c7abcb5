#!/usr/bin/env bash
# Builds memsoak under sanitizers and runs the tests that can run there; prints each job's times.
# Usage: tools/sanitize.sh [asan|tsan]...   (no argument: both, ASan+UBSan first)
#
#   asan  build-asan/, MEMSOAK_SANITIZE=address,undefined: the unit and cli labels.
#   tsan  build-tsan/, MEMSOAK_SANITIZE=thread: the threads label (the code that starts threads).
#
# Each job builds only the targets its tests run, and leaves out the labels no-asan / no-tsan
# (tests/CMakeLists.txt says why for each), soak (must see leaks; minutes long) and the rest.
# Run after tools/setup.sh (the build dependencies). Exit status: the first failing job's.
set -euo pipefail
cd "$(dirname "$0")/.."

# LeakSanitizer is off: memsoak's workloads leak on purpose (the leak modes it measures, plugins
# and workers that leak, children that exit with their heap), and a leak report at exit would turn
# each of those into a failure; growth is what memsoak itself measures. handle_segv=0 and
# handle_abort=0 leave crashes to the kernel, because the supervisor's tests expect a crashing
# run to die by its signal rather than exit 1 from ASan's handler. allocator_may_return_null=1:
# --memory-limit tests expect a failed allocation, not an ASan report (std::bad_alloc follows).
asan_env=(
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:handle_segv=0:handle_abort=0:allocator_may_return_null=1
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
)
tsan_env=(TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1)

# -O1 -g1 (line tables): sanitizer reports still name functions and lines, and a translation unit
# compiles in about half the time of -O2 -g (measured on reports/report_json.cpp under ASan).
opt_flags="-O1 -g1 -DNDEBUG"

asan_targets=(memsoak memsoak_unit_tests memsoak_threaded_unit_tests memsoak_process_tests memsoak_counting_malloc_test
  memsoak_plugin_workload_test memsoak_external_worker_tests memsoak_cli_test auto_iterations_cli_test
  shard_merge_cli_test hardening_cli_test orphans_cli_test)
tsan_targets=(memsoak_threaded_unit_tests memsoak_reranker_workload_test)

# run_job NAME SANITIZE DIR LABELS EXCLUDED ENV_ARRAY TARGETS...: configure, build, test, with
# times. Called in a || list, where set -e does not apply: each step returns its own failure.
run_job() {
  local name=$1 sanitize=$2 dir=$3 labels=$4 excluded=$5 env_name=$6
  shift 6
  local -n job_env=$env_name
  local start=$SECONDS
  # Ninja for a new build directory: it builds the list of targets in parallel, where make's
  # top level builds one target after another (an existing directory keeps its generator).
  local generator=()
  [ -f "$dir/CMakeCache.txt" ] || ! command -v ninja >/dev/null || generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" -DMEMSOAK_SANITIZE="$sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt_flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt_flags" >/dev/null || return
  cmake --build "$dir" -j"$(nproc)" --target "$@" >&2 || return
  local built=$SECONDS
  local status=0
  env "${job_env[@]}" ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -L "$labels" -LE "$excluded" ||
    status=$?
  echo "sanitize: $name: build $((built - start)) s, tests $((SECONDS - built)) s (exit $status)" >&2
  return $status
}

jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(asan tsan)
result=0
for job in "${jobs[@]}"; do
  case $job in
    asan) run_job asan address,undefined build-asan '^(unit|cli)$' '^(no-asan|soak)$' asan_env \
            "${asan_targets[@]}" || { rc=$?; [ $result -ne 0 ] || result=$rc; } ;;
    tsan) run_job tsan thread build-tsan '^threads$' '^(no-tsan|soak)$' tsan_env \
            "${tsan_targets[@]}" || { rc=$?; [ $result -ne 0 ] || result=$rc; } ;;
    *) echo "sanitize: unknown job '$job' (asan or tsan)" >&2; exit 2 ;;
  esac
done
exit $result
