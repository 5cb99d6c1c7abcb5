// Text for HTML pages: every string that came from outside memsoak (symbol names, file paths,
// worker output, a scenario's name) goes through these before it reaches a page.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace memsoak::reports {

// Escapes & < > " ' for text and attribute values, and replaces invalid UTF-8 and control
// characters (other than tab and newline) with U+FFFD, so that no input can end an element, open
// one, or leave the page in a broken encoding.
std::string html_escape(std::string_view text);

// `value` as JSON that can sit inside <script type="application/json">: invalid UTF-8 replaced,
// and every '<' written as \u003c, so no string can close the script element.
std::string json_for_script(const nlohmann::json& value);

}  // namespace memsoak::reports
