#!/usr/bin/env python3
"""bitmoe vs llama.cpp (llama-cpp-python) throughput on the same file, same threads, in
one script: prompt processing (pp) and generation (tg), best of 3 runs each for both
(llama.cpp's Python loop adds ~0.05 ms per generated token; `bitmoe bench -r 3`, its best
sample). Best-of-3 on both sides, because the machine is shared and noisy.

Usage: tools/compare_speed.py [-m MODEL] [-p 128] [-n 64] [-t 1,2]
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def llama_cpp(path, threads, n_prompt, n_gen):
    llm = Llama(model_path=path, n_ctx=n_prompt + n_gen + 8, n_batch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False)
    vocab = llm.n_vocab()
    prompt = [int(x) for x in np.random.default_rng(0).integers(0, min(vocab, 20000), n_prompt)]
    pp, tg = 0.0, 0.0
    for _ in range(3):
        llm.reset()
        t = time.perf_counter()
        llm.eval(prompt)
        pp = max(pp, n_prompt / (time.perf_counter() - t))
        llm.reset()
        llm.eval(prompt[:1])
        t = time.perf_counter()
        for i in range(n_gen):
            llm.eval([prompt[i % n_prompt]])
        tg = max(tg, n_gen / (time.perf_counter() - t))
    return pp, tg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-m", "--model", default=os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("-p", type=int, default=128)
    p.add_argument("-n", type=int, default=64)
    p.add_argument("-t", default="1,2")
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    a = p.parse_args()
    out = subprocess.run([a.bitmoe, "bench", "-m", a.model, "-p", str(a.p), "-n", str(a.n), "-t", a.t,
                          "-r", "3", "-o", "json"], capture_output=True, text=True, check=True)
    ours = {(r["test"], r["threads"]): max(r["samples_ts"]) for r in json.loads(out.stdout)}
    print(f"| threads | test | llama.cpp t/s | bitmoe t/s | ratio |")
    print(f"|---:|---|---:|---:|---:|")
    for t in [int(x) for x in a.t.split(",")]:
        pp, tg = llama_cpp(a.model, t, a.p, a.n)
        for test, theirs in ((f"pp{a.p}", pp), (f"tg{a.n}", tg)):
            us = ours[(test, t)]
            print(f"| {t} | {test} | {theirs:.1f} | {us:.1f} | {us / theirs:.2f} |")


if __name__ == "__main__":
    main()
