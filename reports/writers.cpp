// The registry of report writers (see writer.h): adding a writer is its file, plus a declaration
// of its factory and its line here.
#include <fmt/format.h>

#include <stdexcept>
#include <vector>

#include "harness/errors.h"
#include "harness/json_file.h"
#include "reports/writer.h"

namespace memsoak::reports {

std::unique_ptr<ReportWriter> make_report_json_writer();
std::unique_ptr<ReportWriter> make_console_summary_writer();
std::unique_ptr<ReportWriter> make_folded_stacks_writer();
std::unique_ptr<ReportWriter> make_report_html_writer();
std::unique_ptr<ReportWriter> make_summary_markdown_writer();
std::unique_ptr<ReportWriter> make_junit_xml_writer();
std::unique_ptr<ReportWriter> make_samples_csv_writer();

namespace {

class TextFileWriter final : public ReportWriter {
 public:
  TextFileWriter(std::string_view file_name, std::string (*render)(const Report&))
      : file_name_(file_name), render_(render) {}
  std::string_view name() const override { return file_name_; }
  void write(const Report& report, const WriterTarget& target) const override {
    harness::write_text_file(target.run_dir / file_name_, render_(report));
  }

 private:
  std::string file_name_;
  std::string (*render_)(const Report&);
};

}  // namespace

std::unique_ptr<ReportWriter> make_text_file_writer(std::string_view file_name,
                                                    std::string (*render)(const Report&)) {
  return std::make_unique<TextFileWriter>(file_name, render);
}

std::span<const std::unique_ptr<ReportWriter>> report_writers() {
  static const std::vector<std::unique_ptr<ReportWriter>> writers = [] {
    std::vector<std::unique_ptr<ReportWriter>> all;
    all.push_back(make_report_json_writer());
    all.push_back(make_folded_stacks_writer());
    all.push_back(make_report_html_writer());
    all.push_back(make_summary_markdown_writer());
    all.push_back(make_junit_xml_writer());
    all.push_back(make_samples_csv_writer());
    all.push_back(make_console_summary_writer());
    return all;
  }();
  return writers;
}

void write_reports(const Report& report, const WriterTarget& target) {
  for (const auto& writer : report_writers()) {
    try {
      writer->write(report, target);
    } catch (const InputError&) {
      throw;  // names the file and what is wrong with where it goes: one line as it is
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("writing the {}: {}", writer->name(), e.what()));
    }
  }
}

}  // namespace memsoak::reports
