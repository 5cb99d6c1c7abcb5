// The look schedule (see sequential_looks.h).
#include "harness/sequential_looks.h"

#include <cmath>

namespace memsoak::harness {

std::uint64_t look_runs(std::size_t look) {
  // Integer steps (ceil(x * 3 / 2)) rather than pow(): the same schedule on every machine.
  std::uint64_t runs = kFirstLookRuns;
  for (std::size_t k = 0; k < look; ++k) {
    if (runs > (UINT64_MAX / 3)) return UINT64_MAX;
    runs = (runs * 3 + 1) / 2;
  }
  return runs;
}

std::optional<std::size_t> look_at(std::uint64_t runs) {
  std::size_t k = look_covering(runs);
  if (look_runs(k) == runs) return k;
  return std::nullopt;
}

std::size_t look_covering(std::uint64_t runs) {
  std::size_t k = 0;
  while (look_runs(k) < runs) ++k;
  return k;
}

}  // namespace memsoak::harness
