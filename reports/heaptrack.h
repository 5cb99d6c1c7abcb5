// The heaptrack pass in the report: parses heaptrack_print's folded stacks (`--print-flamegraph`
// with `--flamegraph-cost-type leaked`) and summarizes them beside memsoak's own analysis.
//
// The folded format, one stack per line: `frame;frame;...;frame COUNT`, root first, leaf last,
// the count after the line's last space. heaptrack 1.4 ends the stack with a ';' before the space
// and names frames `function (file)` (or an address when it has no symbol). Frames may hold any
// character but ';' and control characters (spaces, `<`, `&`, `"` included).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/report_model.h"

namespace memsoak::reports {

struct FoldedStack {
  std::vector<std::string> frames;  // root first, as in the file
  std::uint64_t count = 0;          // bytes still live at the end, for the leaked cost type
};

// Strict: a line without a count, a count that is not a 64-bit decimal, an empty stack or frame,
// a control character or a blank line throws InputError "FILE: line N: problem".
std::vector<FoldedStack> parse_folded_stacks(std::string_view text, std::string_view file_name);

// "foo(int) (foo.cpp)" -> "foo(int)": the function without heaptrack's file suffix.
std::string_view frame_function(std::string_view frame);

// malloc and its family, operator new, memory of memsoak's counting allocator (interpose.cpp),
// heaptrack's own frames and libstdc++'s allocator plumbing: frames that say how memory was
// allocated, not who wanted it.
bool is_allocator_frame(std::string_view frame);

// A frame of the C++ standard library (std::, __gnu_cxx::), also when heaptrack writes a
// template's return type first ("void std::vector<>::_M_realloc_insert<>(...)").
bool is_library_frame(std::string_view frame);

inline constexpr std::size_t kHeaptrackTopStacks = 10;

// Sums equal stacks, drops those with nothing leaked, and keeps the `top` largest (ties: by
// frames, so that the order is stable). Frames of the result are leaf first. A stack's function
// is its first frame from the leaf that is neither an allocator's nor the standard library's
// (else the first that is not an allocator's, else the leaf).
void summarize_folded_stacks(const std::vector<FoldedStack>& stacks, HeaptrackSummary& summary,
                             std::size_t top = kHeaptrackTopStacks);

// The pass's summary from `run_dir`/heaptrack/ (pass.json and the folded file it names); nullopt
// when the soak ran no pass. A folded file that does not parse becomes status "failed" with the
// parser's message as reason; a malformed pass.json throws InputError naming it.
std::optional<HeaptrackSummary> read_heaptrack_summary(const std::filesystem::path& run_dir);

}  // namespace memsoak::reports
