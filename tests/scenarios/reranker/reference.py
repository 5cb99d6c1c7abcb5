#!/usr/bin/python3
# Independent numpy reference for the reranker: BERT tokenizer + cross-encoder forward pass.
"""Reference implementation used by reference_test.cpp (run with /usr/bin/python3).

Written from the BERT / Hugging Face BertTokenizer definitions, not from the C++ code.
Usage: reference.py INPUT.json OUTPUT.json

INPUT:  {"model_dir": str, "max_length": int, "texts": [str], "pairs": [[query, doc]]}
OUTPUT: {"basic": [[str]], "ids": [[int]], "pair_ids": [[int]], "pair_types": [[int]],
         "logits": [float]}
Logits are computed one pair at a time (no padding) in float64.
"""
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np


# ---------------------------------------------------------------- tokenizer
def load_vocab(path):
    vocab = {}
    with open(path, "r", encoding="utf-8") as f:  # universal newlines, like HF load_vocab
        for index, line in enumerate(f.readlines()):
            vocab[line.rstrip("\n")] = index
    return vocab


def is_whitespace(ch):
    return ch in (" ", "\t", "\n", "\r") or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(ch):
    return any(lo <= ord(ch) <= hi for lo, hi in CJK_RANGES)


def basic_tokenize(text, lower):
    cleaned = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_control(ch):
            continue
        cleaned.append(" " if is_whitespace(ch) else ch)
    spaced = "".join(" " + ch + " " if is_cjk(ch) else ch for ch in cleaned)
    pieces = []
    for word in spaced.split():
        if lower:
            word = word.lower()
            word = "".join(c for c in unicodedata.normalize("NFD", word)
                           if unicodedata.category(c) != "Mn")
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    pieces.append(current)
                pieces.append(ch)
                current = ""
            else:
                current += ch
        if current:
            pieces.append(current)
    return " ".join(pieces).split()


def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [unk]
    out, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                out.append(piece)
                start = end
                break
        else:
            return [unk]
    return out


def encode(text, vocab, lower):
    return [vocab[p] for w in basic_tokenize(text, lower) for p in wordpiece(w, vocab)]


def encode_pair(query, doc, vocab, lower, max_length):
    a, b = encode(query, vocab, lower), encode(doc, vocab, lower)
    for _ in range(max(0, len(a) + len(b) + 3 - max_length)):
        if len(a) > len(b):
            a = a[:-1]
        else:
            b = b[:-1]
    ids = [vocab["[CLS]"]] + a + [vocab["[SEP]"]] + b + [vocab["[SEP]"]]
    types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    return ids, types


# ---------------------------------------------------------------- model
def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    data = blob[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float64)
        tensors[name] = arr.reshape(info["shape"])
    return tensors


erf = np.vectorize(math.erf)


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def dense(x, w, prefix):
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def logit(ids, types, w, cfg):
    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    n = len(ids)
    x = (w["bert.embeddings.word_embeddings.weight"][ids]
         + w["bert.embeddings.position_embeddings.weight"][:n]
         + w["bert.embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"], eps)
    hidden = x.shape[1]
    dh = hidden // heads
    for layer in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{layer}."
        q = dense(x, w, p + "attention.self.query").reshape(n, heads, dh).transpose(1, 0, 2)
        k = dense(x, w, p + "attention.self.key").reshape(n, heads, dh).transpose(1, 0, 2)
        v = dense(x, w, p + "attention.self.value").reshape(n, heads, dh).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        attn = dense(context, w, p + "attention.output.dense")
        x = layer_norm(attn + x, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        inter = dense(x, w, p + "intermediate.dense")
        inter = 0.5 * inter * (1.0 + erf(inter / math.sqrt(2.0)))
        out = dense(inter, w, p + "output.dense")
        x = layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = np.tanh(dense(x[0], w, "bert.pooler.dense"))
    return float(dense(pooled, w, "classifier")[0])


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    model_dir = request["model_dir"]
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    lower = cfg.get("do_lower_case", True)
    tok_cfg_path = os.path.join(model_dir, "tokenizer_config.json")
    if os.path.exists(tok_cfg_path):
        with open(tok_cfg_path, encoding="utf-8") as f:
            lower = json.load(f).get("do_lower_case", lower)
    vocab = load_vocab(os.path.join(model_dir, "vocab.txt"))
    max_length = min(request["max_length"], cfg["max_position_embeddings"])
    out = {"basic": [basic_tokenize(t, lower) for t in request["texts"]],
           "ids": [encode(t, vocab, lower) for t in request["texts"]],
           "pair_ids": [], "pair_types": [], "logits": []}
    weights = load_safetensors(os.path.join(model_dir, "model.safetensors")) if request["pairs"] else {}
    for query, doc in request["pairs"]:
        ids, types = encode_pair(query, doc, vocab, lower, max_length)
        out["pair_ids"].append(ids)
        out["pair_types"].append(types)
        out["logits"].append(logit(ids, types, weights, cfg))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
