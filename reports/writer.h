// The report writers: each turns the report model into one output. Registered in one place,
// reports/writers.cpp; `memsoak run` and `memsoak report` run them all in that order.
#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "reports/report_model.h"

namespace memsoak::reports {

// Where writers put their output.
struct WriterTarget {
  std::filesystem::path run_dir;    // files go here
  std::ostream* console = nullptr;  // the terminal summary; null with --quiet
};

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  // What it writes, for error messages: "report.json", "console summary".
  virtual std::string_view name() const = 0;
  // Writes atomically (a reader never sees half a file). Throws std::runtime_error on I/O failure.
  virtual void write(const Report& report, const WriterTarget& target) const = 0;
};

// A writer whose output is one text file in the run directory, `file_name`, made from the report
// by `render` and written atomically.
std::unique_ptr<ReportWriter> make_text_file_writer(std::string_view file_name,
                                                    std::string (*render)(const Report&));

// Every registered writer, in the order they run.
std::span<const std::unique_ptr<ReportWriter>> report_writers();

// Runs every writer. Throws std::runtime_error naming the writer that failed.
void write_reports(const Report& report, const WriterTarget& target);

}  // namespace memsoak::reports
