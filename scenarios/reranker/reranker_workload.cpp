// Reranker workload: one code path per leak mode around the same rerank-and-digest core.
#include "scenarios/reranker/reranker_workload.h"

#include <cblas.h>

#include <array>
#include <cstring>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "harness/errors.h"
#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/reranker.h"
#include "scenarios/reranker/safetensors.h"

namespace memsoak::scenarios::reranker {
namespace {

constexpr std::size_t kCorpusQueries = 64;
constexpr std::size_t kCacheCapacity = 64;
constexpr std::size_t kDroppedBytesPerDoc = 4096;
constexpr std::size_t kFragmentBlocks = 1024;
constexpr std::size_t kFragmentKeepEvery = 256;  // 4 pinned blocks per run

constexpr std::array<std::pair<std::string_view, RerankerLeak>, 7> kLeakNames{{
    {"none", RerankerLeak::kNone},
    {"model-registry", RerankerLeak::kModelRegistry},
    {"tokenizer-memo", RerankerLeak::kTokenizerMemo},
    {"dropped-buffer", RerankerLeak::kDroppedBuffer},
    {"bounded-cache", RerankerLeak::kBoundedCache},
    {"thread-churn", RerankerLeak::kThreadChurn},
    {"fragmentation", RerankerLeak::kFragmentation},
}};

// Every model loaded in model-registry mode stays here for the life of the process.
std::vector<std::shared_ptr<const Reranker>>& model_registry() {
  static std::vector<std::shared_ptr<const Reranker>> registry;
  return registry;
}
std::mutex g_registry_mutex;

// Holds only the latest dropped buffer, so earlier ones are unreachable (and the allocation
// cannot be optimized away as unused).
float* volatile g_last_dropped_buffer = nullptr;

class RerankerWorkload final : public harness::Workload {
 public:
  RerankerWorkload(RerankerWorkloadOptions options, RerankerLeak leak)
      : options_(std::move(options)), leak_(leak) {}

  void setup() override {
    openblas_set_num_threads(1);
    corpus_ = make_corpus(options_.seed, kCorpusQueries, options_.docs_per_query);
    if (leak_ != RerankerLeak::kModelRegistry) model_ = std::make_unique<Reranker>(options_.model_dir);
  }

  std::uint64_t run(std::uint64_t run_index) override {
    if (corpus_.queries.empty()) throw std::logic_error("reranker workload: run() before setup()");
    const auto& entry = corpus_.queries[run_index % corpus_.queries.size()];
    if (leak_ == RerankerLeak::kBoundedCache) {
      const auto cached = cache_lookup(run_index);
      return cached ? digest(*cached) : rank_and_cache(run_index, entry);
    }
    const auto ranked = rank(run_index, entry);
    const std::string joined = join_ranked(ranked, entry.docs);
    if (leak_ == RerankerLeak::kDroppedBuffer) drop_score_buffer(ranked, entry.docs.size());
    if (leak_ == RerankerLeak::kFragmentation) fragment_heap(run_index);
    return digest(joined);
  }

  void teardown() override { model_.reset(); }

 private:
  static std::uint64_t digest(const std::string& text) { return harness::fnv1a64(text.data(), text.size()); }

  std::vector<Ranked> rank(std::uint64_t run_index, const CorpusQuery& entry) {
    switch (leak_) {
      case RerankerLeak::kModelRegistry: {
        auto model = std::make_shared<const Reranker>(options_.model_dir);
        {
          std::lock_guard lock(g_registry_mutex);
          model_registry().push_back(model);
        }
        return model->rerank(entry.query, entry.docs, options_.top_k);
      }
      case RerankerLeak::kTokenizerMemo:
        return rank_with_memo(run_index, entry);
      case RerankerLeak::kThreadChurn:
        return rank_on_new_thread(entry);
      default:
        return model_->rerank(entry.query, entry.docs, options_.top_k);
    }
  }

  const std::vector<std::int32_t>& memo_encode(const std::string& text, std::uint64_t run_index) {
    std::string key = text;
    key += '\x1f';
    key += std::to_string(run_index);  // the run index in the key is the leak: no entry is reused
    auto it = memo_.find(key);
    if (it == memo_.end()) it = memo_.emplace(std::move(key), model_->tokenizer().encode(text)).first;
    return it->second;
  }

  std::vector<Ranked> rank_with_memo(std::uint64_t run_index, const CorpusQuery& entry) {
    const auto& query_ids = memo_encode(entry.query, run_index);
    std::vector<EncodedPair> pairs;
    for (const auto& doc : entry.docs) {
      pairs.push_back(
          model_->tokenizer().build_pair(query_ids, memo_encode(doc, run_index), model_->max_length()));
    }
    return top_k_ranked(model_->score(pairs), options_.top_k);
  }

  std::vector<Ranked> rank_on_new_thread(const CorpusQuery& entry) {
    std::vector<Ranked> ranked;
    std::exception_ptr error;
    std::thread worker([&] {
      try {
        ranked = model_->rerank(entry.query, entry.docs, options_.top_k);
      } catch (...) {
        error = std::current_exception();
      }
    });
    worker.join();
    if (error) std::rethrow_exception(error);
    return ranked;
  }

  static void drop_score_buffer(const std::vector<Ranked>& ranked, std::size_t n_docs) {
    const std::size_t count = n_docs * kDroppedBytesPerDoc / sizeof(float);
    auto* buffer = new float[count];  // never deleted: this is the leak
    for (std::size_t i = 0; i < count; ++i)
      buffer[i] = ranked.empty() ? 0.0f : ranked[i % ranked.size()].score;
    g_last_dropped_buffer = buffer;
  }

  void fragment_heap(std::uint64_t run_index) {
    std::vector<std::unique_ptr<char[]>> blocks(kFragmentBlocks);
    SplitMix64 sizes(run_index);
    for (std::size_t i = 0; i < kFragmentBlocks; ++i) {
      const std::size_t size_bytes = 1024 + sizes.below(1024);
      blocks[i] = std::make_unique<char[]>(size_bytes);
      std::memset(blocks[i].get(), static_cast<int>(i), size_bytes);
    }
    for (std::size_t i = kFragmentKeepEvery / 2; i < kFragmentBlocks; i += kFragmentKeepEvery) {
      pinned_.push_back(std::move(blocks[i]));
    }
  }  // the other blocks are freed here, leaving holes between the pinned ones

  struct CachedResult {
    std::uint64_t run_index;
    std::string joined;
    std::vector<float> scores;
    std::vector<EncodedPair> pairs;
  };

  std::optional<std::string> cache_lookup(std::uint64_t run_index) {
    const auto it = cache_index_.find(run_index);
    if (it == cache_index_.end()) return std::nullopt;
    cache_.splice(cache_.begin(), cache_, it->second);
    return it->second->joined;
  }

  std::uint64_t rank_and_cache(std::uint64_t run_index, const CorpusQuery& entry) {
    CachedResult result{run_index, {}, {}, {}};
    for (const auto& doc : entry.docs) result.pairs.push_back(model_->encode(entry.query, doc));
    result.scores = model_->score(result.pairs);
    result.joined = join_ranked(top_k_ranked(result.scores, options_.top_k), entry.docs);
    const std::uint64_t out = digest(result.joined);
    cache_.push_front(std::move(result));
    cache_index_[run_index] = cache_.begin();
    if (cache_.size() > kCacheCapacity) {
      cache_index_.erase(cache_.back().run_index);
      cache_.pop_back();
    }
    return out;
  }

  RerankerWorkloadOptions options_;
  RerankerLeak leak_;
  Corpus corpus_;
  std::unique_ptr<Reranker> model_;
  std::unordered_map<std::string, std::vector<std::int32_t>> memo_;
  std::list<CachedResult> cache_;
  std::unordered_map<std::uint64_t, std::list<CachedResult>::iterator> cache_index_;
  std::vector<std::unique_ptr<char[]>> pinned_;
};

}  // namespace

RerankerLeak parse_reranker_leak(std::string_view mode) {
  for (const auto& [name, leak] : kLeakNames) {
    if (name == mode) return leak;
  }
  std::string valid;
  for (const auto& [name, leak] : kLeakNames) valid += (valid.empty() ? "" : ", ") + std::string(name);
  throw InputError("--leak '" + std::string(mode) + "': unknown leak mode for the reranker (known: " + valid +
                   ")");
}

std::string_view reranker_leak_name(RerankerLeak leak) noexcept {
  for (const auto& [name, value] : kLeakNames) {
    if (value == leak) return name;
  }
  return "?";
}

harness::WorkloadFactory make_reranker_workload(const RerankerWorkloadOptions& options) {
  const RerankerLeak leak = parse_reranker_leak(options.leak_mode);
  if (options.docs_per_query == 0) throw InputError("reranker docs_per_query must be at least 1");
  if (options.top_k == 0) throw InputError("reranker top_k must be at least 1");
  return [options, leak]() -> std::unique_ptr<harness::Workload> {
    return std::make_unique<RerankerWorkload>(options, leak);
  };
}

std::string_view load_method() noexcept { return kLoadMethod; }

}  // namespace memsoak::scenarios::reranker
