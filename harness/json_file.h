// JSON files memsoak writes (atomically) and reads (with one-line errors naming the file).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>

namespace memsoak::harness {

// Writes `value` to `path` through a temporary file and a rename, so readers never see half.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& value);
void write_json_file(const std::filesystem::path& path, const nlohmann::ordered_json& value);

// The same for any text.
void write_text_file(const std::filesystem::path& path, const std::string& text);

// The same for text too large to hold in memory at once: `fill` streams it into the temporary
// file. Whatever fails (`fill` throwing included), the temporary file is removed.
void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& fill);

inline constexpr int kMaxJsonDepth = 64;

// Reads a JSON file; throws InputError naming the file when it is missing, not JSON, or nested
// deeper than kMaxJsonDepth.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace memsoak::harness
