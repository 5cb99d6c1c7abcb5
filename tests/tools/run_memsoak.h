// Test support: runs the memsoak executable in a scratch directory and captures what it says.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace memsoak::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A fresh, empty working directory per test, removed afterwards.
class MemsoakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = std::filesystem::temp_directory_path() / ("memsoak-test-" + std::string(info->test_suite_name()) +
                                                      "-" + info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(work_);
  }

  // Runs `memsoak ARGS...` with the scratch directory as its working directory.
  CommandResult memsoak(const std::vector<std::string>& args) const {
    std::string command = "cd " + shell_quote(work_.string()) + " && " + shell_quote(MEMSOAK_BINARY);
    for (const auto& a : args) command += " " + shell_quote(a);
    command +=
        " >" + shell_quote((work_ / ".stdout").string()) + " 2>" + shell_quote((work_ / ".stderr").string());
    CommandResult result;
    int status = std::system(command.c_str());
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text(work_ / ".stdout");
    result.err = read_text(work_ / ".stderr");
    std::filesystem::remove(work_ / ".stdout");
    std::filesystem::remove(work_ / ".stderr");
    return result;
  }

  nlohmann::json report(const std::string& run_dir) const {
    return nlohmann::json::parse(read_text(work_ / run_dir / "report.json"));
  }

  std::filesystem::path work_;
};

// The strategy entry of a report by name; fails the test when it is missing.
inline nlohmann::json strategy(const nlohmann::json& report, const std::string& name) {
  for (const auto& s : report["strategies"]) {
    if (s["strategy"] == name) return s;
  }
  ADD_FAILURE() << "no strategy " << name << " in report";
  return nlohmann::json::object();
}

}  // namespace memsoak::testing
