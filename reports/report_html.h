// report.html, the page for a reviewer (reports/report_html.cpp; registered in writers.cpp).
#pragma once

#include <string>

#include "reports/report_model.h"

namespace memsoak::reports {

// The whole page: self-contained, no network, every outside string escaped.
std::string render_report_html(const Report& report);

}  // namespace memsoak::reports
