// junit.xml: one JUnit test case per entry, failing where the --budget gate fails (see
// docs/run-directory.md).
#pragma once

#include <string>
#include <string_view>

#include "reports/report_model.h"

namespace memsoak::reports {

// `text` as an XML 1.0 attribute value (in double or single quotes) or, with `attribute` false,
// character data: the five markup characters and CR as references (tab and LF too in an
// attribute), characters XML 1.0 forbids (other controls, U+FFFE, U+FFFF) dropped, invalid UTF-8
// as U+FFFD.
std::string xml_text(std::string_view text, bool attribute = true);

// The whole of junit.xml.
std::string junit_xml(const Report& report);

}  // namespace memsoak::reports
