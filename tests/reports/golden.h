// Golden-file comparison for the report writers' tests: the output of a fixed model must match a
// reviewed file in tests/reports/golden/ byte for byte. After an intended change of a format, run
// the test once with MEMSOAK_UPDATE_GOLDEN=1: it rewrites the golden file and fails (a run in that
// mode can never pass); review the diff, then run it without.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace memsoak::testing {

inline void expect_golden(const std::string& actual, const std::string& file_name) {
  const std::string golden_path = std::string(MEMSOAK_TEST_DATA_DIR) + "/reports/golden/" + file_name;
  if (std::getenv("MEMSOAK_UPDATE_GOLDEN") != nullptr) {
    std::ofstream out(golden_path, std::ios::binary);
    out << actual;
    out.close();
    ASSERT_TRUE(out) << "MEMSOAK_UPDATE_GOLDEN is set but " << golden_path << " could not be written";
    FAIL() << "MEMSOAK_UPDATE_GOLDEN is set, so the golden file " << golden_path
           << " was rewritten: review the diff (git diff -- " << golden_path
           << ") and run the test again without MEMSOAK_UPDATE_GOLDEN";
  }
  std::ifstream in(golden_path, std::ios::binary);
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(actual, golden.str()) << "differs from " << golden_path;
}

}  // namespace memsoak::testing
