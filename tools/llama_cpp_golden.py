#!/usr/bin/env python3
"""Golden data from llama.cpp (through llama-cpp-python) for bitmoe's parity tests.

For each model it records, in tests/data/golden/<name>.json:
  - the prompt's token ids as llama.cpp tokenizes it,
  - 32 greedy tokens (argmax of llama.cpp's logits, no sampler involved),
  - the logits after the prompt (first step), for an NMSE check,
  - token ids of a mixed text (English, code, CJK, emoji, special tokens).
Models: SmolLM2-135M-Instruct Q4_1 (models/) and the synthetic qwen2 and llama files
that `bitmoe synth` writes with seed 42. It also times llama.cpp's prompt eval and
generation at 1 and 2 threads (`--bench`) for the README.

Setup (once, ~15 min on 2 cores; llama.cpp's AMX path crashes on this CPU family):
  CMAKE_ARGS="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' \
    -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'" pip install llama-cpp-python
Usage: tools/llama_cpp_golden.py [--bitmoe target/release/bitmoe] [--bench]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "golden")
PROMPT = "The capital of France is"
MIXED = ("Hello, world! Don't stop: 3.14159 × 42 = 131.95\n"
         "fn main() { println!(\"{}\", vec![1, 2, 3].len()); }\n"
         "東京は日本の首都です。我爱北京。 🚀🎉👍🏽  tabs\tand  spaces\n"
         "<|im_start|>user\nhi<|im_end|>")


def golden(path, name, n_gen=32, n_threads=2):
    llm = Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=n_threads, logits_all=True,
                verbose=False, seed=0)
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    llm.reset()
    llm.eval(prompt)
    first = np.array(llm.scores[len(prompt) - 1], dtype=np.float32)
    toks = []
    for _ in range(n_gen):
        t = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        toks.append(t)
        llm.eval([t])
    mixed = llm.tokenize(MIXED.encode(), add_bos=False, special=True)
    rec = {
        "model": os.path.basename(path),
        "prompt": PROMPT,
        "prompt_tokens": prompt,
        "greedy_tokens": toks,
        "greedy_text": llm.detokenize(toks).decode("utf-8", errors="replace"),
        "first_logits": [float(x) for x in first],
        "mixed_text": MIXED,
        "mixed_tokens": mixed,
        "oracle": "llama-cpp-python " + __import__("llama_cpp").__version__,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(rec, f)
    print(f"{name}: prompt {prompt} -> {toks[:8]}... {rec['greedy_text'][:60]!r}")


def bench(path, threads, n_prompt=128, n_gen=64):
    llm = Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=threads, n_threads_batch=threads,
                verbose=False)
    prompt = [int(x) for x in np.random.default_rng(0).integers(100, 20000, n_prompt)]
    best_pp, best_tg = 0.0, 0.0
    for _ in range(3):
        llm.reset()
        t = time.perf_counter()
        llm.eval(prompt)
        best_pp = max(best_pp, n_prompt / (time.perf_counter() - t))
        t = time.perf_counter()
        tok = 1000
        for _ in range(n_gen):
            llm.eval([tok])
        best_tg = max(best_tg, n_gen / (time.perf_counter() - t))
    return best_pp, best_tg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    p.add_argument("--bench", action="store_true")
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    smol = os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    golden(smol, "smollm2-135m-q4_1")
    with tempfile.TemporaryDirectory() as d:
        for arch in ("qwen2", "llama"):
            f = os.path.join(d, f"synth-{arch}.gguf")
            subprocess.run([a.bitmoe, "synth", "--arch", arch, "--seed", "42", "-o", f], check=True)
            golden(f, f"synth-{arch}-seed42")
    if a.bench:
        for threads in (1, 2):
            pp, tg = bench(smol, threads)
            print(f"llama.cpp SmolLM2 Q4_1 t={threads}: pp128 {pp:.1f} t/s, tg64 {tg:.1f} t/s")


if __name__ == "__main__":
    main()
