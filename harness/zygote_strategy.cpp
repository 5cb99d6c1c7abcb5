// ZygoteStrategy: fork each run from a template that loaded the model once (Android zygote,
// Python's forkserver): the per-run cost is the fork of the template only.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>

#include "harness/internal/child_protocol.h"
#include "harness/internal/clock.h"
#include "harness/internal/server_messages.h"
#include "harness/internal/strategies.h"
#include "harness/internal/strategy_table.h"
#include "harness/posix.h"

namespace memsoak::harness::internal {

// A template process sets the workload up once (no runs, so no threads a run would start); each
// run is a child forked from it that runs once and exits.
class ZygoteStrategy final : public Strategy {
 public:
  explicit ZygoteStrategy(StrategyContext context) : context_(std::move(context)) {}
  void start() override;
  RunOutcome run(std::uint64_t run_index) override;
  void stop() noexcept override;

 private:
  RunOutcome run_in_a_child(std::uint64_t run_index);
  StrategyContext context_;
  ServerProcess zygote_;
  std::int64_t setup_ns_ = kNotMeasured;
  std::uint64_t setup_artifacts_ = 0;  // committed by a template's setup, not yet reported
};
namespace {

constexpr std::int64_t kReplyAfterKillTimeoutMs = 10'000;

// One run in the template: fork a child, let it run, wait for it, answer.
void serve_one(Workload& workload, const StrategyContext& context, std::uint64_t run_index,
               pid_t strategy_pid, int reply_fd) {
  ZygoteReply reply;
  PipePair result;
  if (try_make_pipe(result) != 0) _exit(3);
  pid_t child = ::fork();
  if (child == 0) {
    result.read_end.reset();
    prepare_child(context);
    Family family;
    family.pids[0] = ::getppid();
    family.pids[1] = strategy_pid;
    ::_exit(write_report(result.write_end.get(),
                         run_and_report(workload, run_index, smaps_run(context, run_index), family,
                                        ProcessLife::kOneRun))
                ? 0
                : 1);
  }
  result.write_end.reset();
  auto child_pid = static_cast<std::int32_t>(child);
  if (::write(reply_fd, &child_pid, sizeof child_pid) != sizeof child_pid) _exit(3);
  reply.got_report =
      read_exactly(result.read_end.get(), &reply.report, sizeof reply.report, 0) == ReadStatus::kOk &&
      reply.report.magic == ChildReport{}.magic;
  result.read_end.reset();
  reply.exit_status = child > 0 ? reap(child, reply.peak_rss_bytes) : 0;
  if (::write(reply_fd, &reply, sizeof reply) != sizeof reply) _exit(3);
}

}  // namespace

void ZygoteStrategy::start() {
  const StrategyContext& context = context_;
  const pid_t strategy_pid = ::getpid();
  zygote_.start(context_, [&context, strategy_pid](int command_fd, int reply_fd) {
    auto workload = set_up_server_workload(context.workload.factory, reply_fd);
    if (!workload) return;
    std::uint64_t run_index = 0;
    while (read_exactly(command_fd, &run_index, sizeof run_index, 0) == ReadStatus::kOk) {
      serve_one(*workload, context, run_index, strategy_pid, reply_fd);
    }
  });
  std::string failure;
  ServerReady ready;
  const bool ok = await_ready(zygote_.reply_fd(), 0, ready, failure);
  setup_artifacts_ += ready.artifacts;
  if (!ok) {
    std::int64_t ignored;
    zygote_.finish(true, ignored);
    throw std::runtime_error("zygote template: " + failure);
  }
  setup_ns_ = ready.setup_ns;
}

RunOutcome ZygoteStrategy::run(std::uint64_t run_index) {
  RunOutcome outcome = run_in_a_child(run_index);
  outcome.artifacts += std::exchange(setup_artifacts_, 0);
  return outcome;
}

RunOutcome ZygoteStrategy::run_in_a_child(std::uint64_t run_index) {
  RunOutcome outcome;
  outcome.worker_id = run_index;
  if (!zygote_.running()) {
    // The template died on an earlier run; a new one pays setup again.
    try {
      start();
    } catch (const std::exception& e) {
      outcome.failure = e.what();
      return outcome;
    }
  }
  std::int64_t t0 = monotonic_ns();
  std::int32_t child = 0;
  ZygoteReply reply;
  if (!zygote_.send(run_index) ||
      read_exactly(zygote_.reply_fd(), &child, sizeof child, context_.run_timeout_ms) != ReadStatus::kOk) {
    std::int64_t ignored;
    outcome.failure = "zygote template died: " + describe_exit(zygote_.finish(true, ignored));
    return outcome;
  }
  ReadStatus status = read_exactly(zygote_.reply_fd(), &reply, sizeof reply, context_.run_timeout_ms);
  outcome.latency_ns = monotonic_ns() - t0;
  if (status == ReadStatus::kTimeout) {
    ::kill(child, SIGKILL);
    status = read_exactly(zygote_.reply_fd(), &reply, sizeof reply, kReplyAfterKillTimeoutMs);
    outcome.failure = "hung past --run-timeout (" + std::to_string(context_.run_timeout_ms) + " ms): killed";
    outcome.worker_peak_rss_bytes = status == ReadStatus::kOk ? reply.peak_rss_bytes : kNotMeasured;
    return outcome;
  }
  if (status != ReadStatus::kOk) {
    std::int64_t ignored;
    outcome.failure = "zygote template died: " + describe_exit(zygote_.finish(true, ignored));
    return outcome;
  }
  outcome.worker_peak_rss_bytes = reply.peak_rss_bytes;
  if (!reply.got_report) {
    outcome.failure = describe_exit(reply.exit_status);
    return outcome;
  }
  apply_report(reply.report, outcome);
  outcome.setup_ns = std::exchange(setup_ns_, 0);  // paid by the template's first run
  return outcome;
}

void ZygoteStrategy::stop() noexcept {
  std::int64_t ignored;
  zygote_.finish(false, ignored);
}

StrategyRow zygote_row() {
  return {"zygote",
          "zygote",
          [](std::string_view text, StrategySpec&) { return text == "zygote"; },
          [](const StrategySpec&, const StrategyContext& context) -> std::unique_ptr<Strategy> {
            return std::make_unique<ZygoteStrategy>(context);
          },
          /*applies_to_exec=*/false,
          /*recycles=*/false};
}

}  // namespace memsoak::harness::internal
