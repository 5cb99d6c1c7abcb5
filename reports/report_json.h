// report.json writer: the machine-readable report ("memsoak.report/1"; fields in docs/run-directory.md).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "reports/report_model.h"

namespace memsoak::reports {

// Every field of the model; values not measured are null, never a made-up number.
nlohmann::ordered_json report_to_json(const Report& report);

void write_report_json(const Report& report, const std::filesystem::path& path);

}  // namespace memsoak::reports
