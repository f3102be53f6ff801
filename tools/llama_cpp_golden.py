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

deepseek2 (`--only deepseek2`): the synthetic r1-tiny files of both MLA layouts (seed 42)
get the same fields (16 greedy tokens after a 14-token prompt) plus what MoE parity
tests need (shared/spec/moe-fidelity.md):
  - all_logits: teacher-forced logits at every position of prompt + greedy tokens (one
    batch evaluation of the whole sequence),
  - greedy_margins: llama.cpp's top-2 logit margin at each greedy step,
  - incremental_nmse: per position, NMSE between all_logits and the logits of the greedy
    run (prompt as one batch, then one token at a time): llama.cpp against itself,
  - llama_cpp: the context settings (2 threads, flash attention off),
  - other_layout_nmse: NMSE of llama.cpp's logits for the other MLA layout on the same
    sequence (llama.cpp runs legacy files as MHA, split files as absorbed MLA),
  - ref_*: a float64 numpy forward pass (tools/deepseek2_ref.py, unquantized
    activations) on the same sequence: its logits, llama.cpp's NMSE against it, and the
    routing margins (k-th minus (k+1)-th expert selection score per MoE layer and
    position; tiny ones are where engines may legitimately pick different experts).

Setup (once, ~15 min on 2 cores; llama.cpp's AMX path crashes on this CPU family):
  CMAKE_ARGS="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' \
    -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'" pip install llama-cpp-python
Usage: tools/llama_cpp_golden.py [--bitmoe target/release/bitmoe] [--bench]
                                 [--only all|smollm2|dense|deepseek2]
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
# 14 tokens in the synthetic byte-level vocabulary. Chosen among 28 short prompts: the
# only one where llama.cpp's legacy (MHA) and split (absorbed MLA) runs agree on all 16
# greedy tokens, each run's batch and token-by-token logits agree (NMSE < 1e-3 at every
# position) and every greedy top-2 margin is at least 0.4. Most prompts have an
# expert-selection near-tie somewhere in 30 positions (shared/spec/moe-fidelity.md).
PROMPT_MOE = "She said hello"
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


def f32s(values):
    """Floats as their shortest float32 repr (exact for float32 data, compact JSON)."""
    return [float(str(np.float32(x))) for x in values]


def nmse(ref, x):
    ref, x = np.asarray(ref, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return float(((ref - x) ** 2).sum() / (ref ** 2).sum())


def per_position_nmse(ref, x):
    ref, x = np.asarray(ref, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return ((ref - x) ** 2).sum(-1) / (ref ** 2).sum(-1)


def moe_llama(path, n_threads):
    # Flash attention off (llama-cpp-python's default, stated so the goldens say which
    # attention kernel produced them: on and off differ by more than rounding here).
    return Llama(model_path=path, n_ctx=512, n_batch=512, n_threads=n_threads, logits_all=True,
                 flash_attn=False, verbose=False, seed=0)


def teacher_forced(path, tokens, n_threads=2):
    """llama.cpp's logits at every position of `tokens`, evaluated as one batch."""
    llm = moe_llama(path, n_threads)
    llm.eval(tokens)
    return np.array(llm.scores[:len(tokens)], dtype=np.float32)


def golden_moe(path, prompt_text, n_gen=16, n_threads=2):
    """The dense golden fields plus teacher-forced logits and greedy margins (a dict)."""
    llm = moe_llama(path, n_threads)
    prompt = llm.tokenize(prompt_text.encode(), add_bos=True, special=True)
    llm.reset()
    llm.eval(prompt)
    first = np.array(llm.scores[len(prompt) - 1], dtype=np.float32)
    toks, margins = [], []
    for _ in range(n_gen):
        s = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top2 = np.sort(s)[-2:]
        toks.append(int(np.argmax(s)))
        margins.append(float(top2[1] - top2[0]))
        llm.eval([toks[-1]])
    incremental = np.array(llm.scores[:llm.n_tokens], dtype=np.float32)
    mixed = llm.tokenize(MIXED.encode(), add_bos=False, special=True)
    text = llm.detokenize(toks).decode("utf-8", errors="replace")
    del llm
    all_logits = teacher_forced(path, prompt + toks, n_threads)
    return {
        "model": os.path.basename(path),
        "prompt": prompt_text,
        "prompt_tokens": prompt,
        "greedy_tokens": toks,
        "greedy_text": text,
        "first_logits": f32s(first),
        "mixed_text": MIXED,
        "mixed_tokens": mixed,
        "oracle": "llama-cpp-python " + __import__("llama_cpp").__version__,
        "greedy_margins": f32s(margins),
        "all_logits": [f32s(row) for row in all_logits],
        "llama_cpp": {"n_threads": n_threads, "n_batch": 512, "flash_attn": False},
        "incremental_nmse": f32s(per_position_nmse(all_logits, incremental)),
    }


def deepseek2_goldens(bitmoe, seed=42):
    """r1-tiny legacy and split goldens; prints the cross-layout and reference NMSEs."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from deepseek2_ref import Model

    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for layout in ("legacy", "split"):
            paths[layout] = os.path.join(d, f"r1-tiny-{layout}.gguf")
            subprocess.run([bitmoe, "synth", "--arch", "deepseek2", "--preset", "r1-tiny",
                            "--layout", layout, "--seed", str(seed), "-o", paths[layout]], check=True)
        for layout, other in (("legacy", "split"), ("split", "legacy")):
            rec = golden_moe(paths[layout], PROMPT_MOE)
            seq = rec["prompt_tokens"] + rec["greedy_tokens"]
            rec["layout"] = layout
            rec["other_layout_nmse"] = nmse(rec["all_logits"], teacher_forced(paths[other], seq))
            ref_logits, margins = Model(paths[layout]).forward(seq)
            rec["ref_all_logits"] = [f32s(row) for row in ref_logits]
            rec["ref_nmse"] = nmse(ref_logits, rec["all_logits"])
            layers = sorted({m[0] for m in margins})
            rec["ref_routing_margins"] = {
                str(il): f32s([m[2] for m in margins if m[0] == il]) for il in layers}
            name = f"synth-r1-tiny-{layout}-seed{seed}"
            with open(os.path.join(OUT, f"{name}.json"), "w") as f:
                json.dump(rec, f)
            smallest = min(m[2] for m in margins)
            print(f"{name}: prompt {len(rec['prompt_tokens'])} tokens -> {rec['greedy_tokens']}\n"
                  f"  greedy margins {[round(m, 2) for m in rec['greedy_margins']]}\n"
                  f"  NMSE vs {other} (llama.cpp, same sequence) {rec['other_layout_nmse']:.2e}, "
                  f"vs float64 reference {rec['ref_nmse']:.2e}; smallest routing margin {smallest:.1e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    p.add_argument("--bench", action="store_true")
    p.add_argument("--only", choices=("all", "smollm2", "dense", "deepseek2"), default="all")
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    smol = os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    if a.only in ("all", "smollm2"):
        golden(smol, "smollm2-135m-q4_1")
    if a.only in ("all", "dense"):
        with tempfile.TemporaryDirectory() as d:
            for arch in ("qwen2", "llama"):
                f = os.path.join(d, f"synth-{arch}.gguf")
                subprocess.run([a.bitmoe, "synth", "--arch", arch, "--seed", "42", "-o", f], check=True)
                golden(f, f"synth-{arch}-seed42")
    if a.only in ("all", "deepseek2"):
        deepseek2_goldens(a.bitmoe)
    if a.bench:
        for threads in (1, 2):
            pp, tg = bench(smol, threads)
            print(f"llama.cpp SmolLM2 Q4_1 t={threads}: pp128 {pp:.1f} t/s, tg64 {tg:.1f} t/s")


if __name__ == "__main__":
    main()
