// Messages of the long-lived strategy processes (zygote template, recycled worker).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/internal/child_protocol.h"

namespace memsoak::harness::internal {

// Sent once after setup. ok = 0 means setup failed and the server exits.
struct ServerReady {
  std::uint32_t magic = 0x59444552;  // "REDY"
  std::uint32_t ok = 0;
  std::int64_t setup_ns = 0;
  std::uint64_t artifacts = 0;  // artifact files committed during setup (artifacts.h)
  char failure[256] = {};
};

// The zygote's answer for one run: the child's report if it sent one, and how it ended.
struct ZygoteReply {
  ChildReport report;
  std::int32_t got_report = 0;
  std::int32_t exit_status = 0;
  std::int64_t peak_rss_bytes = kNotMeasured;
};
static_assert(sizeof(ZygoteReply) <= PIPE_BUF);

// Builds and sets up the workload in a server; sends ServerReady. Null when setup failed.
std::unique_ptr<Workload> set_up_server_workload(const WorkloadFactory& factory, int reply_fd) noexcept;

// Reads the ServerReady of a just-started server (waiting at most `timeout_ms`, 0: no limit)
// into `ready`. Returns false with `failure` set when the server failed to set up or died; a
// failed setup's `ready` still says how many artifacts it committed.
bool await_ready(int reply_fd, std::int64_t timeout_ms, ServerReady& ready, std::string& failure);

}  // namespace memsoak::harness::internal
