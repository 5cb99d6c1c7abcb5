#!/usr/bin/env python3
"""A protocol-v1 memsoak worker (docs/worker-protocol.md) that behaves like a LangFlow reranker.

Setup builds a deterministic bag-of-words "model" from a seed (8192 words x 48 float64 weights,
3 MiB, about 0.1 s: reloading it per run is measurable) and a corpus of 64 queries with 20
candidate documents each. Run i reranks query i mod 64: every candidate is scored by the cosine of
its idf-weighted mean word vector with the query's, and the top 5 texts, joined by a blank line as
the component returns them, are answered as `OK <sha1 of that text>`.

--leak (or RERANKER_LEAK=1) keeps every call's scored documents and their vectors in a
module-level history list, the way components keep "recent results" for a UI or for debugging:
about 40 KB per run that nothing ever frees. The answers are the same with and without it.

--leak-objects N (or RERANKER_LEAK_OBJECTS=N) keeps N small tuples of two fresh ints per run in a
module-level list: only small objects (under 512 bytes), which CPython's pymalloc serves from
arenas it maps with mmap, not from malloc (unless PYTHONMALLOC=malloc).

Python 3 standard library only.
"""
import argparse
import array
import hashlib
import math
import os
import random
import sys

VOCABULARY_WORDS = 8192
EMBEDDING_DIM = 48
QUERIES = 64
DOCS_PER_QUERY = 20
TOP_K = 5

# The leak, when enabled: module-level, so it lives as long as the worker process.
_HISTORY = []
_SMALL_OBJECTS = []


def make_words(rng, count):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))))
    return sorted(words)


class BagOfWordsModel:
    """Word vectors and idf weights; embed() gives a unit-length text vector."""

    def __init__(self, seed):
        rng = random.Random(seed)
        self.words = make_words(rng, VOCABULARY_WORDS)
        self.index = {word: i for i, word in enumerate(self.words)}
        self.weights = array.array("d", (rng.random() - 0.5 for _ in range(VOCABULARY_WORDS * EMBEDDING_DIM)))
        self.idf = array.array("d", (1.0 + 4.0 * rng.random() for _ in range(VOCABULARY_WORDS)))

    def embed(self, text):
        vector = [0.0] * EMBEDDING_DIM
        weights, dim = self.weights, EMBEDDING_DIM
        for token in text.split():
            i = self.index.get(token)
            if i is None:
                continue
            idf, base = self.idf[i], i * dim
            for k in range(dim):
                vector[k] += idf * weights[base + k]
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]


def make_corpus(seed, words):
    """QUERIES queries, each with DOCS_PER_QUERY documents sharing some of its words."""
    rng = random.Random(seed * 7919 + 1)
    corpus = []
    for _ in range(QUERIES):
        query_words = rng.sample(words, rng.randint(3, 6))
        docs = []
        for _ in range(DOCS_PER_QUERY):
            doc_words = rng.sample(words, rng.randint(15, 35))
            doc_words += rng.sample(query_words, rng.randint(0, len(query_words)))
            rng.shuffle(doc_words)
            docs.append(" ".join(doc_words))
        corpus.append((" ".join(query_words), docs))
    return corpus


def rerank(model, query, docs, leak):
    query_vector = model.embed(query)
    scored = []
    for index, doc in enumerate(docs):
        doc_vector = model.embed(doc)
        score = sum(q * d for q, d in zip(query_vector, doc_vector))
        scored.append((score, index, doc, doc_vector))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if leak:
        _HISTORY.append({"query": query, "scored": scored})
    return "\n\n".join(doc for _, _, doc, _ in scored[:TOP_K])


def leak_small_objects(run, count):
    base = 1000003 * (run + 1)
    _SMALL_OBJECTS.extend((base + k, base - k) for k in range(count))


def answer(command, model, corpus, leak, leak_objects=0):
    parts = command.split(" ")
    if len(parts) != 2 or parts[0] != "RUN" or not parts[1].isdigit():
        return "ERR unknown command " + repr(command)[:100]
    try:
        query, docs = corpus[int(parts[1]) % QUERIES]
        text = rerank(model, query, docs, leak)
        if leak_objects:
            leak_small_objects(int(parts[1]), leak_objects)
        return "OK " + hashlib.sha1(text.encode("utf-8")).hexdigest()
    except Exception as error:  # any failure of one run is that run's ERR, the worker goes on
        return "ERR " + " ".join(f"{type(error).__name__}: {error}".split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leak", action="store_true", help="keep every call's results (also RERANKER_LEAK=1)")
    parser.add_argument("--leak-objects", type=int, default=None, metavar="N",
                        help="keep N small tuples per run (also RERANKER_LEAK_OBJECTS=N)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    leak = args.leak or os.environ.get("RERANKER_LEAK") == "1"
    leak_objects = args.leak_objects
    if leak_objects is None:
        leak_objects = int(os.environ.get("RERANKER_LEAK_OBJECTS", "0"))
    if leak_objects < 0:
        parser.error(f"--leak-objects {leak_objects}: must be 0 or more")

    model = BagOfWordsModel(args.seed)
    corpus = make_corpus(args.seed, model.words)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    for line in iter(sys.stdin.readline, ""):
        sys.stdout.write(answer(line.rstrip("\n"), model, corpus, leak, leak_objects) + "\n")
        sys.stdout.flush()
    return 0  # stdin closed: memsoak asks the worker to stop


if __name__ == "__main__":
    sys.exit(main())
