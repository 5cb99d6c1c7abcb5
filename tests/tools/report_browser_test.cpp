// report.html in a real browser: Debian's Chromium, headless, opens the page a soak wrote and
// must run its scripts without a console message (an error, or a Content-Security-Policy
// refusal), draw every chart with data, and keep outside strings as text. A screenshot of each
// page is left in the build directory (tests/report-screenshots/) for a person to look at.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tests/tools/run_memsoak.h"

namespace memsoak::testing {
namespace {
namespace fs = std::filesystem;

struct Page {
  std::string dom;      // the document after its scripts ran
  std::string console;  // what the page logged, one line per message
};

class ReportInBrowser : public MemsoakTest {
 protected:
  // Loads `html` in headless Chromium twice: once to dump the DOM with the page's console
  // messages, once for a screenshot named `shot`.
  Page open(const fs::path& html, const std::string& shot) const {
    const std::string chromium =
        "timeout 120 chromium --headless --no-sandbox --disable-gpu "
        "--no-first-run --enable-logging=stderr --v=0 --user-data-dir=" +
        shell_quote((work_ / "chromium-profile").string());
    const std::string url = shell_quote("file://" + fs::absolute(html).string());
    const fs::path dom_file = work_ / "dom.html", log_file = work_ / "chromium.log";
    int status = std::system((chromium + " --dump-dom " + url + " >" + shell_quote(dom_file.string()) +
                              " 2>" + shell_quote(log_file.string()))
                                 .c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "chromium failed (tools/setup.sh installs Debian's chromium):\n"
        << read_text(log_file);
    Page page;
    page.dom = read_text(dom_file);
    std::istringstream log(read_text(log_file));
    for (std::string line; std::getline(log, line);) {
      if (line.find(":CONSOLE") != std::string::npos) page.console += line + '\n';
    }
    fs::create_directories(MEMSOAK_SCREENSHOT_DIR);
    const fs::path png = fs::path(MEMSOAK_SCREENSHOT_DIR) / (shot + ".png");
    fs::remove(png);
    std::system((chromium + " --hide-scrollbars --window-size=1400,3000 --screenshot=" +
                 shell_quote(png.string()) + " " + url + " >/dev/null 2>&1")
                    .c_str());
    EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 10'000) << png;
    return page;
  }
};

int attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex(name + "=\"([0-9]+)\""))) return -1;
  return std::stoi(m[1]);
}

// The chart boxes the script made, with the points and lines it drew in each.
struct Chart {
  std::string id;
  int points = 0;
  int lines = 0;
  bool canvas = false;
};

std::vector<Chart> charts(const std::string& dom) {
  std::vector<Chart> found;
  const std::regex box(
      R"re(<div class="chart" id="(chart-[a-z]+)" data-points="([0-9]+)" data-lines="([0-9]+)">)re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), box); it != std::sregex_iterator(); ++it) {
    Chart c{(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]), false};
    const auto begin = static_cast<std::size_t>(it->position() + it->length());
    const std::size_t next = dom.find("<div class=\"chart\"", begin);
    c.canvas =
        dom.substr(begin, next == std::string::npos ? std::string::npos : next - begin).find("<canvas") !=
        std::string::npos;
    found.push_back(c);
  }
  return found;
}

TEST_F(ReportInBrowser, LeakingSoakDrawsEveryChartAndTheFlameGraph) {
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "dropped:4KiB", "--strategy",
               "in-process,fork,recycle:20", "--iterations", "200", "--out", "leak", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, (fs::path("leak") / "report.html").string() + "\n");
  Page page = open(work_ / "leak" / "report.html", "leaking-soak");
  EXPECT_EQ(page.console, "");
  const std::vector<Chart> drawn = charts(page.dom);
  EXPECT_EQ(attribute(page.dom, "data-charts-drawn"), static_cast<int>(drawn.size()));
  // RSS and live heap always; PSS and USS are sampled every few runs of each strategy.
  ASSERT_EQ(drawn.size(), 4u) << page.dom.substr(0, 2000);
  for (const Chart& c : drawn) {
    EXPECT_EQ(c.lines, 3) << c.id;
    EXPECT_GT(c.points, 30) << c.id;
    EXPECT_TRUE(c.canvas) << c.id;
  }
  EXPECT_EQ(attribute(page.dom, "data-flames-drawn"), 3);
  EXPECT_NE(page.dom.find("class=\"flame-cell own\""), std::string::npos);
  EXPECT_NE(page.dom.find("keeps memory"), std::string::npos);
}

TEST_F(ReportInBrowser, CrashingRunsAreListedWithTheirReason) {
  CommandResult r =
      memsoak({"run", "--workload", "synthetic", "--leak", "crash:20", "--strategy", "fork,recycle:10",
               "--iterations", "100", "--stack-sample", "off", "--out", "crash", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Page page = open(work_ / "crash" / "report.html", "crashing-soak");
  EXPECT_EQ(page.console, "");
  EXPECT_EQ(attribute(page.dom, "data-charts-drawn"), static_cast<int>(charts(page.dom).size()));
  EXPECT_GE(charts(page.dom).size(), 2u);
  const std::size_t table = page.dom.find("<table id=\"failures\">");
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(page.dom.find("signal", table), std::string::npos) << page.dom.substr(table, 1000);
  EXPECT_NE(page.dom.find("Allocation stacks were not sampled"), std::string::npos);
}

// memsoak compare's page: BASE and NEW of each shared entry on every chart.
TEST_F(ReportInBrowser, ComparePageDrawsBothSoaks) {
  for (const char* leak : {"none", "dropped:4KiB"}) {
    CommandResult r =
        memsoak({"run", "--workload", "synthetic", "--leak", leak, "--strategy", "in-process,fork",
                 "--iterations", "100", "--stack-sample", "off", "--out", leak, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult r = memsoak({"compare", "none", "dropped:4KiB", "--budget", "1KiB", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, (fs::path("dropped:4KiB") / "compare" / "compare.html").string() + "\n");
  Page page = open(work_ / "dropped:4KiB" / "compare" / "compare.html", "compare");
  EXPECT_EQ(page.console, "");
  const std::vector<Chart> drawn = charts(page.dom);
  ASSERT_GE(drawn.size(), 2u);
  for (const Chart& c : drawn) EXPECT_EQ(c.lines, 4) << c.id;  // two entries, BASE and NEW
  // in-process grew; fork's 90 analysed runs may not yet exclude 64 B/run (inconclusive fails a gate).
  EXPECT_NE(page.dom.find(" of 2 entries grew by more than 1.0 KiB/run"), std::string::npos);
}

// The worker's command is shown on the page; markup in it must stay text.
TEST_F(ReportInBrowser, MarkupInOutsideStringsStaysText) {
  const std::string command =
      "exec " + shell_quote(MEMSOAK_EXAMPLE_WORKER) +
      " # </script><script>document.title='owned'</script><img src=x onerror=alert(1)>&amp;";
  CommandResult r = memsoak({"run", "--exec", command, "--strategy", "in-process", "--iterations", "40",
                             "--out", "hostile", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Page page = open(work_ / "hostile" / "report.html", "hostile-strings");
  EXPECT_EQ(page.console, "");
  EXPECT_EQ(page.dom.find("<img"), std::string::npos);
  EXPECT_EQ(page.dom.find("<title>owned"), std::string::npos);  // the injected script did not run
  EXPECT_NE(page.dom.find("&lt;/script&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.dom.find("&amp;amp;"), std::string::npos);
  EXPECT_GE(attribute(page.dom, "data-charts-drawn"), 1);
}

}  // namespace
}  // namespace memsoak::testing
