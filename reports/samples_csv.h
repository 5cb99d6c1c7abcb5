// samples.csv: samples.bin's run records as CSV (see docs/run-directory.md).
#pragma once

#include <filesystem>

namespace memsoak::reports {

// Writes `run_dir`/samples.csv from its samples.bin and run.json, atomically; writes nothing when
// the directory has no samples.bin. Throws InputError when either file is unreadable (as the
// analysis does) and std::runtime_error on I/O failure.
void write_samples_csv(const std::filesystem::path& run_dir);

}  // namespace memsoak::reports
