// compare.html, the page view of `memsoak compare` (reports/compare.h's model, with the two
// reports it was made from for their charts).
#pragma once

#include <filesystem>
#include <string>

#include "reports/compare.h"

namespace memsoak::reports {

std::string render_compare_html(const Comparison& comparison, const Report& base, const Report& fresh);

// Writes `dir`/compare.html (made if missing), replaced atomically. Throws std::runtime_error on
// I/O failure.
void write_comparison_html(const Comparison& comparison, const Report& base, const Report& fresh,
                           const std::filesystem::path& dir);

}  // namespace memsoak::reports
