// The rows of the strategy table (see internal/strategy_table.h), in the order `memsoak list`
// shows them. Each row function lives with its strategy.
#include "harness/internal/strategy_table.h"

namespace memsoak::harness::internal {

StrategyRow in_process_row();
StrategyRow in_process_trim_row();
StrategyRow fork_row();
StrategyRow zygote_row();
StrategyRow recycle_runs_row();
StrategyRow recycle_rss_row();
StrategyRow spawn_row();

std::span<const StrategyRow> strategy_table() {
  static const StrategyRow rows[] = {
      in_process_row(),   in_process_trim_row(), fork_row(),  zygote_row(),
      recycle_runs_row(), recycle_rss_row(),     spawn_row(),
  };
  return rows;
}

}  // namespace memsoak::harness::internal
