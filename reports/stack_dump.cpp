// Stack artifacts: parsing, symbolizing, fingerprints (see stack_dump.h).
#include "reports/stack_dump.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "harness/errors.h"

namespace memsoak::reports {
namespace {

class Reader {
 public:
  Reader(const std::string& data, const std::string& where) : data_(data), where_(where) {}
  template <typename T>
  T take(const char* what) {
    T value;
    need(sizeof value, what);
    std::memcpy(&value, data_.data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  std::string bytes(std::size_t n, const char* what) {
    need(n, what);
    std::string out = data_.substr(at_, n);
    at_ += n;
    return out;
  }
  bool done() const { return at_ == data_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(fmt::format("{}: stack artifact: {} (at byte {})", where_, why, at_));
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (data_.size() - at_ < n) fail(fmt::format("truncated in {}", what));
  }
  const std::string& data_;
  const std::string& where_;
  std::size_t at_ = 0;
};

constexpr std::uint32_t kMaxFrames = 64;

}  // namespace

StackDump parse_stack_dump(const std::string& payload, const std::string& where) {
  Reader in(payload, where);
  StackDump dump;
  const auto format = in.take<std::uint32_t>("the header");
  if (format != 1) in.fail(fmt::format("payload format {} is not 1 (a newer memsoak wrote it?)", format));
  const auto kind = in.take<std::uint32_t>("the header");
  if (kind != 1 && kind != 2) in.fail(fmt::format("unknown kind {}", kind));
  dump.kind = static_cast<StackDump::Kind>(kind);
  dump.run_index = in.take<std::uint64_t>("the header");
  dump.runs_in_process = in.take<std::uint64_t>("the header");
  dump.mean_bytes = in.take<std::uint64_t>("the header");
  dump.dropped_samples = in.take<std::uint64_t>("the header");
  dump.heap_live_bytes = in.take<std::int64_t>("the header");
  const auto module_count = in.take<std::uint32_t>("the header");
  const auto stack_count = in.take<std::uint32_t>("the header");
  if (module_count > 4096) in.fail(fmt::format("{} modules (at most 4096)", module_count));
  for (std::uint32_t i = 0; i < module_count; ++i) {
    const auto path_bytes = in.take<std::uint16_t>("a module");
    const auto id_bytes = in.take<std::uint16_t>("a module");
    DumpedModule m;
    m.path = in.bytes(path_bytes, "a module path");
    std::string id = in.bytes(id_bytes, "a build id");
    for (char c : id) m.build_id += fmt::format("{:02x}", static_cast<unsigned char>(c));
    dump.modules.push_back(std::move(m));
  }
  for (std::uint32_t i = 0; i < stack_count; ++i) {
    DumpedStack s;
    s.bytes = in.take<std::int64_t>("a stack");
    s.blocks_x256 = in.take<std::int64_t>("a stack");
    s.samples = in.take<std::uint64_t>("a stack");
    // Bounds no real process reaches (a PiB, 2^50 samples): beyond them the file is not the tracker's.
    constexpr std::int64_t kMaxBytes = std::int64_t{1} << 50;
    if (s.bytes <= 0 || s.bytes > kMaxBytes)
      in.fail(fmt::format("stack {} holds {} bytes (1 to 2^50)", i, s.bytes));
    if (s.blocks_x256 < 0 || s.blocks_x256 > kMaxBytes * 256)
      in.fail(fmt::format("stack {} has {} blocks x 256 (0 to 2^58)", i, s.blocks_x256));
    if (s.samples > static_cast<std::uint64_t>(kMaxBytes))
      in.fail(fmt::format("stack {} has {} samples (at most 2^50)", i, s.samples));
    const auto depth = in.take<std::uint32_t>("a stack");
    in.take<std::uint32_t>("a stack");
    if (depth == 0 || depth > kMaxFrames) in.fail(fmt::format("stack {} has {} frames (1 to 64)", i, depth));
    for (std::uint32_t f = 0; f < depth; ++f) {
      DumpedFrame frame;
      frame.module = in.take<std::uint32_t>("a frame");
      in.take<std::uint32_t>("a frame");
      frame.offset = in.take<std::uint64_t>("a frame");
      if (frame.module != kNoModule && frame.module >= module_count) {
        in.fail(fmt::format("stack {} names module {} of {}", i, frame.module, module_count));
      }
      s.frames.push_back(frame);
    }
    dump.stacks.push_back(std::move(s));
  }
  if (!in.done()) in.fail("bytes after the last stack");
  return dump;
}

// ---- symbols -------------------------------------------------------------------------------

struct Symbolizer::Module {
  Dwfl* dwfl = nullptr;
  Dwfl_Module* module = nullptr;
  Dwarf_Addr bias = 0;
  std::string name;
  ~Module() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
};

namespace {

const Dwfl_Callbacks kOfflineCallbacks = {dwfl_build_id_find_elf, dwfl_standard_find_debuginfo,
                                          dwfl_offline_section_address, nullptr};

std::string demangle(const char* name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string result = out;
  std::free(out);
  return result;
}

std::string build_id_of(Dwfl_Module* module) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int n = dwfl_module_build_id(module, &bits, &vaddr);
  std::string hex;
  for (int i = 0; i < n; ++i) hex += fmt::format("{:02x}", bits[i]);
  return hex;
}

}  // namespace

Symbolizer::Symbolizer() = default;
Symbolizer::~Symbolizer() = default;

Symbolizer::Module& Symbolizer::module_for(const DumpedModule& wanted) {
  const std::string key = wanted.path + '\n' + wanted.build_id;
  auto it = modules_.find(key);
  if (it != modules_.end()) return *it->second;
  auto m = std::make_unique<Module>();
  m->name = std::filesystem::path(wanted.path).filename().string();
  if (m->name.empty()) m->name = wanted.path;
  std::error_code ec;
  if (!wanted.path.empty() && wanted.path[0] == '/' && std::filesystem::is_regular_file(wanted.path, ec)) {
    m->dwfl = dwfl_begin(&kOfflineCallbacks);
    if (m->dwfl != nullptr) {
      dwfl_report_begin(m->dwfl);
      m->module = dwfl_report_offline(m->dwfl, m->name.c_str(), wanted.path.c_str(), -1);
      dwfl_report_end(m->dwfl, nullptr, nullptr);
      // A file rebuilt since the soak would name the wrong functions: then only the module.
      if (m->module != nullptr && !wanted.build_id.empty() && build_id_of(m->module) != wanted.build_id)
        m->module = nullptr;
      if (m->module != nullptr && dwfl_module_getelf(m->module, &m->bias) == nullptr) m->module = nullptr;
    }
  }
  return *modules_.emplace(key, std::move(m)).first->second;
}

namespace {

// The name of a subprogram or inlined subroutine DIE: its linkage name demangled, else its plain
// name (both looked up through DW_AT_abstract_origin / DW_AT_specification).
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (unsigned int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attr) != nullptr) {
      if (const char* linkage = dwarf_formstring(&attr)) return demangle(linkage);
    }
  }
  const char* plain = dwarf_diename(die);
  return plain != nullptr ? plain : "";
}

// Innermost first: for each DW_TAG_inlined_subroutine around `address`, its name and where its
// caller called it (DW_AT_call_file/line). Empty without debug info.
struct Inlined {
  std::string function;
  std::string call_file;
  int call_line = 0;
};
std::vector<Inlined> inlined_at(Dwfl_Module* module, Dwarf_Addr address) {
  std::vector<Inlined> chain;
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(module, address, &bias);
  if (cu == nullptr) return chain;
  // dwarf_getscopes gives the innermost scope at the address; the DIEs that contain that one
  // (dwarf_getscopes_die) are the concrete chain of functions inlined into each other.
  Dwarf_Die* at_address = nullptr;
  const int found = dwarf_getscopes(cu, address - bias, &at_address);
  if (found <= 0) return chain;
  Dwarf_Die innermost = at_address[0];
  std::free(at_address);
  Dwarf_Die* scopes = nullptr;
  const int n = dwarf_getscopes_die(&innermost, &scopes);
  Dwarf_Files* files = nullptr;
  std::size_t file_count = 0;
  if (dwarf_getsrcfiles(cu, &files, &file_count) != 0) files = nullptr;
  for (int i = 0; i < n; ++i) {
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) continue;
    Inlined in;
    in.function = die_function_name(&scopes[i]);
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    if (dwarf_attr(&scopes[i], DW_AT_call_line, &attr) != nullptr && dwarf_formudata(&attr, &value) == 0)
      in.call_line = static_cast<int>(value);
    if (files != nullptr && dwarf_attr(&scopes[i], DW_AT_call_file, &attr) != nullptr &&
        dwarf_formudata(&attr, &value) == 0 && value < file_count) {
      if (const char* file = dwarf_filesrc(files, value, nullptr, nullptr)) in.call_file = file;
    }
    if (!in.function.empty()) chain.push_back(std::move(in));
  }
  std::free(scopes);
  return chain;
}

}  // namespace

const std::vector<SymbolFrame>& Symbolizer::resolve(const DumpedModule& wanted, std::uint64_t offset) {
  auto key = std::make_pair(wanted.path + '\n' + wanted.build_id, offset);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Module& m = module_for(wanted);
  SymbolFrame outer;
  outer.module = m.name;
  outer.function = fmt::format("0x{:x}", offset);
  std::vector<SymbolFrame> frames;
  if (m.module != nullptr && offset > 0) {
    const Dwarf_Addr address = offset - 1 + m.bias;
    if (const char* name = dwfl_module_addrname(m.module, address)) outer.function = demangle(name);
    SymbolFrame here;  // the innermost function's line
    if (Dwfl_Line* line = dwfl_module_getsrc(m.module, address)) {
      if (const char* file = dwfl_lineinfo(line, nullptr, &here.line, nullptr, nullptr, nullptr))
        here.file = file;
    }
    // Each inlined function is at the line its inner neighbour was called from.
    for (Inlined& in : inlined_at(m.module, address)) {
      frames.push_back({std::move(in.function), here.file, here.line, m.name});
      here.file = std::move(in.call_file);
      here.line = in.call_line;
    }
    outer.file = here.file;
    outer.line = here.line;
  }
  frames.push_back(std::move(outer));
  return cache_.emplace(key, std::move(frames)).first->second;
}

bool is_allocator_frame(const SymbolFrame& frame) {
  // The interposer's own helpers appear by their plain names when inlined (count_alloc,
  // new_or_throw) and qualified when not.
  static constexpr std::array<std::string_view, 12> kAllocators = {
      "malloc", "calloc",  "realloc", "memalign",    "aligned_alloc", "posix_memalign",
      "valloc", "pvalloc", "free",    "count_alloc", "new_or_throw",  "new_or_null"};
  std::string_view f = frame.function;
  for (std::string_view a : kAllocators) {
    if (f == a) return true;
  }
  if (f.starts_with("operator new") || f.starts_with("memsoak::harness::internal::stacks::")) return true;
  if (f.starts_with("(anonymous namespace)::count_alloc") || f.starts_with("(anonymous namespace)::new_or_"))
    return true;
  return frame.module.starts_with("libmemsoak_tracker");
}

std::vector<SymbolFrame> workload_frames(const std::vector<SymbolFrame>& frames) {
  auto harness = std::find_if(frames.begin(), frames.end(), [](const SymbolFrame& f) {
    return f.function.starts_with("memsoak::harness::") || f.function.starts_with("memsoak::tools::");
  });
  return {frames.begin(), harness};
}

std::string stack_fingerprint(const std::vector<SymbolFrame>& frames) {
  std::uint64_t h = 0xcbf29ce484222325u;
  auto mix = [&h](std::string_view text) {
    for (char c : text) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3u;
    }
    h ^= 0xff;
    h *= 0x100000001b3u;
  };
  for (const SymbolFrame& f : frames) {
    mix(f.module);
    mix(f.function);
  }
  return fmt::format("{:016x}", h);
}

}  // namespace memsoak::reports
