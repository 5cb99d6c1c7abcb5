// SIGINT, SIGTERM and SIGHUP as events: a self-pipe that the soak supervisor polls next to its entries.
//
// Guarantees: the handler is async-signal-safe (one write to a non-blocking pipe). install() is
// idempotent and not thread-safe; call it from the main thread before the soak.
#pragma once

namespace memsoak::harness {

class StopSignals {
 public:
  // Routes SIGINT, SIGTERM and SIGHUP to the pipe. Throws std::system_error when the pipe cannot be made.
  static void install();
  // The pipe's read end, to poll for POLLIN; -1 before install().
  static int fd() noexcept;
  // The signal that arrived, or 0 when none is pending. Consumes one event.
  static int take() noexcept;
  // In a process forked or executed for an entry: default SIGINT/SIGTERM/SIGHUP, SIGPIPE ignored (a
  // dead worker's pipe must fail a write, not kill the soak), and death with the main process.
  static void become_entry_process() noexcept;
};

}  // namespace memsoak::harness
