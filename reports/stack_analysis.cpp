// From stack artifacts to leak suspects (see stack_analysis.h).
#include "reports/stack_analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "harness/stack_sampling.h"
#include "reports/statistics.h"

namespace memsoak::reports {
namespace {

struct Site {
  std::vector<SymbolFrame> frames;
  std::uint64_t samples = 0;
};

// Sums in double: a parsed stack's bytes are bounded (stack_dump.h), their sums need not be.
struct Amount {
  double bytes = 0;
  double blocks_x256 = 0;
};

struct Epoch {
  std::uint64_t run_index = 0;
  std::uint64_t runs_in_process = 0;
  std::map<std::string, Amount> by_site;
};

struct RunTotals {
  double sum = 0;
  double sum_squares = 0;
  double bytes = 0;
  double blocks_x256 = 0;
};

// Everything one entry's artifacts say.
struct EntryStacks {
  std::map<std::string, Site> sites;           // by fingerprint
  std::map<pid_t, std::vector<Epoch>> epochs;  // per long-lived process, in order
  std::map<std::string, RunTotals> runs;       // one-run processes, after warm-up
  std::map<pid_t, std::uint64_t> dropped;      // per process, the latest count
  std::optional<std::uint64_t> mean_bytes;     // the latest after warm-up
  bool any = false;
};

std::vector<SymbolFrame> symbolize(const StackDump& dump, const DumpedStack& stack, Symbolizer& symbols) {
  std::vector<SymbolFrame> frames;
  for (const DumpedFrame& f : stack.frames) {
    if (f.module == kNoModule) {
      frames.push_back({fmt::format("0x{:x}", f.offset), "", 0, ""});
    } else {
      const std::vector<SymbolFrame>& resolved = symbols.resolve(dump.modules[f.module], f.offset);
      frames.insert(frames.end(), resolved.begin(), resolved.end());
    }
  }
  auto first_caller =
      std::find_if(frames.begin(), frames.end(), [](const SymbolFrame& f) { return !is_allocator_frame(f); });
  if (first_caller == frames.end() && !frames.empty()) first_caller = frames.end() - 1;
  frames.erase(frames.begin(), first_caller);
  return frames;
}

void read_entry_dumps(const harness::ArtifactInfo& artifact, std::uint64_t warmup, Symbolizer& symbols,
                      EntryStacks& entry) {
  const StackDump dump = parse_stack_dump(harness::read_artifact_payload(artifact), artifact.path.string());
  entry.any = true;
  entry.dropped[artifact.pid] = dump.dropped_samples;
  if (dump.run_index >= warmup) entry.mean_bytes = dump.mean_bytes;
  Epoch epoch{dump.run_index, dump.runs_in_process, {}};
  std::map<std::string, Amount> by_site;
  for (const DumpedStack& stack : dump.stacks) {
    std::vector<SymbolFrame> frames = symbolize(dump, stack, symbols);
    std::string fingerprint = stack_fingerprint(workload_frames(frames));
    Site& site = entry.sites[fingerprint];
    if (site.frames.empty()) site.frames = std::move(frames);
    site.samples = std::max(site.samples, stack.samples);
    Amount& a = by_site[fingerprint];
    a.bytes += static_cast<double>(stack.bytes);
    a.blocks_x256 += static_cast<double>(stack.blocks_x256);
  }
  if (dump.kind == StackDump::Kind::kEpoch) {
    epoch.by_site = std::move(by_site);
    entry.epochs[artifact.pid].push_back(std::move(epoch));
  } else if (dump.run_index >= warmup) {
    for (const auto& [fingerprint, a] : by_site) {
      RunTotals& t = entry.runs[fingerprint];
      const double v = a.bytes;
      t.sum += v;
      t.sum_squares += v * v;
      t.bytes += a.bytes;
      t.blocks_x256 += a.blocks_x256;
    }
  }
}

LeakSuspect suspect_of(const StrategyReport& s, const std::string& fingerprint, const Site& site,
                       std::string basis) {
  LeakSuspect l;
  l.strategy = s.strategy;
  l.allocator = s.allocator;
  l.fingerprint = fingerprint;
  l.basis = std::move(basis);
  l.frames = site.frames;
  l.samples = site.samples;
  return l;
}

// Long-lived processes: the epochs after warm-up of the process with the most of them.
// Returns whether the entry had enough epochs to be analysed.
bool suspects_from_epochs(const EntryStacks& entry, const StrategyReport& s, std::uint64_t warmup,
                          std::uint64_t epoch_runs, std::vector<LeakSuspect>& out) {
  const std::uint64_t mean_bytes = entry.mean_bytes.value_or(harness::kMaxStackSampleBytes);
  const std::vector<Epoch>* best = nullptr;
  std::vector<const Epoch*> regular;
  for (const auto& [pid, epochs] : entry.epochs) {
    std::vector<const Epoch*> r;
    for (const Epoch& e : epochs) {
      if (e.run_index >= warmup && e.runs_in_process % epoch_runs == 0) r.push_back(&e);
    }
    if (r.size() > regular.size()) {
      regular = std::move(r);
      best = &epochs;
    }
  }
  if (best == nullptr || regular.size() < 4) return false;
  // Processes alive at the same time as the chosen one (an external worker's tree: the shell that
  // started it, helpers it keeps) wrote epochs at the same run boundaries: their bytes add up.
  // Processes of other lifetimes (recycled workers before or after it) do not.
  std::vector<Epoch> summed(best->begin(), best->end());
  std::size_t others = 0;
  for (const auto& [pid, epochs] : entry.epochs) {
    if (&epochs == best || epochs.back().run_index < best->front().run_index ||
        epochs.front().run_index > best->back().run_index)
      continue;
    ++others;
    // Each process writes at the answers it saw: add the other's latest epoch at or before mine.
    std::size_t at = 0;
    for (Epoch& mine : summed) {
      while (at + 1 < epochs.size() && epochs[at + 1].run_index <= mine.run_index) ++at;
      if (epochs[at].run_index > mine.run_index) continue;
      for (const auto& [site, a] : epochs[at].by_site) {
        mine.by_site[site].bytes += a.bytes;
        mine.by_site[site].blocks_x256 += a.blocks_x256;
      }
    }
  }
  if (others > 0) {
    regular.clear();
    for (const Epoch& e : summed) {
      if (e.run_index >= warmup && e.runs_in_process % epoch_runs == 0) regular.push_back(&e);
    }
  }
  const Epoch& last = summed.back();
  // Only one lifetime (in-process, one worker): its last third must still grow.
  const bool one_process = std::all_of(entry.epochs.begin(), entry.epochs.end(), [&](const auto& pid_epochs) {
    const std::vector<Epoch>& epochs = pid_epochs.second;
    return &epochs == best || !(epochs.back().run_index < best->front().run_index ||
                                epochs.front().run_index > best->back().run_index);
  });
  for (const auto& [fingerprint, site] : entry.sites) {
    std::vector<double> y;
    for (const Epoch* e : regular) {
      auto it = e->by_site.find(fingerprint);
      y.push_back(it == e->by_site.end() ? 0.0 : it->second.bytes);
    }
    if (y.back() <= 0) continue;
    const TrendEstimate trend = theil_sen(y);
    const std::span<const double> tail(y.data() + y.size() - std::max<std::size_t>(3, y.size() / 3),
                                       std::max<std::size_t>(3, y.size() / 3));
    const TrendEstimate tail_trend = theil_sen(tail);
    // Growing over the whole series and still, significantly, over its last third: a cache that
    // filled early and then only churns is not a suspect. The epochs' estimates are correlated
    // (a sampled block stays in every epoch while it lives), so the last third's growth must also
    // stand out from the sampling noise of the estimate itself, about sqrt(mean x live bytes).
    const double tail_growth = tail_trend.slope * static_cast<double>(tail.size() - 1);
    // The estimate's own spread at one epoch is about sqrt(mean x live); a change between two
    // epochs, twice that variance. A site must move 3 such standard deviations.
    const double noise = std::sqrt(2.0 * static_cast<double>(mean_bytes) * std::max(0.0, y.back()));
    // A recycled worker lives too few epochs for a last third of its own: its whole growth must
    // stand out from the noise instead (the worker is replaced anyway; nothing plateaus there).
    const bool grows = one_process ? tail_trend.ci_low > 0 && tail_trend.slope >= 0.5 * trend.slope &&
                                         tail_growth >= 3 * noise
                                   : trend.slope * static_cast<double>(y.size() - 1) >= 3 * noise;
    if (trend.slope <= 0 || trend.ci_low <= 0 || !grows) continue;
    LeakSuspect l = suspect_of(s, fingerprint, site, "epochs");
    const auto k = static_cast<double>(epoch_runs);
    l.growth_bytes_per_run = trend.slope / k;
    l.growth_interval = {trend.ci_low / k, trend.ci_high / k};
    auto at_end = last.by_site.find(fingerprint);
    if (at_end != last.by_site.end()) {
      l.live_bytes_end = static_cast<std::int64_t>(at_end->second.bytes);
      l.allocations = at_end->second.blocks_x256 / 256.0;
    }
    out.push_back(std::move(l));
  }
  return true;
}

// One-run processes: what each analysed run left live, averaged over the analysed runs (a run
// without an artifact left nothing).
void suspects_from_runs(const EntryStacks& entry, const StrategyReport& s, std::vector<LeakSuspect>& out) {
  const auto n = static_cast<double>(s.analysed_runs);
  if (s.analysed_runs < 2) return;
  for (const auto& [fingerprint, t] : entry.runs) {
    const double mean = t.sum / n;
    const double variance = std::max(0.0, (t.sum_squares - n * mean * mean) / (n - 1));
    const double half = 1.959964 * std::sqrt(variance / n);
    if (mean - half <= 0) continue;
    LeakSuspect l = suspect_of(s, fingerprint, entry.sites.at(fingerprint), "runs");
    l.growth_bytes_per_run = mean;
    l.growth_interval = {mean - half, mean + half};
    l.live_bytes_end = static_cast<std::int64_t>(t.bytes);
    l.allocations = t.blocks_x256 / 256.0 / n;
    out.push_back(std::move(l));
  }
}

}  // namespace

void analyse_stacks(const harness::RunManifest& manifest, const harness::ArtifactListing& artifacts,
                    Report& report) {
  MemsoakStackPlan plan{};
  if (!harness::stack_plan_for(manifest.config, plan)) return;
  Symbolizer symbols;
  std::vector<EntryStacks> entries(report.strategies.size());
  for (const harness::ArtifactInfo& a : artifacts.complete) {
    if ((a.kind == "stacks" || a.kind == "runleak") && a.entry_index < entries.size()) {
      read_entry_dumps(a, report.strategies[a.entry_index].warmup_runs, symbols, entries[a.entry_index]);
    }
  }
  // Long-lived processes first: their suspects are the sites whose memory accumulates.
  std::vector<std::vector<LeakSuspect>> found(entries.size());
  bool long_lived_analysed = false;
  std::set<std::string> accumulating;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].any) continue;
    if (suspects_from_epochs(entries[i], report.strategies[i], report.strategies[i].warmup_runs,
                             plan.epoch_runs, found[i]))
      long_lived_analysed = true;
    for (const LeakSuspect& l : found[i]) accumulating.insert(l.fingerprint);
  }
  // A one-run process cannot tell a leak from a cache that fills in every fresh process: when the
  // soak also had a long-lived strategy, its sites are suspects only where memory accumulates there.
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].any) continue;
    std::vector<LeakSuspect> runs;
    suspects_from_runs(entries[i], report.strategies[i], runs);
    for (LeakSuspect& l : runs) {
      if (!long_lived_analysed || accumulating.contains(l.fingerprint)) found[i].push_back(std::move(l));
    }
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const EntryStacks& entry = entries[i];
    StrategyReport& s = report.strategies[i];
    if (!entry.any) continue;
    report.stacks_sampled = true;
    s.stack_sample_mean_bytes = entry.mean_bytes;
    // A forked child starts from its parent's count: the largest is a lower bound of the total.
    for (const auto& [pid, dropped] : entry.dropped)
      s.stack_samples_dropped = std::max(s.stack_samples_dropped, dropped);
    std::sort(found[i].begin(), found[i].end(), [](const LeakSuspect& a, const LeakSuspect& b) {
      return a.growth_bytes_per_run > b.growth_bytes_per_run;
    });
    if (found[i].size() > kMaxSuspectsPerStrategy) found[i].resize(kMaxSuspectsPerStrategy);
    for (LeakSuspect& l : found[i]) report.leak_suspects.push_back(std::move(l));
  }
}

}  // namespace memsoak::reports
