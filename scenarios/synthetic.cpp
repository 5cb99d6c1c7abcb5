// The synthetic workload (see synthetic.h).
#include "scenarios/synthetic.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "harness/errors.h"
#include "harness/splitmix64.h"
#include "harness/units.h"

namespace memsoak::scenarios {
namespace {

using harness::SplitMix64;

void fill(char* data, std::size_t size, SplitMix64& rng) {
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = rng.next();
    std::memcpy(data + i, &word, std::min<std::size_t>(8, size - i));
  }
}

// Keeps the last dropped block's address where the optimizer can't prove it unused: the block is
// still unreachable once the next run overwrites it.
void* volatile g_last_dropped = nullptr;

class SyntheticWorkload final : public harness::Workload {
 public:
  SyntheticWorkload(SyntheticLeak leak, std::uint64_t seed) : leak_(leak), seed_(seed) {}

  void setup() override {}

  std::uint64_t run(std::uint64_t run_index) override {
    SplitMix64 rng(seed_ ^ (run_index * 0xd1b54a32d192ed03ull));
    std::uint64_t digest = mixed_allocations(rng);
    leak(run_index, rng);
    return digest;
  }

 private:
  // A request's worth of work: many small strings, a few medium buffers and one large block
  // (above glibc's default 128 KiB mmap threshold), all freed before the run returns.
  static std::uint64_t mixed_allocations(SplitMix64& rng) {
    std::vector<std::string> small(200 + rng.below(100));
    for (auto& text : small) {
      text.resize(16 + rng.below(497));
      fill(text.data(), text.size(), rng);
    }
    std::vector<std::vector<char>> medium(2 + rng.below(4));
    for (auto& buffer : medium) {
      buffer.resize(4096 + rng.below(60ull * 1024));
      fill(buffer.data(), buffer.size(), rng);
    }
    std::vector<char> large(256ull * 1024 + rng.below(768ull * 1024));
    fill(large.data(), large.size(), rng);

    std::uint64_t digest = harness::fnv1a64(large.data(), large.size());
    for (const auto& buffer : medium) digest = harness::fnv1a64(buffer.data(), buffer.size(), digest);
    for (const auto& text : small) digest = harness::fnv1a64(text.data(), text.size(), digest);
    return digest;
  }

  void leak(std::uint64_t run_index, SplitMix64& rng) {
    switch (leak_.kind) {
      case SyntheticLeak::Kind::kNone:
        return;
      case SyntheticLeak::Kind::kDropped: {
        char* lost = new char[leak_.size_bytes];
        fill(lost, leak_.size_bytes, rng);  // touched, so it is resident, not just reserved
        g_last_dropped = lost;
        return;
      }
      case SyntheticLeak::Kind::kCache: {
        std::string& entry = cache_[run_index];
        entry.resize(leak_.size_bytes);
        fill(entry.data(), entry.size(), rng);
        return;
      }
      case SyntheticLeak::Kind::kBounded:
        remember_bounded(run_index, rng);
        return;
      case SyntheticLeak::Kind::kCrash:
      case SyntheticLeak::Kind::kHang:
      case SyntheticLeak::Kind::kHog:
        if (run_index == leak_.count) inject_fault();
        return;
    }
  }

  void inject_fault() {
    if (leak_.kind == SyntheticLeak::Kind::kCrash) std::raise(SIGSEGV);
    if (leak_.kind == SyntheticLeak::Kind::kHang) std::this_thread::sleep_for(std::chrono::hours(1));
    if (leak_.kind == SyntheticLeak::Kind::kHog) {
      std::vector<char> hog(std::size_t{1} << 30, 1);
      g_last_dropped = hog.data();
    }
  }

  void remember_bounded(std::uint64_t run_index, SplitMix64& rng) {
    lru_.emplace_front(run_index, std::string(leak_.size_bytes, '\0'));
    fill(lru_.front().second.data(), leak_.size_bytes, rng);
    lru_index_[run_index] = lru_.begin();
    if (lru_.size() > leak_.count) {
      lru_index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

  SyntheticLeak leak_;
  std::uint64_t seed_;
  std::unordered_map<std::uint64_t, std::string> cache_;
  std::list<std::pair<std::uint64_t, std::string>> lru_;
  std::unordered_map<std::uint64_t, std::list<std::pair<std::uint64_t, std::string>>::iterator> lru_index_;
};

[[noreturn]] void bad_leak(std::string_view text, std::string_view why) {
  throw InputError(fmt::format("--leak '{}': {}", text, why));
}

}  // namespace

SyntheticLeak parse_synthetic_leak(std::string_view text) {
  constexpr std::string_view kKnown =
      "known for synthetic: none, dropped:SIZE, cache:SIZE, bounded:COUNTxSIZE, crash:K, hang:K, hog:K";
  if (text == "none") return {};
  for (auto [name, kind] :
       {std::pair{"crash:", SyntheticLeak::Kind::kCrash}, std::pair{"hang:", SyntheticLeak::Kind::kHang},
        std::pair{"hog:", SyntheticLeak::Kind::kHog}}) {
    if (text.starts_with(name)) {
      SyntheticLeak fault;
      fault.kind = kind;
      fault.count = harness::parse_count(text.substr(std::string_view(name).size()),
                                         fmt::format("--leak '{}': run", text));
      return fault;
    }
  }
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) bad_leak(text, fmt::format("unknown leak mode ({})", kKnown));
  std::string_view kind = text.substr(0, colon);
  std::string_view arg = text.substr(colon + 1);
  SyntheticLeak leak;
  if (kind == "dropped" || kind == "cache") {
    leak.kind = kind == "dropped" ? SyntheticLeak::Kind::kDropped : SyntheticLeak::Kind::kCache;
    leak.size_bytes = harness::parse_size(arg, fmt::format("--leak '{}': size", text));
  } else if (kind == "bounded") {
    std::size_t x = arg.find('x');
    if (x == std::string_view::npos) bad_leak(text, "expected bounded:COUNTxSIZE, e.g. bounded:100x4096");
    leak.kind = SyntheticLeak::Kind::kBounded;
    leak.count = harness::parse_count(arg.substr(0, x), fmt::format("--leak '{}': count", text));
    leak.size_bytes = harness::parse_size(arg.substr(x + 1), fmt::format("--leak '{}': size", text));
    if (leak.count == 0) bad_leak(text, "count must be at least 1");
  } else {
    bad_leak(text, fmt::format("unknown leak mode ({})", kKnown));
  }
  if (leak.size_bytes == 0) bad_leak(text, "size must be at least 1 byte");
  if (leak.size_bytes > (1ull << 30)) bad_leak(text, "size above 1 GiB per run");
  return leak;
}

harness::WorkloadFactory make_synthetic_workload(SyntheticLeak leak, std::uint64_t seed) {
  return [leak, seed] { return std::make_unique<SyntheticWorkload>(leak, seed); };
}

}  // namespace memsoak::scenarios
