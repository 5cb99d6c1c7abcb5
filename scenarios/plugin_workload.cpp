// Workloads loaded from a shared library through the C plugin ABI (see plugin_workload.h).
#include "scenarios/plugin_workload.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "harness/errors.h"
#include "scenarios/plugin/memsoak_plugin.h"

namespace memsoak::scenarios {
namespace fs = std::filesystem;

namespace {

// A checked plugin table and the library it came from.
struct OpenedPlugin {
  const memsoak_plugin* table;
  fs::path absolute_path;
};

[[noreturn]] void refuse(const fs::path& library, std::string_view problem) {
  throw InputError(fmt::format("plugin '{}': {}", library.string(), problem));
}

// The buffer a plugin writes its failure message into; always NUL-terminated after the call.
class ErrorBuffer {
 public:
  char* data() noexcept { return text_.data(); }
  std::size_t size() const noexcept { return text_.size(); }
  // The plugin's message for return code `code`, or a stand-in when it wrote none.
  std::string message(int code) {
    text_.back() = '\0';
    if (text_.front() == '\0') return fmt::format("returned {} without a message", code);
    return one_line(text_.data());
  }

 private:
  std::array<char, 1024> text_{};
};

using CheckConfigFn = decltype(memsoak_plugin::check_config);

struct LibraryCloser {
  void operator()(void* handle) const noexcept { ::dlclose(handle); }
};
using LibraryHandle = std::unique_ptr<void, LibraryCloser>;

void check_file(const fs::path& library) {
  std::error_code ec;
  fs::file_status status = fs::status(library, ec);
  if (status.type() == fs::file_type::not_found) refuse(library, "no such file");
  if (ec) refuse(library, ec.message());
  if (!fs::is_regular_file(status)) refuse(library, "not a regular file");
}

// dlerror()'s text without the path it starts with: the message names the path once, as given.
std::string dlopen_problem(const fs::path& absolute_path) {
  const char* text = ::dlerror();
  std::string problem = text != nullptr ? text : "unknown dlopen error";
  std::string prefix = absolute_path.string() + ": ";
  if (problem.starts_with(prefix)) problem.erase(0, prefix.size());
  return problem;
}

LibraryHandle open_library(const fs::path& library, const fs::path& absolute_path) {
  ::dlerror();
  // RTLD_NOW: an unresolved symbol is bad input now, not a crash in the middle of a soak.
  // RTLD_LOCAL: the plugin's symbols cannot interpose on memsoak's or on another plugin's.
  LibraryHandle handle(::dlopen(absolute_path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!handle) refuse(library, "cannot be loaded as a shared library: " + dlopen_problem(absolute_path));
  return handle;
}

const memsoak_plugin* entry_table(const fs::path& library, void* handle) {
  void* symbol = ::dlsym(handle, MEMSOAK_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    refuse(library, "no " MEMSOAK_PLUGIN_ENTRY_SYMBOL " symbol: not a memsoak plugin (see memsoak_plugin.h)");
  }
  auto entry = reinterpret_cast<memsoak_plugin_entry_fn>(symbol);
  const memsoak_plugin* table = entry(MEMSOAK_PLUGIN_ABI_VERSION);
  if (table == nullptr) {
    refuse(library, fmt::format(MEMSOAK_PLUGIN_ENTRY_SYMBOL "({}) returned no table: the plugin does not "
                                                            "support plugin ABI version {}",
                                MEMSOAK_PLUGIN_ABI_VERSION, MEMSOAK_PLUGIN_ABI_VERSION));
  }
  return table;
}

// The version rule of memsoak_plugin.h: same major version, at least ABI 1's fields, all of the
// required ones set.
void check_table(const fs::path& library, const memsoak_plugin& table) {
  if (table.abi_version != MEMSOAK_PLUGIN_ABI_VERSION) {
    refuse(library, fmt::format("built for plugin ABI version {}, this memsoak supports version {}",
                                table.abi_version, MEMSOAK_PLUGIN_ABI_VERSION));
  }
  if (table.struct_size < MEMSOAK_PLUGIN_MIN_SIZE) {
    refuse(library, fmt::format("plugin table is {} bytes, plugin ABI version {} needs at least {}",
                                table.struct_size, MEMSOAK_PLUGIN_ABI_VERSION, MEMSOAK_PLUGIN_MIN_SIZE));
  }
  if (table.name == nullptr || *table.name == '\0') refuse(library, "plugin table has no name");
  if (table.setup == nullptr) refuse(library, "plugin table has no setup function");
  if (table.run == nullptr) refuse(library, "plugin table has no run function");
  if (table.teardown == nullptr) refuse(library, "plugin table has no teardown function");
}

// check_config when the table is large enough to have the field and the plugin set it.
CheckConfigFn check_config_of(const memsoak_plugin& table) {
  constexpr std::size_t kCovered = offsetof(memsoak_plugin, check_config) + sizeof table.check_config;
  return table.struct_size >= kCovered ? table.check_config : nullptr;
}

OpenedPlugin open_plugin(const fs::path& library) {
  check_file(library);
  fs::path absolute_path = fs::absolute(library);
  LibraryHandle handle = open_library(library, absolute_path);
  const memsoak_plugin* table = entry_table(library, handle.get());
  check_table(library, *table);
  // Never closed: the table points into the library, and a plugin's thread-local destructors,
  // atexit handlers or threads may too. A refused library is closed by the handle above.
  static_cast<void>(handle.release());
  return {table, absolute_path};
}

void check_config(const fs::path& library, const memsoak_plugin& table, const std::string& config) {
  CheckConfigFn check = check_config_of(table);
  if (check == nullptr) return;
  ErrorBuffer error;
  int code = check(config.c_str(), error.data(), error.size());
  if (code != 0) {
    refuse(library,
           fmt::format("plugin {} refuses config '{}': {}", table.name, config, error.message(code)));
  }
}

// The harness's Workload over a plugin table. Not thread-safe, like every Workload.
class PluginWorkload final : public harness::Workload {
 public:
  PluginWorkload(const memsoak_plugin& plugin, std::string library, std::string config)
      : plugin_(plugin), library_(std::move(library)), config_(std::move(config)) {}
  PluginWorkload(const PluginWorkload&) = delete;
  PluginWorkload& operator=(const PluginWorkload&) = delete;
  ~PluginWorkload() override { teardown(); }

  // A plugin that cannot set up is bad input from outside memsoak, like a model file that does
  // not load; under the fork strategy the harness records it as that run's failure.
  void setup() override {
    if (set_up_) throw std::logic_error("plugin workload set up twice");
    ErrorBuffer error;
    void* state = nullptr;
    int code = plugin_.setup(config_.c_str(), &state, error.data(), error.size());
    if (code != 0) {
      throw InputError(
          fmt::format("plugin '{}' ({}): setup failed: {}", library_, plugin_.name, error.message(code)));
    }
    state_ = state;
    set_up_ = true;
  }

  std::uint64_t run(std::uint64_t run_index) override {
    if (!set_up_) throw std::logic_error("plugin workload run before setup");
    ErrorBuffer error;
    std::uint64_t digest = 0;
    int code = plugin_.run(state_, run_index, &digest, error.data(), error.size());
    if (code != 0) throw std::runtime_error(fmt::format("plugin {}: {}", plugin_.name, error.message(code)));
    return digest;
  }

  // Once, and only after a successful setup (the contract of memsoak_plugin.h).
  void teardown() override {
    if (!set_up_) return;
    set_up_ = false;
    plugin_.teardown(state_);
    state_ = nullptr;
  }

 private:
  const memsoak_plugin& plugin_;
  std::string library_;
  std::string config_;
  void* state_ = nullptr;
  bool set_up_ = false;
};

}  // namespace

harness::WorkloadFactory make_plugin_workload(const fs::path& library, std::string config) {
  OpenedPlugin plugin = open_plugin(library);
  check_config(library, *plugin.table, config);
  return [table = plugin.table, path = library.string(), config = std::move(config)] {
    return std::make_unique<PluginWorkload>(*table, path, config);
  };
}

nlohmann::json describe_plugin(const fs::path& library) {
  OpenedPlugin plugin = open_plugin(library);
  return {
      {"name", plugin.table->name},
      {"library", plugin.absolute_path.string()},
      {"abi_version", plugin.table->abi_version},
      {"struct_size", plugin.table->struct_size},
      {"has_check_config", check_config_of(*plugin.table) != nullptr},
  };
}

}  // namespace memsoak::scenarios
