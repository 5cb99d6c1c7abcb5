// Stack sampling over a soak: configuration, the data-chosen sampling mean, and the artifacts
// written at run boundaries (epochs of live bytes per stack; per-run leaks of one-run processes).
//
// Called from the harness (harness/stack_sampling.h resolves these C functions through weak
// references), at run boundaries, never from a hook. The artifact payload is documented in
// docs/run-directory.md ("stacks" and "runleak" artifacts).
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "harness/artifacts.h"
#include "harness/stack_sampling.h"
#include "harness/tracker/internal/build_id_note.h"
#include "harness/tracker/internal/stacks.h"

extern "C" int memsoak_heap_counters(std::int64_t* live_bytes, std::int64_t* live_blocks) noexcept;

namespace memsoak::harness::internal::stacks {
namespace {

using Plan = MemsoakStackPlan;

constexpr std::uint64_t kMaxMean = 512 * 1024;
// The automatic mean aims at this many samples of a leak of the warm-up's growth rate over the
// analysed runs; below kEveryBelow bytes, every allocation is recorded.
constexpr double kTargetSamples = 1000;
constexpr std::uint64_t kEveryBelow = 64;
// Runs of exact growth the automatic mean needs (fewer when the warm-up is shorter).
constexpr std::uint64_t kMinRunsForMean = 10;
constexpr std::uint64_t kRunsToBelieveNoGrowth = 160;

using SharedState = MemsoakStackState;  // harness/stack_sampling.h

Plan g_plan{};
bool g_configured = false;
SharedState* g_shared = nullptr;
bool g_one_run = false;
bool g_mean_chosen = false;
std::uint64_t g_runs_in_process = 0;
std::int64_t g_heap_at_begin = 0;
pid_t g_pid = 0;

std::int64_t heap_live() noexcept {
  std::int64_t bytes = 0;
  std::int64_t blocks = 0;
  memsoak_heap_counters(&bytes, &blocks);
  return bytes;
}

std::uint64_t choose_mean() noexcept {
  std::uint64_t previous = g_shared->chosen_mean_plus_one.load(std::memory_order_acquire);
  if (previous != 0) return previous - 1;
  const std::uint64_t runs = g_shared->warmup_runs.load(std::memory_order_relaxed);
  const std::int64_t growth = g_shared->warmup_growth.load(std::memory_order_relaxed);
  std::uint64_t mean = kMaxMean;
  if (runs > 0 && growth > 0) {
    const double per_run = static_cast<double>(growth) / static_cast<double>(runs);
    const double analysed = static_cast<double>(g_plan.iterations - g_plan.warmup);
    // Also large enough that the live heap's samples fill at most a quarter of the pointer table.
    const double wanted = std::max(per_run * analysed / kTargetSamples,
                                   static_cast<double>(heap_live()) / (kPointerSlots / 4.0));
    mean = wanted < static_cast<double>(kEveryBelow) ? 0
           : wanted > static_cast<double>(kMaxMean)  ? kMaxMean
                                                     : static_cast<std::uint64_t>(wanted);
  }
  if (!g_shared->chosen_mean_plus_one.compare_exchange_strong(previous, mean + 1)) mean = previous - 1;
  return mean;
}

// ---- dumping -----------------------------------------------------------------------------

struct Module {
  std::uintptr_t bias;
  std::uintptr_t low;
  std::uintptr_t high;
  const char* path;
  const unsigned char* build_id;
  std::uint32_t build_id_bytes;
  std::uint32_t written_index;  // index in the artifact's module table, or kNoStack if unused
};

constexpr int kMaxModules = 512;
Module g_modules[kMaxModules];
int g_module_count = 0;
char g_exe_path[4096];

int add_module(dl_phdr_info* info, std::size_t, void*) {
  if (g_module_count >= kMaxModules) return 1;
  Module m{info->dlpi_addr, ~std::uintptr_t{0}, 0, info->dlpi_name, nullptr, 0, kNoStack};
  if (m.path == nullptr || m.path[0] == '\0') m.path = g_exe_path;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type == PT_LOAD) {
      std::uintptr_t lo = info->dlpi_addr + phdr.p_vaddr;
      if (lo < m.low) m.low = lo;
      if (lo + phdr.p_memsz > m.high) m.high = lo + phdr.p_memsz;
    } else if (phdr.p_type == PT_NOTE && m.build_id == nullptr) {
      const BuildIdNote note = find_build_id_note(info, phdr);
      m.build_id = note.bytes;
      m.build_id_bytes = note.size;
    }
  }
  if (m.high > m.low) g_modules[g_module_count++] = m;
  return 0;
}

Module* module_of(void* frame) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(frame);
  for (int i = 0; i < g_module_count; ++i) {
    if (a >= g_modules[i].low && a < g_modules[i].high) return &g_modules[i];
  }
  return nullptr;
}

// Buffered output to one artifact.
class Output {
 public:
  explicit Output(ArtifactWriter& writer) : writer_(writer) {}
  void put(const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
      if (used_ == sizeof buffer_) flush();
      std::size_t n = size < sizeof buffer_ - used_ ? size : sizeof buffer_ - used_;
      std::memcpy(buffer_ + used_, p, n);
      used_ += n;
      p += n;
      size -= n;
    }
  }
  template <typename T>
  void put_value(T value) noexcept {
    put(&value, sizeof value);
  }
  bool flush() noexcept {
    ok_ = ok_ && (used_ == 0 || writer_.append(buffer_, used_));
    used_ = 0;
    return ok_;
  }

 private:
  ArtifactWriter& writer_;
  static inline char buffer_[64 * 1024];
  std::size_t used_ = 0;
  bool ok_ = true;
};

enum class DumpKind : std::uint32_t { kEpoch = 1, kRun = 2 };

std::int64_t value_of(const StackRecord& r, DumpKind kind) noexcept {
  return kind == DumpKind::kRun ? r.run_bytes.load(std::memory_order_relaxed)
                                : r.live_bytes.load(std::memory_order_relaxed);
}

// One stack as a dump saw it: other threads keep allocating while it writes, so the stacks and
// their values are read once, then written from this snapshot.
struct Snapshot {
  std::uint32_t record;
  std::int64_t bytes;
  std::int64_t blocks_x256;
  std::uint64_t samples;
};
Snapshot g_snapshot[kStackCapacity];

void dump(DumpKind kind, std::uint64_t run_index) noexcept {
  Tables* t = tables();
  if (t == nullptr) return;
  std::uint32_t n = t->record_count.load(std::memory_order_acquire);
  if (n > kStackCapacity) n = kStackCapacity;
  std::uint32_t stack_count = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const StackRecord& r = t->records[i];
    if (r.state.load(std::memory_order_acquire) != 1) continue;
    const std::int64_t bytes = value_of(r, kind);
    if (bytes <= 0) continue;
    g_snapshot[stack_count++] = {i, bytes,
                                 kind == DumpKind::kRun ? r.run_blocks_x256.load(std::memory_order_relaxed)
                                                        : r.live_blocks_x256.load(std::memory_order_relaxed),
                                 r.samples.load(std::memory_order_relaxed)};
  }
  if (stack_count == 0 && kind == DumpKind::kRun) return;  // nothing leaked: no file

  ssize_t len = readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
  g_exe_path[len > 0 ? len : 0] = '\0';
  g_module_count = 0;
  dl_iterate_phdr(add_module, nullptr);
  std::uint32_t module_count = 0;
  for (std::uint32_t k = 0; k < stack_count; ++k) {
    const StackRecord& r = t->records[g_snapshot[k].record];  // a published record's frames never change
    for (std::uint32_t f = 0; f < r.depth; ++f) {
      Module* m = module_of(r.frames[f]);
      if (m != nullptr && m->written_index == kNoStack) m->written_index = module_count++;
    }
  }

  ArtifactWriter writer;
  if (!writer.open(kind == DumpKind::kRun ? "runleak" : "stacks")) return;
  Output out(writer);
  out.put_value<std::uint32_t>(1);  // payload format
  out.put_value(static_cast<std::uint32_t>(kind));
  out.put_value(run_index);
  out.put_value(g_runs_in_process);
  out.put_value(sampling_mean());
  out.put_value(t->dropped.load(std::memory_order_relaxed));
  out.put_value(heap_live());
  out.put_value(module_count);
  out.put_value(stack_count);
  for (std::uint32_t w = 0; w < module_count; ++w) {
    for (int i = 0; i < g_module_count; ++i) {
      const Module& m = g_modules[i];
      if (m.written_index != w) continue;
      std::size_t path_bytes = std::strlen(m.path);
      if (path_bytes > 4095) path_bytes = 4095;
      out.put_value(static_cast<std::uint16_t>(path_bytes));
      out.put_value(static_cast<std::uint16_t>(m.build_id_bytes > 255 ? 0 : m.build_id_bytes));
      out.put(m.path, path_bytes);
      if (m.build_id_bytes <= 255) out.put(m.build_id, m.build_id_bytes);
    }
  }
  for (std::uint32_t k = 0; k < stack_count; ++k) {
    const Snapshot& snap = g_snapshot[k];
    const StackRecord& r = t->records[snap.record];
    out.put_value(snap.bytes);
    out.put_value(snap.blocks_x256 < 0 ? 0 : snap.blocks_x256);
    out.put_value(snap.samples);
    out.put_value(r.depth);
    out.put_value<std::uint32_t>(0);
    for (std::uint32_t f = 0; f < r.depth; ++f) {
      const Module* m = module_of(r.frames[f]);
      auto address = reinterpret_cast<std::uintptr_t>(r.frames[f]);
      out.put_value<std::uint32_t>(m == nullptr ? kNoStack : m->written_index);
      out.put_value<std::uint32_t>(0);
      out.put_value<std::uint64_t>(m == nullptr ? address : address - m->bias);
    }
  }
  if (out.flush()) writer.commit();
}

}  // namespace
}  // namespace memsoak::harness::internal::stacks

using namespace memsoak::harness::internal::stacks;

// The state shared by every process of an entry: forked children inherit the mapping; spawned
// runs (fresh executables) find it through an inherited memfd named in the environment.
static SharedState* map_shared_state() noexcept {
  constexpr const char* kVariable = "MEMSOAK_STACK_STATE_FD";
  int fd = -1;
  if (const char* path = std::getenv("MEMSOAK_STACK_STATE")) {  // an external worker's: memsoak's memfd
    int opened = open(path, O_RDWR | O_CLOEXEC);
    struct stat st {};
    SharedState* mapped = nullptr;
    if (opened >= 0 && fstat(opened, &st) == 0 && st.st_size == static_cast<off_t>(sizeof(SharedState))) {
      void* p = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED, opened, 0);
      if (p != MAP_FAILED) mapped = static_cast<SharedState*>(p);
    }
    if (opened >= 0) close(opened);
    if (mapped != nullptr) return mapped;
  }
  if (const char* inherited = std::getenv(kVariable)) {
    char* end = nullptr;
    long n = std::strtol(inherited, &end, 10);
    struct stat st {};
    if (end != inherited && *end == '\0' && n >= 0 && n < 65536 && fstat(static_cast<int>(n), &st) == 0 &&
        st.st_size == static_cast<off_t>(sizeof(SharedState))) {
      fd = static_cast<int>(n);
    }
  }
  if (fd < 0) {
    fd = memfd_create("memsoak-stack-state", 0);  // inherited on purpose: no close-on-exec
    if (fd < 0 || ftruncate(fd, sizeof(SharedState)) != 0) return nullptr;
    char text[16];
    std::snprintf(text, sizeof text, "%d", fd);
    setenv(kVariable, text, 1);
  }
  void* p = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<SharedState*>(p);
}

extern "C" int memsoak_stacks_configure(const Plan* plan) noexcept {
  if (!configure_tables()) return -1;
  if (g_shared == nullptr) g_shared = map_shared_state();
  if (g_shared == nullptr) return -1;
  g_plan = *plan;
  g_pid = getpid();
  if (g_plan.epoch_runs == 0) g_plan.epoch_runs = 1;
  g_configured = true;
  g_mean_chosen = !plan->automatic;
  set_sampling(true, plan->automatic ? kMaxMean : plan->mean_bytes, plan->depth);
  return 0;
}

extern "C" void memsoak_stacks_run_begin(std::uint64_t run_index, int one_run) noexcept {
  if (!g_configured) return;
  // A forked process (a recycled worker, a child) must not repeat its parent's sampling decisions.
  if (const pid_t pid = getpid(); pid != g_pid) {
    g_pid = pid;
    reseed_thread();
  }
  g_one_run = one_run != 0;
  // After warm-up, once the entry has measured enough runs (an external worker's tracker may
  // start after the warm-up, and then measures its first runs instead), or another process of the
  // entry chose already.
  // An external worker's tracker reads the counters from its own thread, which sees another
  // thread's allocations only when that thread flushes them (every 64 calls or 256 KiB): growth
  // that reads 0 is only believed after kRunsToBelieveNoGrowth runs.
  const std::uint64_t measured = g_shared->warmup_runs.load(std::memory_order_relaxed);
  const bool grew = g_shared->warmup_growth.load(std::memory_order_relaxed) > 0;
  if (!g_mean_chosen && run_index >= g_plan.warmup &&
      ((measured >= std::min<std::uint64_t>(g_plan.warmup, kMinRunsForMean) &&
        (grew || measured >= kRunsToBelieveNoGrowth)) ||
       g_shared->chosen_mean_plus_one.load(std::memory_order_acquire) != 0)) {
    set_sampling(true, choose_mean(), g_plan.depth);
    g_mean_chosen = true;
  }
  if (g_one_run) begin_run_generation();
  g_heap_at_begin = heap_live();
}

extern "C" void memsoak_stacks_run_end(std::uint64_t run_index) noexcept {
  if (!g_configured) return;
  if (!g_mean_chosen) {  // the runs before this process had its mean: the warm-up's, as a rule
    g_shared->warmup_growth.fetch_add(heap_live() - g_heap_at_begin, std::memory_order_relaxed);
    g_shared->warmup_runs.fetch_add(1, std::memory_order_relaxed);
  }
  ++g_runs_in_process;
  if (g_one_run) {
    dump(DumpKind::kRun, run_index);
  } else if (g_runs_in_process % g_plan.epoch_runs == 0 || run_index + 1 == g_plan.iterations) {
    dump(DumpKind::kEpoch, run_index);
  }
}
