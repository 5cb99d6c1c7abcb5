// What an entry's process tells the supervising main process, through two pipes: a Heartbeat
// after its setup and after every run, and one EntryResult when it ends. Both are fixed-size and
// under PIPE_BUF, so each write arrives whole or not at all.
//
// Under --iterations auto a third pipe goes the other way: after the heartbeat of a run that is a
// look (harness/sequential_looks.h), the entry process waits for one byte, kContinue or kStop,
// so that it does no run past the one at which the supervisor found its verdict settled.
#pragma once

#include <limits.h>

#include <cstdint>

#include "harness/sample.h"
#include "harness/soak_config.h"
#include "harness/strategy.h"

namespace memsoak::harness::internal {

inline constexpr char kContinue = 'c';
inline constexpr char kStop = 's';

// Consecutive start failures of an --exec worker after which its strategy stops: each costs up to
// the ready timeout, and a worker that did not start three times will not start on the fourth.
inline constexpr std::uint64_t kMaxStartFailures = 3;

struct EntryResult {
  // kNeverStarted: the worker failed to start kMaxStartFailures times in a row; `message` says why.
  enum Status : std::int32_t { kOk, kInputError, kHarnessError, kMaxFailures, kNeverStarted };
  // Why a kOk entry ended: its runs were done (or, under auto, its ceiling), the supervisor
  // answered kStop at a look, or its deadline (--duration) passed.
  enum End : std::int32_t { kRunsDone, kStopped, kDeadline };
  std::uint32_t magic = 0x5453534d;  // "MSST"
  std::int32_t status = kOk;
  std::uint64_t failures = 0;
  std::uint64_t artifacts = 0;  // artifact files committed since this process started (artifacts.h)
  std::int32_t end = kRunsDone;
  // The trim probe of an in-process strategy under glibc malloc (Strategy::trim_probe), or
  // kNotMeasured.
  std::int64_t trim_rss_before_bytes = kNotMeasured;
  std::int64_t trim_rss_after_bytes = kNotMeasured;
  char message[472] = {};
};
static_assert(sizeof(EntryResult) <= PIPE_BUF);

// How far the entry got and how many of its runs failed so far (earlier processes of the entry
// included), so that the main process knows both even when the entry's process dies without a
// result.
struct Heartbeat {
  static constexpr std::uint64_t kSetUp = ~std::uint64_t{0};
  std::uint64_t run_index = kSetUp;  // the run just finished, or kSetUp after setup
  std::uint64_t failures = 0;
  std::uint64_t artifacts = 0;  // committed since this process started
  // The run's record as samples.bin has it (unset after setup): the supervisor keeps every
  // record of the entry for the test at each look.
  RunRecord record;
};
static_assert(sizeof(Heartbeat) <= PIPE_BUF);

// The runs flagged kRunWarmup as they are recorded. Under --iterations auto none: the warm-up is
// a tenth of the runs done, known only when the entry ends, so readers take it from the count.
inline std::uint64_t record_warmup(const SoakConfig& config) {
  return config.iterations_auto ? 0 : config.warmup;
}

// The record of run `run_index` of entry `index`, as samples.bin stores it.
RunRecord make_run_record(std::uint32_t index, std::uint64_t run_index, std::uint64_t warmup,
                          const RunOutcome& outcome);

}  // namespace memsoak::harness::internal
