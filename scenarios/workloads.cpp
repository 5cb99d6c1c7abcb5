// The built-in workloads by name (see workloads.h).
#include "scenarios/workloads.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/errors.h"
#include "scenarios/synthetic.h"

namespace memsoak::scenarios {

std::vector<WorkloadDescription> list_workloads() {
  return {
      {"synthetic",
       "a mix of small, medium and large allocations per run",
       {"none", "dropped:SIZE", "cache:SIZE", "bounded:COUNTxSIZE"}},
  };
}

BuiltWorkload make_workload(const WorkloadRequest& request) {
  if (request.name == "synthetic") {
    SyntheticLeak leak = parse_synthetic_leak(request.leak);
    return {make_synthetic_workload(leak, request.seed), {{"name", "synthetic"}, {"leak", request.leak}}};
  }
  std::vector<std::string> names;
  for (const auto& w : list_workloads()) names.push_back(w.name);
  throw InputError(
      fmt::format("--workload '{}': unknown workload (known: {})", request.name, fmt::join(names, ", ")));
}

}  // namespace memsoak::scenarios
