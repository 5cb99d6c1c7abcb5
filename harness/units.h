// Parsing and printing of the units memsoak's command line and reports use: sizes and rates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memsoak::harness {

// Parses "4096", "512KiB", "64MiB", "1GiB", "10kB", "2MB" (decimal prefixes are powers of 1000,
// binary ones of 1024; "B" is optional; case of the prefix letter is ignored). Throws InputError
// naming `what` and the value when the text is not a size or overflows 64 bits.
std::uint64_t parse_size(std::string_view text, std::string_view what);

// Parses a duration into milliseconds: "500ms", "30s", "2m", "1h", or a plain number of seconds.
// Throws InputError naming `what` and the value otherwise.
std::int64_t parse_duration_ms(std::string_view text, std::string_view what);

// Parses a non-negative integer that fits 64 bits; throws InputError naming `what` otherwise.
std::uint64_t parse_count(std::string_view text, std::string_view what);

// "4.0 KiB", "12.3 MiB", "-512 B": a human-readable byte count with a binary prefix.
std::string format_bytes(double bytes);

// The same with a sign for growth: "+4.0 KiB", "-512 B", "+0 B".
std::string format_signed_bytes(double bytes);

// "3,000", "120,000": a count with thousands separated, as in the reports' prose.
std::string format_count(std::uint64_t count);

}  // namespace memsoak::harness
