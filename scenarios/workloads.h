// The built-in workloads by name: what `memsoak run --workload NAME --leak MODE` builds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/workload.h"

namespace memsoak::scenarios {

struct WorkloadRequest {
  std::string name = "synthetic";
  std::string leak = "none";
  std::uint64_t seed = 1;
};

struct BuiltWorkload {
  harness::WorkloadFactory factory;
  nlohmann::json info;  // recorded in run.json as "workload_info"
};

struct WorkloadDescription {
  std::string name;
  std::string summary;
  std::vector<std::string> leak_modes;  // with their argument syntax, e.g. "dropped:SIZE"
};

// Validates the request and returns a factory. Throws InputError naming an unknown workload or
// a leak mode the workload does not have.
BuiltWorkload make_workload(const WorkloadRequest& request);

std::vector<WorkloadDescription> list_workloads();

}  // namespace memsoak::scenarios
