// Parsing and printing of sizes and counts (see units.h).
#include "harness/units.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

[[noreturn]] void bad_value(std::string_view what, std::string_view text, std::string_view why) {
  throw InputError(fmt::format("{} '{}': {}", what, text, why));
}

std::uint64_t unit_multiplier(std::string_view unit, std::string_view what, std::string_view text) {
  std::string lower;
  for (char c : unit) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower.empty() || lower == "b") return 1;
  static constexpr struct {
    std::string_view name;
    std::uint64_t multiplier;
  } kUnits[] = {
      {"k", 1000},         {"kb", 1000},         {"kib", 1ull << 10},   {"m", 1000000},
      {"mb", 1000000},     {"mib", 1ull << 20},  {"g", 1000000000},     {"gb", 1000000000},
      {"gib", 1ull << 30}, {"t", 1000000000000}, {"tb", 1000000000000}, {"tib", 1ull << 40},
  };
  for (const auto& u : kUnits) {
    if (u.name == lower) return u.multiplier;
  }
  bad_value(what, text, "unknown unit (use B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)");
}

}  // namespace

std::uint64_t parse_count(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || ec == std::errc::invalid_argument || ptr != end) {
    bad_value(what, text, "not a non-negative whole number");
  }
  if (ec == std::errc::result_out_of_range) bad_value(what, text, "too large");
  return value;
}

namespace {

// "64MiB" -> {64, "MiB"}: the leading whole number and what follows it. `kind` completes the
// error for text that does not start with a digit ("not a size (examples: ...)").
std::pair<std::uint64_t, std::string_view> number_and_unit(std::string_view text, std::string_view what,
                                                           std::string_view kind) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) bad_value(what, text, kind);
  std::uint64_t number = 0;
  if (std::from_chars(text.data(), text.data() + digits, number).ec != std::errc()) {
    bad_value(what, text, "too large");  // names the whole value, unit included
  }
  return {number, text.substr(digits)};
}

}  // namespace

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  auto [number, unit] = number_and_unit(text, what, "not a size (examples: 4096, 512KiB, 64MiB)");
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  std::uint64_t multiplier = unit_multiplier(unit, what, text);
  if (number > std::numeric_limits<std::uint64_t>::max() / multiplier) bad_value(what, text, "too large");
  return number * multiplier;
}

std::int64_t parse_duration_ms(std::string_view text, std::string_view what) {
  auto [number, unit] = number_and_unit(text, what, "not a duration (examples: 500ms, 30s, 2m)");
  std::uint64_t ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m" || unit == "min") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    bad_value(what, text, "unknown unit (use ms, s, m, h)");
  }
  if (number >
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / ms_per_unit / 1'000'000) {
    bad_value(what, text, "too long");
  }
  return static_cast<std::int64_t>(number * ms_per_unit);
}

std::string format_bytes(double bytes) {
  static constexpr const char* kPrefixes[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double magnitude = std::fabs(bytes);
  int prefix = 0;
  while (magnitude >= 1024.0 && prefix < 4) {
    magnitude /= 1024.0;
    bytes /= 1024.0;
    ++prefix;
  }
  if (prefix == 0) return fmt::format("{:.0f} B", std::round(bytes) == 0 ? 0.0 : bytes);  // no "-0 B"
  return fmt::format("{:.1f} {}", bytes, kPrefixes[prefix]);
}

std::string format_signed_bytes(double bytes) { return (bytes >= 0 ? "+" : "") + format_bytes(bytes); }

std::string format_count(std::uint64_t count) {
  std::string digits = std::to_string(count);
  for (auto at = static_cast<std::ptrdiff_t>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<std::size_t>(at), ",");
  }
  return digits;
}

}  // namespace memsoak::harness
