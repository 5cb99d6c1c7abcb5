// The strategy table: one row per strategy form. Adding a strategy is one file (its class and
// its row function) plus a declaration and a row in strategy_table.cpp; nothing else decides by
// name.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "harness/strategy.h"

namespace memsoak::harness::internal {

struct StrategyRow {
  std::string_view kind;   // StrategySpec::kind of what it parses
  std::string_view forms;  // the forms it accepts, separated by ", ", for `memsoak list` and errors
  // Fills `spec` from `text` and returns true when `text` is one of this row's forms (throwing
  // InputError when it is, but malformed); returns false when it is not.
  bool (*parse)(std::string_view text, StrategySpec& spec);
  // The strategy for a workload memsoak holds itself (native or plugin). Rows of the same kind
  // have the same factory: make_strategy() finds it by kind.
  std::unique_ptr<Strategy> (*make)(const StrategySpec& spec, const StrategyContext& context);
  bool applies_to_exec;  // an external worker can run under it (ExternalWorkerStrategy)
  bool recycles;         // replaces its worker on purpose
};

std::span<const StrategyRow> strategy_table();

// --exec workers under any row that applies to them (external_worker_strategy.cpp).
std::unique_ptr<Strategy> make_external_worker_strategy(const StrategySpec& spec,
                                                        const StrategyContext& context);

}  // namespace memsoak::harness::internal
