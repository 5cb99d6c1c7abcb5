// The run directory: creating it, and describing the machine for run.json. Every file of a run
// directory and every field is documented in docs/run-directory.md; run.json has one owner,
// harness/run_manifest.h.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "harness/json_file.h"

namespace memsoak::harness {

// Creates the directory for a new run. With `requested` it must not exist or be an empty
// directory; without it, memsoak-out/<UTC timestamp> is made and memsoak-out/latest points to
// it. Throws InputError naming the path when it can't be created or already holds files; nothing
// is left behind on failure.
std::filesystem::path create_run_directory(const std::optional<std::filesystem::path>& requested);

// Throws InputError when a memsoak run still holds `dir` (the lock create_run_directory takes): a
// report rebuilt now would read a soak half done and race its own final report.
void check_no_soak_running(const std::filesystem::path& dir);

// Appends one line to `run_dir`/run.log. The file is opened for the write only (close-on-exec),
// so no child of the soak inherits it. Throws std::system_error when it cannot be written.
void append_run_log(const std::filesystem::path& run_dir, std::string_view line);

// The GNU build id (hex) of this process's executable, from its loaded note segment; empty when it
// was linked without one. run.json records it so that merge and compare can tell builds apart.
std::string executable_build_id();

// Machine, kernel, glibc and compiler of this process, for run.json.
nlohmann::json describe_environment();

}  // namespace memsoak::harness
