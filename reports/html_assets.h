// The front-end files embedded in memsoak for report.html (reports/html/: the page's own script
// and style, and uPlot from the npm registry, pinned by reports/html/package-lock.json). The build
// generates their definitions with tools/embed_assets.py.
#pragma once

#include <string_view>

namespace memsoak::reports {

struct HtmlAsset {
  std::string_view text;
  std::string_view csp_source;  // "sha256-<base64>", for the page's Content-Security-Policy
};

// "uplot.js", "uplot.css", "report.js", "report.css". Throws std::logic_error for any other name.
HtmlAsset html_asset(std::string_view name);

}  // namespace memsoak::reports
