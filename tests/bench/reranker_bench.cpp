// Reranker benchmarks: per-run latency per preset, and encoder GFLOP/s next to raw cblas_sgemm.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/reranker/corpus.h"
#include "scenarios/reranker/model_generate.h"
#include "scenarios/reranker/reranker.h"

namespace {

namespace rr = memsoak::scenarios::reranker;

constexpr std::size_t kDocsPerQuery = 20;

// Generates each preset once per process into a temp dir that is removed at exit.
const rr::Reranker& model(const std::string& preset) {
  struct Cache {
    std::filesystem::path root =
        std::filesystem::temp_directory_path() / ("memsoak_rr_bench_" + std::to_string(::getpid()));
    std::map<std::string, std::unique_ptr<rr::Reranker>> models;
    ~Cache() {
      models.clear();
      std::error_code ec;
      std::filesystem::remove_all(root, ec);
    }
  };
  static Cache cache;
  auto& slot = cache.models[preset];
  if (!slot) {
    rr::generate_model(preset, 1, cache.root / preset);
    slot = std::make_unique<rr::Reranker>(cache.root / preset);
  }
  return *slot;
}

const rr::CorpusQuery& query() {
  static const rr::Corpus corpus = rr::make_corpus(1, 1, kDocsPerQuery);
  return corpus.queries[0];
}

std::size_t padded_length(const rr::Reranker& reranker) {
  std::size_t longest = 0;
  for (const auto& doc : query().docs)
    longest = std::max(longest, reranker.encode(query().query, doc).input_ids.size());
  return longest;
}

// One soak run: tokenize, encode 20 pairs as one batch, rank.
void BM_RerankRun(benchmark::State& state, const std::string& preset) {
  const auto& reranker = model(preset);
  for (auto _ : state) benchmark::DoNotOptimize(reranker.rerank(query().query, query().docs, 5));
  const double flops =
      rr::BertEncoder::forward_flops(reranker.config(), kDocsPerQuery, padded_length(reranker));
  state.counters["seq_len"] = static_cast<double>(padded_length(reranker));
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The encoder alone on pre-encoded pairs: the encoder's own GFLOP/s.
void BM_EncoderOnly(benchmark::State& state, const std::string& preset) {
  const auto& reranker = model(preset);
  std::vector<rr::EncodedPair> pairs;
  for (const auto& doc : query().docs) pairs.push_back(reranker.encode(query().query, doc));
  for (auto _ : state) benchmark::DoNotOptimize(reranker.score(pairs));
  const double flops =
      rr::BertEncoder::forward_flops(reranker.config(), kDocsPerQuery, padded_length(reranker));
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The same matrix products as one forward pass, as bare cblas_sgemm calls on scratch buffers:
// the ceiling the encoder could reach if everything but the products were free.
void BM_SgemmSameShapes(benchmark::State& state, const std::string& preset) {
  const auto& reranker = model(preset);
  const auto& c = reranker.config();
  const int rows = static_cast<int>(kDocsPerQuery * padded_length(reranker));
  const int n = static_cast<int>(padded_length(reranker)), h = static_cast<int>(c.hidden_size);
  const int inter = static_cast<int>(c.intermediate_size), dh = static_cast<int>(c.head_size());
  const auto size = [](int value) { return static_cast<std::size_t>(value); };  // cblas takes int
  std::vector<float> x(size(rows) * size(inter), 0.01f), w(size(h) * size(inter), 0.01f);
  std::vector<float> y(size(rows) * size(inter)), s(size(n) * size(n), 0.01f);
  auto gemm = [](int m, int nn, int k, const float* a, int lda, const float* b, int ldb, bool trans_b,
                 float* out, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, nn, k, 1.0f, a, lda, b,
                ldb, 0.0f, out, ldc);
  };
  for (auto _ : state) {
    for (std::size_t layer = 0; layer < c.num_hidden_layers; ++layer) {
      for (int i = 0; i < 4; ++i) gemm(rows, h, h, x.data(), h, w.data(), h, true, y.data(), h);
      for (std::size_t b = 0; b < kDocsPerQuery; ++b) {
        for (std::size_t head = 0; head < c.num_attention_heads; ++head) {
          const std::size_t off = b * size(n) * size(h) + head * size(dh);
          gemm(n, n, dh, x.data() + off, h, x.data() + off, h, true, s.data(), n);
          gemm(n, dh, n, s.data(), n, x.data() + off, h, false, y.data() + off, h);
        }
      }
      gemm(rows, inter, h, x.data(), h, w.data(), h, true, y.data(), inter);
      gemm(rows, h, inter, y.data(), inter, w.data(), inter, true, x.data(), h);
    }
    benchmark::ClobberMemory();
  }
  const double flops = rr::BertEncoder::forward_flops(c, kDocsPerQuery, padded_length(reranker));
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  openblas_set_num_threads(1);
  for (const std::string preset : {"tiny", "small", "minilm-l6"}) {
    benchmark::RegisterBenchmark(("rerank_run/" + preset).c_str(), BM_RerankRun, preset)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("encoder_only/" + preset).c_str(), BM_EncoderOnly, preset)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("sgemm_same_shapes/" + preset).c_str(), BM_SgemmSameShapes, preset)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
