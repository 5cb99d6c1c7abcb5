// summary.md: the soak's answer for a CI job summary, in GitHub-flavoured Markdown (see
// docs/run-directory.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "reports/report_model.h"

namespace memsoak::reports {

// GitHub refuses a step summary over 1 MiB; the file stays under 1 MB whatever the report holds.
inline constexpr std::size_t kMaxSummaryBytes = 1'000'000;

// `text` made inert inside a Markdown line or table cell: characters Markdown gives a meaning
// (`\ ` * _ [ ] < > | ~ & $`) are backslash-escaped, control characters (newlines included) become
// spaces, invalid UTF-8 becomes U+FFFD, and past `max_code_points` the rest becomes "…".
std::string md_text(std::string_view text, std::size_t max_code_points);

// The whole of summary.md.
std::string summary_markdown(const Report& report);

}  // namespace memsoak::reports
