// samples.csv: every run record of samples.bin as one CSV row (RFC 4180, header row first), for
// spreadsheets and pandas. Columns are documented in docs/run-directory.md.
//
// The report model holds no records, so this writer reads samples.bin and run.json back through
// their owners' readers: records a batch at a time, each batch's rows formatted into a buffer and
// written, so a soak of 600k runs needs neither its records nor their text in memory at once.
#include "reports/samples_csv.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "harness/allocators.h"
#include "harness/json_file.h"
#include "harness/run_manifest.h"
#include "harness/sample_file.h"
#include "reports/writer.h"

namespace memsoak::reports {
namespace {
using harness::RunRecord;

// Records read, and rows written, at a time: 1.4 MB of records, about 0.9 MB of text.
constexpr std::size_t kBatchRecords = 8192;

constexpr const char* kHeader =
    "strategy,allocator,entry,run_index,flags,digest,latency_ns,work_ns,setup_ns,worker_id,"
    "worker_peak_rss_bytes,harness_rss_bytes,footprint_pss_bytes,rss_bytes,anon_rss_bytes,heap_live_bytes,"
    "heap_live_blocks,pss_bytes,uss_bytes,open_fds,threads,minor_faults,major_faults,cpu_user_ns,"
    "cpu_system_ns\n";

// A cell quoted only when it must be (a comma, a quote or a line break in it).
std::string csv_cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string cell = "\"";
  for (char c : text) {
    if (c == '"') cell += '"';
    cell += c;
  }
  return cell + '"';
}

// Rows are built from these appends rather than fmt::format_to, which parses its format string
// at run time for every cell.
void append_text(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

template <typename Integer>
void append_integer(fmt::memory_buffer& out, Integer value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.data() + text.size());
}

// "failed warmup": the flag bits as words; a bit this memsoak does not know as "bit<N>".
void append_flags(fmt::memory_buffer& out, std::uint32_t flags) {
  bool first = true;
  for (std::uint32_t bit = 0; flags != 0 && bit < 32; ++bit) {
    const std::uint32_t mask = 1u << bit;
    if ((flags & mask) == 0) continue;
    if (!first) out.push_back(' ');
    first = false;
    if (mask == harness::kRunFailed) {
      append_text(out, "failed");
    } else if (mask == harness::kRunWarmup) {
      append_text(out, "warmup");
    } else {
      append_text(out, "bit");
      append_integer(out, bit);
    }
  }
}

void append_hex16(fmt::memory_buffer& out, std::uint64_t value) {
  char digits[16];
  for (int i = 15; i >= 0; --i, value >>= 4) digits[i] = "0123456789abcdef"[value & 0xF];
  out.append(digits, digits + 16);
}

// ",value", or "," alone for a value that was not measured.
void append_measured(fmt::memory_buffer& out, std::int64_t value) {
  out.push_back(',');
  if (value != harness::kNotMeasured) append_integer(out, value);
}

void append_row(fmt::memory_buffer& out, const std::string& names, const RunRecord& r) {
  append_text(out, names);
  out.push_back(',');
  append_integer(out, r.strategy_index);
  out.push_back(',');
  append_integer(out, r.run_index);
  out.push_back(',');
  append_flags(out, r.flags);
  out.push_back(',');
  append_hex16(out, r.digest);
  for (std::int64_t v : {r.latency_ns, r.work_ns, r.setup_ns}) append_measured(out, v);
  out.push_back(',');
  append_integer(out, r.worker_id);
  const harness::ProcessSample& w = r.worker;
  for (std::int64_t v :
       {r.worker_peak_rss_bytes, r.harness_rss_bytes, r.footprint_pss_bytes, w.rss_bytes, w.anon_rss_bytes,
        w.heap_live_bytes, w.heap_live_blocks, w.pss_bytes, w.uss_bytes, w.open_fds, w.threads,
        w.minor_faults, w.major_faults, w.cpu_user_ns, w.cpu_system_ns})
    append_measured(out, v);
  out.push_back('\n');
}

class SamplesCsvWriter final : public ReportWriter {
 public:
  std::string_view name() const override { return "samples.csv"; }
  void write(const Report&, const WriterTarget& target) const override { write_samples_csv(target.run_dir); }
};

}  // namespace

void write_samples_csv(const std::filesystem::path& run_dir) {
  // A report built from a model alone (tests) has no records to list.
  if (!std::filesystem::exists(run_dir / "samples.bin")) return;
  const harness::RunManifest manifest = harness::RunManifest::read(run_dir);
  std::vector<std::string> names;  // "strategy,allocator" of each entry
  for (const harness::ManifestEntry& e : manifest.entries) {
    names.push_back(csv_cell(e.strategy.name) + ',' + csv_cell(harness::allocator_name(e.allocator)));
  }
  harness::write_file_atomically(run_dir / "samples.csv", [&](std::ostream& file) {
    fmt::memory_buffer out;
    append_text(out, kHeader);
    harness::read_sample_file_in_batches(
        run_dir / "samples.bin", kBatchRecords, [&](std::span<const RunRecord> batch) {
          for (const RunRecord& r : batch) {
            if (r.strategy_index >= names.size()) {
              throw std::runtime_error(
                  fmt::format("samples.bin: a record names strategy {} but run.json lists {}",
                              r.strategy_index, names.size()));
            }
            append_row(out, names[r.strategy_index], r);
          }
          file.write(out.data(), static_cast<std::streamsize>(out.size()));
          out.clear();
        });
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
  });
}

}  // namespace memsoak::reports

namespace memsoak::reports {

std::unique_ptr<ReportWriter> make_samples_csv_writer() { return std::make_unique<SamplesCsvWriter>(); }

}  // namespace memsoak::reports
