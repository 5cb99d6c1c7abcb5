// Strategy parsing and construction through the strategy table (see strategy.h).
#include "harness/strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "harness/errors.h"
#include "harness/internal/strategy_table.h"
#include "harness/units.h"

namespace memsoak::harness {
namespace {

const internal::StrategyRow* row_parsing(std::string_view text, StrategySpec& spec) {
  for (const internal::StrategyRow& row : internal::strategy_table()) {
    if (row.parse(text, spec)) return &row;
  }
  return nullptr;
}

bool mentions_allocation_failure(std::string_view reason) {
  for (std::string_view word : {"bad_alloc", "MemoryError", "Cannot allocate memory", "out of memory",
                                "OutOfMemory", "memory allocation"}) {
    if (reason.find(word) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::string explain_memory_limit(std::string reason, std::uint64_t limit, std::uint64_t address_space_peak) {
  if (limit == 0 || reason.find("--child-memory-limit") != std::string::npos) return reason;
  const bool near = address_space_peak >= limit - limit / 4;
  if (!near && !mentions_allocation_failure(reason)) return reason;
  reason += " (under --child-memory-limit " + format_bytes(static_cast<double>(limit));
  if (address_space_peak > 0)
    reason += ": its address space had reached " + format_bytes(static_cast<double>(address_space_peak));
  return reason + ")";
}

std::vector<std::string_view> strategy_names() {
  std::vector<std::string_view> names;
  for (const internal::StrategyRow& row : internal::strategy_table()) {
    std::string_view forms = row.forms;
    while (!forms.empty()) {
      std::size_t comma = std::min(forms.find(", "), forms.size());
      names.push_back(forms.substr(0, comma));
      forms.remove_prefix(std::min(comma + 2, forms.size()));
    }
  }
  return names;
}

StrategySpec parse_strategy(std::string_view text) {
  StrategySpec spec;
  const internal::StrategyRow* row = row_parsing(text, spec);
  if (row == nullptr) {
    throw InputError(fmt::format("--strategy '{}': unknown strategy (known: {})", text,
                                 fmt::join(strategy_names(), ", ")));
  }
  spec.name = std::string(text);
  spec.kind = std::string(row->kind);
  spec.recycles = row->recycles;
  spec.applies_to_exec = row->applies_to_exec;
  return spec;
}

std::vector<StrategySpec> parse_strategy_list(std::string_view list) {
  std::vector<StrategySpec> specs;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = std::min(list.find(',', start), list.size());
    StrategySpec spec = parse_strategy(list.substr(start, comma - start));
    if (std::any_of(specs.begin(), specs.end(), [&](const StrategySpec& s) { return s.name == spec.name; })) {
      throw InputError(fmt::format("--strategy '{}': listed twice", spec.name));
    }
    specs.push_back(std::move(spec));
    start = comma + 1;
  }
  return specs;
}

void check_strategies_for_exec(const std::vector<StrategySpec>& specs) {
  for (const StrategySpec& spec : specs) {
    if (spec.applies_to_exec) continue;
    std::vector<std::string_view> usable;
    for (const internal::StrategyRow& row : internal::strategy_table()) {
      if (row.applies_to_exec) usable.push_back(row.forms);
    }
    throw InputError(fmt::format(
        "--strategy '{}': does not apply to an --exec worker, whose process memsoak cannot fork or "
        "trim (use {})",
        spec.name, fmt::join(usable, ", ")));
  }
}

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, const StrategyContext& context) {
  if (!context.workload.in_memsoak()) {
    check_strategies_for_exec({spec});
    return internal::make_external_worker_strategy(spec, context);
  }
  // Rows of one kind (in-process and in-process+trim; the two recycle forms) share a factory.
  for (const internal::StrategyRow& row : internal::strategy_table()) {
    if (row.kind == spec.kind) return row.make(spec, context);
  }
  throw std::logic_error("make_strategy: no table row for '" + spec.name + "'");
}

}  // namespace memsoak::harness
