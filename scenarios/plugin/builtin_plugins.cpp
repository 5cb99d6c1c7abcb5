// The built-in synthetic workload exported through the C plugin ABI (memsoak_synthetic_plugin.so).
//
// Loading this library with --plugin gives exactly what `--workload synthetic` gives: the same
// code (scenarios/synthetic.cpp, compiled into the library), so the same digest for the same seed
// and run. That makes it the check that the plugin path measures what the built-in path measures.
//
// Config: "leak=MODE;seed=N", both optional (defaults: leak=none, seed=1); MODE is any synthetic
// leak mode, e.g. "leak=dropped:4096;seed=1".
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string_view>

#include "harness/errors.h"
#include "harness/units.h"
#include "harness/workload.h"
#include "scenarios/plugin/memsoak_plugin.h"
#include "scenarios/synthetic.h"

namespace memsoak::scenarios {
namespace {

struct SyntheticConfig {
  SyntheticLeak leak;
  std::uint64_t seed = 1;
};

// parse_synthetic_leak's messages name the CLI option, --leak; here the value came from a config.
SyntheticLeak parse_leak_item(std::string_view value) {
  try {
    return parse_synthetic_leak(value);
  } catch (const InputError& e) {
    std::string_view message = e.what();
    if (message.starts_with("--")) message.remove_prefix(2);
    throw InputError(std::string(message));
  }
}

void apply_config_item(std::string_view item, SyntheticConfig& config) {
  std::size_t equals = item.find('=');
  if (equals == std::string_view::npos) throw InputError(fmt::format("'{}': expected key=value", item));
  std::string_view key = item.substr(0, equals);
  std::string_view value = item.substr(equals + 1);
  if (key == "leak") {
    config.leak = parse_leak_item(value);
  } else if (key == "seed") {
    config.seed = harness::parse_count(value, "seed");
  } else {
    throw InputError(fmt::format("unknown key '{}' (known: leak, seed)", key));
  }
}

// Throws InputError naming the bad item.
SyntheticConfig parse_synthetic_config(std::string_view text) {
  SyntheticConfig config;
  while (!text.empty()) {
    std::size_t semicolon = text.find(';');
    std::string_view item = text.substr(0, semicolon);
    text = semicolon == std::string_view::npos ? std::string_view() : text.substr(semicolon + 1);
    if (!item.empty()) apply_config_item(item, config);
  }
  return config;
}

// Runs `body`, turning any exception into the ABI's nonzero return and message: nothing may
// unwind into the host through a C function pointer.
template <typename Body>
int guarded(char* error, std::size_t error_size, Body&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown exception");
  }
  return 1;
}

// The bridge from a harness::Workload (the state) to the C ABI; shared by every built-in plugin.
int workload_run(void* state, std::uint64_t run_index, std::uint64_t* digest, char* error,
                 std::size_t error_size) {
  return guarded(error, error_size,
                 [&] { *digest = static_cast<harness::Workload*>(state)->run(run_index); });
}

void workload_teardown(void* state) {
  std::unique_ptr<harness::Workload> workload(static_cast<harness::Workload*>(state));
  try {
    workload->teardown();
  } catch (...) {
    // teardown cannot fail in the ABI; the workload is destroyed either way.
  }
}

int synthetic_check_config(const char* config, char* error, std::size_t error_size) {
  return guarded(error, error_size, [&] { parse_synthetic_config(config); });
}

int synthetic_setup(const char* config, void** state, char* error, std::size_t error_size) {
  return guarded(error, error_size, [&] {
    SyntheticConfig parsed = parse_synthetic_config(config);
    std::unique_ptr<harness::Workload> workload = make_synthetic_workload(parsed.leak, parsed.seed)();
    workload->setup();
    *state = workload.release();
  });
}

constexpr memsoak_plugin kSyntheticPlugin = {
    .abi_version = MEMSOAK_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(memsoak_plugin),
    .name = "synthetic",
    .setup = synthetic_setup,
    .run = workload_run,
    .teardown = workload_teardown,
    .check_config = synthetic_check_config,
};

}  // namespace
}  // namespace memsoak::scenarios

// One ABI version, so the host's is not needed: the host refuses a mismatch, naming both.
extern "C" const memsoak_plugin* memsoak_plugin_entry(std::uint32_t /*host_abi_version*/) {
  return &memsoak::scenarios::kSyntheticPlugin;
}
