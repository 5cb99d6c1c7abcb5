// Stack artifacts: parsing, symbolizing, fingerprints (see stack_dump.h).
#include "reports/stack_dump.h"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <fmt/format.h>

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

const SymbolFrame& Symbolizer::resolve(const DumpedModule& wanted, std::uint64_t offset) {
  auto key = std::make_pair(wanted.path + '\n' + wanted.build_id, offset);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Module& m = module_for(wanted);
  SymbolFrame frame;
  frame.module = m.name;
  frame.function = fmt::format("0x{:x}", offset);
  if (m.module != nullptr && offset > 0) {
    const Dwarf_Addr address = offset - 1 + m.bias;
    if (const char* name = dwfl_module_addrname(m.module, address)) frame.function = demangle(name);
    if (Dwfl_Line* line = dwfl_module_getsrc(m.module, address)) {
      int lineno = 0;
      if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr)) {
        frame.file = file;
        frame.line = lineno;
      }
    }
  }
  return cache_.emplace(key, std::move(frame)).first->second;
}

bool is_allocator_frame(const SymbolFrame& frame) {
  static constexpr std::array<std::string_view, 9> kAllocators = {
      "malloc",         "calloc", "realloc", "memalign", "aligned_alloc",
      "posix_memalign", "valloc", "pvalloc", "free"};
  std::string_view f = frame.function;
  for (std::string_view a : kAllocators) {
    if (f == a) return true;
  }
  if (f.starts_with("operator new") || f.starts_with("memsoak::harness::internal::stacks::")) return true;
  if (f.starts_with("(anonymous namespace)::count_alloc") || f.starts_with("(anonymous namespace)::new_or_"))
    return true;
  return frame.module.starts_with("libmemsoak_tracker");
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
