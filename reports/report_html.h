// report.html, the page for a reviewer (reports/report_html.cpp; registered in writers.cpp), and
// the page shell other HTML views (compare.html) share with it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "reports/report_model.h"

namespace memsoak::reports {

// The whole page: self-contained, no network, every outside string escaped.
std::string render_report_html(const Report& report);

// Everything up to and including <body>: the Content-Security-Policy that allows exactly the
// embedded scripts and styles, the styles, and `title` (escaped here).
std::string html_page_open(std::string_view title);
// The chart data the page's script draws (the shape docs/run-directory.md gives for report.html),
// the scripts, and the end of the page. The body between must have a <div id="charts"> for charts
// and a <div id="flame"> for flame graphs (`data["flame"]`, may be empty).
std::string html_page_close(const nlohmann::json& data);
// One entry of `data["strategies"]`: `index` picks its colour.
nlohmann::json chart_strategy_json(std::size_t index, const std::string& label, const StrategyCharts& charts);

}  // namespace memsoak::reports
