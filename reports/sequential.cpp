// Sequential stopping (see sequential.h).
#include "reports/sequential.h"

#include <numbers>

namespace memsoak::reports {

double look_alpha(std::size_t look) {
  const double k1 = static_cast<double>(look) + 1;
  return kSequentialAlpha * 6 / (std::numbers::pi * std::numbers::pi * k1 * k1);
}

LookDecision decide_at_look(const harness::RunManifest&, std::uint32_t, std::span<const harness::RunRecord>) {
  return {false, "not implemented yet"};  // TEMPORARY: filled in by the verdict work on main
}

}  // namespace memsoak::reports
