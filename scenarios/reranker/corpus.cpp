// Corpus generator: word lists are written here by hand; sentences are assembled from them.
#include "scenarios/reranker/corpus.h"

#include <array>
#include <fstream>

#include "harness/errors.h"

namespace memsoak::scenarios::reranker {
namespace {

constexpr std::size_t kTopics = 7;
constexpr std::size_t kTopicWords = 15;
constexpr std::array<std::array<std::string_view, kTopicWords>, kTopics> kTopicNouns{{
    {"bread", "oven", "flour", "recipe", "butter", "sugar", "dough", "kitchen", "soup", "garlic", "onion",
     "pepper", "salt", "pan", "knife"},
    {"garden", "soil", "seed", "plant", "water", "tomato", "rose", "leaf", "root", "compost", "shovel", "sun",
     "flower", "weed", "fence"},
    {"computer", "memory", "program", "server", "network", "file", "disk", "kernel", "thread", "cache",
     "compiler", "bug", "test", "code", "data"},
    {"train", "ticket", "hotel", "airport", "city", "map", "bag", "passport", "beach", "river", "mountain",
     "road", "bridge", "station", "museum"},
    {"sleep", "doctor", "exercise", "heart", "muscle", "diet", "vitamin", "fever", "walk", "bone", "skin",
     "blood", "breath", "tooth", "pain"},
    {"bank", "money", "loan", "tax", "budget", "price", "market", "stock", "account", "credit", "interest",
     "income", "rent", "coin", "trade"},
    {"guitar", "piano", "song", "rhythm", "drum", "note", "band", "concert", "voice", "melody", "chord",
     "string", "album", "singer", "radio"},
}};
constexpr std::array<std::string_view, 20> kVerbs{
    "make",   "fix",  "clean", "find",    "build", "cook",  "grow", "store",   "learn",  "choose",
    "repair", "plan", "check", "measure", "keep",  "start", "stop", "improve", "reduce", "protect"};
constexpr std::array<std::string_view, 20> kAdjectives{
    "small", "large", "quick", "slow",   "cheap", "old",  "new",    "fresh", "safe", "simple",
    "quiet", "warm",  "cold",  "strong", "light", "dark", "bright", "easy",  "hard", "good"};
constexpr std::array<std::string_view, 33> kFunctionWords{
    "the",  "a",    "an",  "of",     "to",   "in",   "for", "with", "on",  "and", "or",
    "is",   "are",  "how", "what",   "why",  "when", "do",  "i",    "you", "it",  "this",
    "that", "best", "can", "should", "your", "my",   "not", "from", "by",  "at",  "be"};
// Derived forms the vocab lacks, so WordPiece must split them ("cook" "##ing").
constexpr std::array<std::string_view, 6> kSuffixes{"s", "ing", "ed", "er", "ly", "ness"};
// Rare words: accents (stripped by the uncased tokenizer) and CJK (one token per character).
constexpr std::array<std::string_view, 6> kRareWords{"café", "naïve", "résumé", "Zürich", "中文", "日本"};

const std::vector<std::string_view>& all_words() {
  static const std::vector<std::string_view> words = [] {
    std::vector<std::string_view> out(kFunctionWords.begin(), kFunctionWords.end());
    out.insert(out.end(), kVerbs.begin(), kVerbs.end());
    out.insert(out.end(), kAdjectives.begin(), kAdjectives.end());
    for (const auto& topic : kTopicNouns) out.insert(out.end(), topic.begin(), topic.end());
    return out;
  }();
  return words;
}

std::string capitalized(std::string_view word) {
  std::string out(word);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string make_query(SplitMix64& rng, std::size_t topic) {
  const auto& nouns = kTopicNouns[topic];
  const auto noun = nouns[rng.below(kTopicWords)];
  const auto other = nouns[rng.below(kTopicWords)];
  const auto verb = kVerbs[rng.below(kVerbs.size())];
  const auto adjective = kAdjectives[rng.below(kAdjectives.size())];
  switch (rng.below(4)) {
    case 0:
      return "how do i " + std::string(verb) + " a " + std::string(adjective) + " " + std::string(noun) + "?";
    case 1:
      return "best " + std::string(noun) + " for " + std::string(other);
    case 2:
      return "What is the " + std::string(adjective) + " " + std::string(noun) + " in my " +
             std::string(other) + "?";
    default:
      return std::string(verb) + " " + std::string(noun) + " " + std::string(other) + " quickly";
  }
}

std::string make_sentence(SplitMix64& rng, std::size_t topic) {
  const std::size_t n_words = 6 + rng.below(12);
  std::string out;
  for (std::size_t w = 0; w < n_words; ++w) {
    std::string word;
    const std::size_t kind = rng.below(20);
    if (kind < 7) {
      word = kTopicNouns[topic][rng.below(kTopicWords)];
    } else if (kind < 13) {
      word = kFunctionWords[rng.below(kFunctionWords.size())];
    } else if (kind < 16) {
      word =
          std::string(kVerbs[rng.below(kVerbs.size())]) + std::string(kSuffixes[rng.below(kSuffixes.size())]);
    } else if (kind < 19) {
      word = kAdjectives[rng.below(kAdjectives.size())];
    } else {
      word = rng.below(2) == 0 ? std::string(kRareWords[rng.below(kRareWords.size())])
                               : std::to_string(rng.below(2000));
    }
    out += (w == 0 ? capitalized(word) : " " + word);
    if (w + 1 < n_words && rng.below(10) == 0) out += ",";
  }
  return out + (rng.below(5) == 0 ? "!" : ".");
}

}  // namespace

std::span<const std::string_view> corpus_words() { return all_words(); }

Corpus make_corpus(std::uint64_t seed, std::size_t n_queries, std::size_t docs_per_query) {
  SplitMix64 rng(seed ^ 0x636F72707573ull);  // "corpus": keeps corpus and weight streams apart
  Corpus corpus;
  for (std::size_t q = 0; q < n_queries; ++q) {
    const std::size_t topic = rng.below(kTopics);
    CorpusQuery entry{make_query(rng, topic), {}};
    for (std::size_t d = 0; d < docs_per_query; ++d) {
      // About a third of the documents are on the query's topic.
      const std::size_t doc_topic = rng.below(3) == 0 ? topic : rng.below(kTopics);
      std::string doc = make_sentence(rng, doc_topic);
      for (std::size_t extra = rng.below(3); extra > 0; --extra) doc += " " + make_sentence(rng, doc_topic);
      entry.docs.push_back(std::move(doc));
    }
    corpus.queries.push_back(std::move(entry));
  }
  return corpus;
}

std::vector<std::string> read_documents_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError("--docs '" + path.string() + "': cannot open (missing or not a file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--docs '" + path.string() + "': cannot open");
  std::vector<std::string> docs;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find('\0') != std::string::npos) {
      throw InputError("--docs '" + path.string() + "': line " + std::to_string(docs.size() + 1) +
                       " holds a NUL byte (not a text file)");
    }
    docs.push_back(std::move(line));
  }
  if (docs.empty()) throw InputError("--docs '" + path.string() + "': no documents (the file is empty)");
  return docs;
}

}  // namespace memsoak::scenarios::reranker
