// junit.xml: one test case per entry (strategy x allocator), for CI systems that show JUnit XML
// (GitLab, Jenkins, Azure DevOps, GitHub test-report actions). Which cases fail is documented in
// docs/run-directory.md: a case fails exactly where the --budget gate fails, so the CI's test view
// and memsoak's exit code agree; a case with no successful run is an error, since nothing was
// measured to judge it by.
#include "reports/junit_xml.h"

#include <fmt/format.h>

#include <string>

#include "harness/units.h"
#include "reports/answer.h"
#include "reports/budget_gate.h"
#include "reports/utf8.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {

enum class Outcome { kPassed, kFailed, kError, kSkipped };

struct Case {
  const StrategyReport* strategy = nullptr;
  Outcome outcome = Outcome::kPassed;
  std::string type;     // of the failure, error or skip
  std::string message;  // why
};

Case judge(const Report& report, const StrategyReport& s) {
  Case c;
  c.strategy = &s;
  const bool nothing_measured = s.runs == s.failed_runs;
  if (report.budget_bytes_per_run) {
    if (auto why = budget_violation(s, *report.budget_bytes_per_run)) {
      c.outcome = nothing_measured ? Outcome::kError : Outcome::kFailed;
      c.type = nothing_measured ? "no-successful-runs" : "budget";
      c.message = *why;
      return c;
    }
  }
  if (!nothing_measured) return c;
  if (s.runs == 0 && report.interrupted_by_signal) {
    c.outcome = Outcome::kSkipped;
    c.message = fmt::format("not run: the soak was stopped by signal {}", *report.interrupted_by_signal);
  } else {
    c.outcome = Outcome::kError;
    c.type = "no-successful-runs";
    c.message =
        s.runs == 0 ? "no runs recorded" : fmt::format("all {} runs failed (reasons in run.log)", s.runs);
  }
  return c;
}

std::string growth_line(const char* what, const std::optional<SeriesGrowth>& g) {
  if (!g) return fmt::format("{} growth: not measured\n", what);
  return fmt::format("{} growth: {}/run, 95% interval [{}, {}]\n", what,
                     harness::format_signed_bytes(g->trend.slope), harness::format_bytes(g->trend.ci_low),
                     harness::format_bytes(g->trend.ci_high));
}

// The case's details, for <system-out> (and the body of a failure).
std::string details(const Report& report, const StrategyReport& s) {
  std::string text =
      fmt::format("verdict: {}: {}\n", verdict_name(s.classification.verdict), s.classification.reason);
  text += growth_line("heap", s.heap);
  text += growth_line("RSS", s.rss);
  const Verdict v = s.classification.verdict;
  if (report.budget_bytes_per_run && (v == Verdict::kLeak || v == Verdict::kRetention)) {
    text += fmt::format("gated growth: {}/run against a budget of {}/run\n",
                        harness::format_signed_bytes(gated_growth_bytes_per_run(s)),
                        harness::format_bytes(static_cast<double>(*report.budget_bytes_per_run)));
  }
  text += fmt::format("runs: {} ({} failed, {} analysed)\n", s.runs, s.failed_runs, s.analysed_runs);
  if (s.stopped) text += fmt::format("stopped early: {}\n", *s.stopped);
  if (s.ended_by) text += fmt::format("ended by: {} (--iterations auto)\n", *s.ended_by);
  if (auto unfinished = unfinished_entry(report, s)) text += fmt::format("did not finish: {}\n", *unfinished);
  return text;
}

std::string time_attribute(std::optional<double> seconds) {
  return seconds ? fmt::format(" time=\"{:.3f}\"", *seconds) : std::string();
}

// "memsoak.synthetic_--leak_dropped_4096": a class name of characters every consumer takes in
// one piece (some split on '.', some on ':').
std::string class_name(std::string_view scenario) {
  std::string name = "memsoak.";
  bool gap = false;
  for (char c : scenario) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '=';
    if (!plain) {
      gap = true;
      continue;
    }
    if (gap && name.size() > 8) name += '_';
    gap = false;
    name += c;
    if (name.size() >= 100) break;
  }
  if (name.size() == 8) name += "soak";  // a scenario of no plain character at all
  return name;
}

}  // namespace

std::string xml_text(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const char32_t c = next_code_point(text, pos);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";  // also keeps "]]>" out of character data
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\'') {
      out += "&apos;";
    } else if (c == '\r') {
      out += "&#13;";  // a parser reads a raw CR as LF
    } else if (c == '\n' || c == '\t') {
      // A parser reads raw ones in an attribute as spaces.
      out += attribute ? (c == '\n' ? "&#10;" : "&#9;") : (c == '\n' ? "\n" : "\t");
    } else if (c >= 0x20 && c != 0xFFFE && c != 0xFFFF) {
      append_utf8(out, c);  // the rest, other controls, XML 1.0 forbids even as references
    }
  }
  return out;
}

std::string junit_xml(const Report& report) {
  std::vector<Case> cases;
  std::size_t failures = 0, errors = 0, skipped = 0;
  std::optional<double> total_seconds;  // of the entries whose time is known
  for (const StrategyReport& s : report.strategies) {
    cases.push_back(judge(report, s));
    failures += cases.back().outcome == Outcome::kFailed ? 1u : 0u;
    errors += cases.back().outcome == Outcome::kError ? 1u : 0u;
    skipped += cases.back().outcome == Outcome::kSkipped ? 1u : 0u;
    if (s.elapsed_seconds) total_seconds = total_seconds.value_or(0) + *s.elapsed_seconds;
  }
  const std::string counts = fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
                                         cases.size(), failures, errors, skipped);
  const std::string times = time_attribute(total_seconds);
  const std::string classname = xml_text(class_name(report.scenario));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"memsoak\" {}{}>\n", counts, times);
  out += fmt::format("  <testsuite name=\"{}\" {}{}>\n", xml_text(report.scenario), counts, times);
  out += "    <properties>\n";
  out += fmt::format("      <property name=\"workload\" value=\"{}\"/>\n", xml_text(report.workload));
  out += fmt::format("      <property name=\"leak\" value=\"{}\"/>\n", xml_text(report.leak));
  if (report.budget_bytes_per_run)
    out += fmt::format("      <property name=\"budget_bytes_per_run\" value=\"{}\"/>\n",
                       *report.budget_bytes_per_run);
  if (report.interrupted_by_signal)
    out += fmt::format("      <property name=\"interrupted_by_signal\" value=\"{}\"/>\n",
                       *report.interrupted_by_signal);
  out += "    </properties>\n";
  for (const Case& c : cases) {
    const StrategyReport& s = *c.strategy;
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}/{}\"{}>\n", classname, xml_text(s.strategy),
                       xml_text(s.allocator), time_attribute(s.elapsed_seconds));
    const std::string text = xml_text(details(report, s), false);
    if (c.outcome == Outcome::kFailed || c.outcome == Outcome::kError) {
      out +=
          fmt::format("      <{0} message=\"{1}\" type=\"{2}\">{3}</{0}>\n",
                      c.outcome == Outcome::kFailed ? "failure" : "error", xml_text(c.message), c.type, text);
    } else if (c.outcome == Outcome::kSkipped) {
      out += fmt::format("      <skipped message=\"{}\"/>\n", xml_text(c.message));
    }
    out += fmt::format("      <system-out>{}</system-out>\n", text);
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::unique_ptr<ReportWriter> make_junit_xml_writer() {
  return make_text_file_writer("junit.xml", junit_xml);
}

}  // namespace memsoak::reports
