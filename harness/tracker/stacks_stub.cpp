// The preload library samples no stacks: an external worker has no artifact channel to leave them
// in, and libunwind (with its _Unwind_* functions and liblzma) would be loaded into every worker.
// These replace tracker/stacks.cpp there: a countdown that never runs out, nothing to forget.
#include "harness/tracker/internal/stacks.h"

namespace memsoak::harness::internal::stacks {

void on_countdown(void*, std::size_t, std::int64_t& countdown) noexcept { countdown = std::int64_t{1} << 62; }

void on_free(void*, std::size_t) noexcept {}

}  // namespace memsoak::harness::internal::stacks
