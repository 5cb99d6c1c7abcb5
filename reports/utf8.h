// Outside text (symbols, file names, a worker's command, verdict reasons) as the text-format
// writers need it: whatever bytes it holds, read as UTF-8 code points they can escape one by one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace memsoak::reports {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// The code point that starts at `text[pos]`, advancing `pos` past it. A byte that does not start a
// valid UTF-8 sequence (stray continuation bytes, overlong forms, surrogates, values past
// U+10FFFF, a sequence cut short) reads as U+FFFD and `pos` advances by that one byte, so no input
// can stop the decoding or make it skip valid text. `pos` must be below text.size().
char32_t next_code_point(std::string_view text, std::size_t& pos);

void append_utf8(std::string& out, char32_t code_point);

}  // namespace memsoak::reports
