// The reranker soak workload and its deliberate leak modes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "harness/workload.h"

namespace memsoak::scenarios::reranker {

// What each mode does to memory per run (the output digest is identical in every mode):
//   none            model loaded once in setup(); nothing retained between runs.
//   model-registry  model loaded per run and kept in a process-wide registry: reachable growth
//                   of about the model's size per run.
//   tokenizer-memo  token ids memoized in an unbounded map keyed by text + run index, so every
//                   run adds entries: reachable growth (~docs_per_query+1 entries per run).
//   dropped-buffer  a score buffer allocated with new[] per run and never freed: unreachable
//                   growth of docs_per_query * 4 KiB per run.
//   bounded-cache   LRU of per-run result records (joined text, all scores, all encoded pairs;
//                   ~10 KiB each with 20 docs) keyed by run index, capped at 64 entries: grows
//                   for 64 runs then stays flat.
//   thread-churn    scoring runs on a new std::thread per run (joined). glibc gives the worker
//                   its own malloc arena and caches its stack; an exited thread's arena is
//                   reused by the next one, so expect a one-time RSS step, then flat.
//   fragmentation   each run allocates 1024 short-lived 1-2 KiB blocks and keeps 4 of them,
//                   spread through the batch: live heap grows ~6 KiB/run, and RSS stays about
//                   one batch (~1.5-2 MiB) above live heap because pinned blocks split the freed
//                   space so it is not returned to the OS.
enum class RerankerLeak {
  kNone,
  kModelRegistry,
  kTokenizerMemo,
  kDroppedBuffer,
  kBoundedCache,
  kThreadChurn,
  kFragmentation,
};

// Throws InputError naming an unknown mode and listing the valid ones.
RerankerLeak parse_reranker_leak(std::string_view mode);
std::string_view reranker_leak_name(RerankerLeak leak) noexcept;

struct RerankerWorkloadOptions {
  std::filesystem::path model_dir;  // config.json, vocab.txt, model.safetensors
  std::string leak_mode = "none";
  std::uint64_t seed = 1;           // selects the corpus; the digest depends on it and run index
  std::size_t docs_per_query = 20;  // >= 1
  std::size_t top_k = 5;            // >= 1
};

// Validates the options now (InputError for a bad leak mode or zero counts); the model itself is
// loaded in setup() (or per run for model-registry). run(i) reranks corpus query i % 64 and
// returns fnv1a64 of the top_k document texts joined by a blank line.
harness::WorkloadFactory make_reranker_workload(const RerankerWorkloadOptions& options);

// How model.safetensors is brought into memory ("read": owned anonymous buffers).
std::string_view load_method() noexcept;

}  // namespace memsoak::scenarios::reranker
