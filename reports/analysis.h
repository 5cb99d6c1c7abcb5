// Analysis: reads a run directory (run.json + samples.bin) and builds the report data model.
#pragma once

#include <filesystem>

#include "reports/report_model.h"

namespace memsoak::reports {

// Works on a finished run and on one cut short by a crash (it analyses the records that reached
// the disk). Throws InputError naming the file when run.json or samples.bin is missing, is not
// memsoak's, or is from a newer memsoak.
Report analyse_run_directory(const std::filesystem::path& run_dir);

}  // namespace memsoak::reports
