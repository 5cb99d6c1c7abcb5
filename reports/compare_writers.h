// The outputs of `memsoak compare`, built from the comparison model (reports/compare.h).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "reports/compare.h"

namespace memsoak::reports {

inline constexpr const char* kCompareSchema = "memsoak.compare/1";

// Text from outside memsoak (paths, scenario names, function names) made inert in Markdown, as
// summary.md does (reports/summary_md.h's md_text), without its length cap.
std::string markdown_escape(std::string_view text);

std::string compare_markdown(const Comparison& comparison);
nlohmann::ordered_json compare_json(const Comparison& comparison);
// One line per shared entry, then the changed sites and the budget's verdict: for the terminal.
std::string compare_table(const Comparison& comparison);

// Writes compare.md and compare.json into `dir` (made if missing), each replaced atomically.
// Throws std::runtime_error on I/O failure.
void write_comparison(const Comparison& comparison, const std::filesystem::path& dir);

}  // namespace memsoak::reports
