#!/usr/bin/env python3
"""llama.cpp golden data for a DeepSeek-R1-wide synthetic model (true R1 widths).

Writes (if absent) an r1-wide file with 1 dense + N MoE blocks (default 2, ~5.8 GB) with
`bitmoe synth`, borrowing SmolLM2's tokenizer, then evaluates a short prompt + 16 greedy
tokens in llama.cpp (llama-cpp-python, 2 threads) and saves a golden JSON with the same
fields as tools/llama_cpp_golden.py's deepseek2 goldens (prompt_tokens, greedy_tokens,
greedy_margins, first_logits, all_logits teacher-forced, ...; no float64 reference: too
slow at this width). Timings of each step are printed; `--bench` adds llama.cpp's pp/tg
speed (tools/compare_speed.py's llama_cpp(), best of 3).

Usage: tools/r1_wide.py [--path /tmp/r1-wide-2moe.gguf] [--golden /tmp/r1-wide-golden.json]
                        [--moe-layers 2] [--layout legacy|split] [--threads 2] [--bench]
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_cpp_golden import golden_moe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 17 tokens in SmolLM2's vocabulary.
PROMPT = "The capital of France is Paris. The capital of Germany is Berlin. The capital of"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--path", default="/tmp/r1-wide-2moe.gguf")
    p.add_argument("--golden", default="/tmp/r1-wide-golden.json")
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    p.add_argument("--vocab-from", default=os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--moe-layers", type=int, default=2)
    p.add_argument("--layout", default="legacy", choices=("legacy", "split"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bench", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.path):
        t = time.perf_counter()
        subprocess.run([a.bitmoe, "synth", "--arch", "deepseek2", "--preset", "r1-wide",
                        "--moe-layers", str(a.moe_layers), "--layout", a.layout, "--seed", str(a.seed),
                        "--vocab-from", a.vocab_from, "-o", a.path], check=True)
        print(f"write: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    rec = golden_moe(a.path, PROMPT, n_gen=16, n_threads=a.threads)
    rec["layout"] = a.layout
    print(f"llama.cpp load + {len(rec['prompt_tokens'])}-token prompt + 16 greedy + teacher-forced "
          f"pass: {time.perf_counter() - t:.1f} s")
    print(f"prompt {rec['prompt_tokens']}\ngreedy {rec['greedy_tokens']} {rec['greedy_text']!r}\n"
          f"margins {[round(m, 2) for m in rec['greedy_margins']]}")
    with open(a.golden, "w") as f:
        json.dump(rec, f)
    print(f"golden: {a.golden} ({os.path.getsize(a.golden) / 1e6:.1f} MB)")
    if a.bench:
        from compare_speed import llama_cpp
        pp, tg = llama_cpp(a.path, a.threads, 16, 8)
        print(f"llama.cpp t={a.threads}: pp16 {pp:.2f} t/s, tg8 {tg:.2f} t/s")


if __name__ == "__main__":
    main()
