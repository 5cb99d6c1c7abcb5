// Names of workload source kinds (see workload.h).
#include "harness/workload.h"

namespace memsoak::harness {

std::string_view source_kind_name(WorkloadSource::Kind kind) noexcept {
  switch (kind) {
    case WorkloadSource::Kind::kNative:
      return "native";
    case WorkloadSource::Kind::kPlugin:
      return "plugin";
    case WorkloadSource::Kind::kExternal:
      return "external";
  }
  return "native";
}

bool parse_source_kind(std::string_view name, WorkloadSource::Kind& kind) noexcept {
  for (auto k :
       {WorkloadSource::Kind::kNative, WorkloadSource::Kind::kPlugin, WorkloadSource::Kind::kExternal}) {
    if (source_kind_name(k) == name) {
      kind = k;
      return true;
    }
  }
  return false;
}

}  // namespace memsoak::harness
