// Reading the allocation-stack artifacts the tracker writes ("stacks" epochs and "runleak" run
// reports; payload layout in docs/run-directory.md), and turning their frames into symbols.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace memsoak::reports {

struct DumpedFrame {
  std::uint32_t module = 0;  // index into StackDump::modules, or kNoModule
  std::uint64_t offset = 0;  // address within the module's file (or the raw address, kNoModule)
};
inline constexpr std::uint32_t kNoModule = 0xffffffffu;

struct DumpedStack {
  std::int64_t bytes = 0;  // estimated live bytes (epoch) or bytes the run left live (runleak)
  std::int64_t blocks_x256 = 0;
  std::uint64_t samples = 0;
  std::vector<DumpedFrame> frames;  // innermost first
};

struct DumpedModule {
  std::string path;
  std::string build_id;  // hex, empty when the module has none
};

struct StackDump {
  enum class Kind : std::uint32_t { kEpoch = 1, kRun = 2 } kind = Kind::kEpoch;
  std::uint64_t run_index = 0;
  std::uint64_t runs_in_process = 0;
  std::uint64_t mean_bytes = 0;  // 0: every allocation
  std::uint64_t dropped_samples = 0;
  std::int64_t heap_live_bytes = 0;
  std::vector<DumpedModule> modules;
  std::vector<DumpedStack> stacks;
};

// Parses one artifact's payload. Throws InputError naming `where` and what is wrong.
StackDump parse_stack_dump(const std::string& payload, const std::string& where);

struct SymbolFrame {
  std::string function;  // demangled; "0x..." when unknown
  std::string file;      // source file, empty without debug info
  int line = 0;
  std::string module;  // the module's file name
};

// Symbolizes frames with libdw (elfutils), one module at a time, after the soak. Frames of a
// module whose file is gone or whose build id changed keep only their module and offset.
class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;
  // The frames of one return address (the call is looked up one byte before it), innermost
  // first: the functions inlined there (from the debug info) and then the function the address
  // is in, each with the source line it was at.
  const std::vector<SymbolFrame>& resolve(const DumpedModule& module, std::uint64_t offset);

 private:
  struct Module;
  Module& module_for(const DumpedModule& module);
  std::map<std::string, std::unique_ptr<Module>> modules_;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<SymbolFrame>> cache_;
};

// True for a frame of the allocator or of memsoak's tracker (malloc, operator new, the sampler):
// the frames above the code that asked for memory, dropped from the top of every stack.
bool is_allocator_frame(const SymbolFrame& frame);

// The workload's part of a stack: its frames up to the first one of memsoak's harness (which
// differs between strategies); all of them when there is none (an external worker).
std::vector<SymbolFrame> workload_frames(const std::vector<SymbolFrame>& frames);

// The stack's fingerprint: a hash of its frames' modules and functions (not addresses or lines),
// so the same site matches across rebuilds and address-space layouts. 16 hex digits. Given the
// workload's part of a stack, the same site also matches across strategies.
std::string stack_fingerprint(const std::vector<SymbolFrame>& frames);

}  // namespace memsoak::reports
