// What an entry's process tells the supervising main process, through two pipes: a Heartbeat
// after its setup and after every run, and one EntryResult when it ends. Both are fixed-size and
// under PIPE_BUF, so each write arrives whole or not at all.
#pragma once

#include <limits.h>

#include <cstdint>

#include "harness/sample.h"
#include "harness/strategy.h"

namespace memsoak::harness::internal {

struct EntryResult {
  enum Status : std::int32_t { kOk, kInputError, kHarnessError, kMaxFailures };
  std::uint32_t magic = 0x5453534d;  // "MSST"
  std::int32_t status = kOk;
  std::uint64_t failures = 0;
  std::uint64_t artifacts = 0;  // artifact files committed since this process started (artifacts.h)
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
};

// The record of run `run_index` of entry `index`, as samples.bin stores it.
RunRecord make_run_record(std::uint32_t index, std::uint64_t run_index, std::uint64_t warmup,
                          const RunOutcome& outcome);

}  // namespace memsoak::harness::internal
