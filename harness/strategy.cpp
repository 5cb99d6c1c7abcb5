// Strategy names and construction (see strategy.h).
#include "harness/strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "harness/errors.h"
#include "harness/internal/strategies.h"

namespace memsoak::harness {
namespace {

struct NamedStrategy {
  std::string_view name;
  StrategyKind kind;
};

constexpr NamedStrategy kStrategies[] = {
    {"in-process", StrategyKind::kInProcess},
    {"fork", StrategyKind::kFork},
};

}  // namespace

std::vector<std::string_view> strategy_names() {
  std::vector<std::string_view> names;
  for (const auto& s : kStrategies) names.push_back(s.name);
  return names;
}

std::vector<StrategySpec> parse_strategy_list(std::string_view list) {
  std::vector<StrategySpec> specs;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = std::min(list.find(',', start), list.size());
    std::string_view name = list.substr(start, comma - start);
    auto known = std::find_if(std::begin(kStrategies), std::end(kStrategies),
                              [&](const NamedStrategy& s) { return s.name == name; });
    if (known == std::end(kStrategies)) {
      throw InputError(fmt::format("--strategy '{}': unknown strategy (known: {})", name,
                                   fmt::join(strategy_names(), ", ")));
    }
    if (std::any_of(specs.begin(), specs.end(), [&](const StrategySpec& s) { return s.name == name; })) {
      throw InputError(fmt::format("--strategy '{}': listed twice", name));
    }
    specs.push_back({known->kind, std::string(name)});
    start = comma + 1;
  }
  return specs;
}

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, WorkloadFactory factory) {
  switch (spec.kind) {
    case StrategyKind::kInProcess:
      return std::make_unique<internal::InProcessStrategy>(std::move(factory));
    case StrategyKind::kFork:
      return std::make_unique<internal::ForkPerRunStrategy>(std::move(factory));
  }
  throw std::logic_error("unhandled strategy kind");
}

}  // namespace memsoak::harness
