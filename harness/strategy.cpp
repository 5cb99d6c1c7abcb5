// Strategy names, parsing and construction (see strategy.h).
#include "harness/strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "harness/errors.h"
#include "harness/internal/strategies.h"
#include "harness/units.h"

namespace memsoak::harness {
namespace {

constexpr std::string_view kForms[] = {"in-process",  "in-process+trim",  "fork", "zygote", "recycle:N",
                                       "recycle:N~J", "recycle-rss:SIZE", "spawn"};

StrategySpec parse_one(std::string_view text) {
  StrategySpec spec;
  spec.name = std::string(text);
  auto bad = [&](std::string_view why) { return InputError(fmt::format("--strategy '{}': {}", text, why)); };
  if (text == "in-process" || text == "in-process+trim") {
    spec.kind = StrategyKind::kInProcess;
    spec.trim = text == "in-process+trim";
  } else if (text == "fork") {
    spec.kind = StrategyKind::kFork;
  } else if (text == "zygote") {
    spec.kind = StrategyKind::kZygote;
  } else if (text == "spawn") {
    spec.kind = StrategyKind::kSpawn;
  } else if (text.starts_with("recycle-rss:")) {
    spec.kind = StrategyKind::kRecycle;
    spec.recycle_rss_bytes = parse_size(text.substr(12), fmt::format("--strategy '{}': size", text));
    if (spec.recycle_rss_bytes == 0) throw bad("the RSS limit must be above 0");
  } else if (text.starts_with("recycle:")) {
    spec.kind = StrategyKind::kRecycle;
    std::string_view arg = text.substr(8);
    std::size_t tilde = arg.find('~');
    spec.recycle_runs = parse_count(arg.substr(0, tilde), fmt::format("--strategy '{}': runs", text));
    if (tilde != std::string_view::npos) {
      spec.recycle_jitter = parse_count(arg.substr(tilde + 1), fmt::format("--strategy '{}': jitter", text));
    }
    if (spec.recycle_runs == 0) throw bad("a worker must serve at least 1 run");
  } else {
    throw bad(fmt::format("unknown strategy (known: {})", fmt::join(kForms, ", ")));
  }
  return spec;
}

}  // namespace

std::vector<std::string_view> strategy_names() { return {std::begin(kForms), std::end(kForms)}; }

std::vector<StrategySpec> parse_strategy_list(std::string_view list) {
  std::vector<StrategySpec> specs;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = std::min(list.find(',', start), list.size());
    StrategySpec spec = parse_one(list.substr(start, comma - start));
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
    if (spec.kind == StrategyKind::kZygote || spec.kind == StrategyKind::kSpawn || spec.trim) {
      throw InputError(fmt::format(
          "--strategy '{}': does not apply to an --exec worker, whose process memsoak cannot fork or trim "
          "(use in-process, fork, recycle:N or recycle-rss:SIZE)",
          spec.name));
    }
  }
}

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, const StrategyContext& context) {
  if (!context.exec_command.empty()) {
    check_strategies_for_exec({spec});
    return std::make_unique<internal::ExternalWorkerStrategy>(spec, context);
  }
  switch (spec.kind) {
    case StrategyKind::kInProcess:
      return std::make_unique<internal::InProcessStrategy>(spec, context);
    case StrategyKind::kFork:
      return std::make_unique<internal::ForkPerRunStrategy>(context);
    case StrategyKind::kZygote:
      return std::make_unique<internal::ZygoteStrategy>(context);
    case StrategyKind::kRecycle:
      return std::make_unique<internal::RecycleStrategy>(spec, context);
    case StrategyKind::kSpawn:
      return std::make_unique<internal::SpawnStrategy>(context);
  }
  throw std::logic_error("unhandled strategy kind");
}

}  // namespace memsoak::harness
