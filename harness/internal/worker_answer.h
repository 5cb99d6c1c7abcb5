// The answer line of an external worker (protocol v1, docs/worker-protocol.md), apart from the
// pipes, so that it can be tested and fuzzed on its own.
#pragma once

#include <string_view>

#include "harness/strategy.h"

namespace memsoak::harness::internal {

// Fills `outcome` from an answer line ("OK [text]" or "ERR [reason]", without its '\n'); false
// when the line is not an answer of protocol v1. Never throws on any line (allocation aside).
bool read_worker_answer(std::string_view line, RunOutcome& outcome);

}  // namespace memsoak::harness::internal
