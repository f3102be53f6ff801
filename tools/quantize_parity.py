#!/usr/bin/env python3
"""A file `bitmoe quantize` writes runs in llama.cpp and in bitmoe with the same greedy
tokens (issue 8). Writes a synthetic F16 DeepSeek-R1-shaped model (r1-tiny, seed 42),
quantizes it with the built-in `ud-iq1_s` recipe, then generates 16 greedy tokens after
PROMPT with llama.cpp (llama-cpp-python; argmax of its logits, 2 threads) and with
`bitmoe run --temp 0`, and records llama.cpp's tokens as golden data for
tests/it/quantize.rs. It also checks that llama.cpp reads every tensor type we wrote by
comparing the `gguf` package's view of the file with the plan.

Usage: tools/quantize_parity.py [--bitmoe target/release/bitmoe] [--layout legacy|split]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

from deepseek2_ref import Model
from llama_cpp_golden import f32s, golden_moe, nmse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = os.environ.get("PROMPT", "She said hello")
N_GEN = 16


def fnv1a64(path):
    """FNV-1a 64 of a file: tests/it/quantize.rs compares it to tell a changed quantizer
    (regenerate this golden) from a changed forward pass (a bug)."""
    h = 0xcbf29ce484222325
    data = open(path, "rb").read()
    arr = np.frombuffer(data, dtype=np.uint8)
    for b in arr.tolist():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    p.add_argument("--layout", default="legacy")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "f16.gguf"), os.path.join(d, "q.gguf")
        subprocess.run([a.bitmoe, "synth", "--arch", "deepseek2", "--preset", "r1-tiny",
                        "--layout", a.layout, "--weights", "f16", "-o", src], check=True)
        subprocess.run([a.bitmoe, "quantize", src, out, "--recipe", "ud-iq1_s"], check=True)
        import gguf
        types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(out).tensors}
        file_hash = fnv1a64(out)
        g = golden_moe(out, PROMPT, N_GEN)
        prompt, theirs, margins = g["prompt_tokens"], g["greedy_tokens"], g["greedy_margins"]
        # The float64 reference on the same file and sequence: which engine an expert
        # flip moved away from the exact model (shared/spec/moe-fidelity.md).
        ref_logits, ref_margins = Model(out).forward(prompt + theirs)
        g["ref_all_logits"] = [f32s(row) for row in ref_logits]
        g["ref_nmse"] = nmse(ref_logits, g["all_logits"])
        layers = sorted({m[0] for m in ref_margins})
        g["ref_routing_margins"] = {
            str(il): f32s([m[2] for m in ref_margins if m[0] == il]) for il in layers}
        run = subprocess.run([a.bitmoe, "run", "-m", out, "-p", PROMPT, "-n", str(N_GEN),
                              "--temp", "0", "--json", "-t", "2"],
                             capture_output=True, text=True, check=True)
        ours = json.loads(run.stdout)
    same = sum(1 for x, y in zip(ours["tokens"], theirs) if x == y)
    print(f"layout {a.layout}: tensor types {sorted(set(types.values()))}")
    print(f"llama.cpp prompt {prompt} greedy {theirs}")
    print(f"bitmoe    prompt {ours['prompt_tokens']} greedy {ours['tokens']}")
    print(f"identical: {same}/{N_GEN}; llama.cpp's smallest top-2 margin {min(margins):.3f}")
    ref = np.asarray(g["ref_all_logits"], dtype=np.float64)
    theirs_all = np.asarray(g["all_logits"], dtype=np.float64)
    per = ((ref - theirs_all) ** 2).sum(-1) / (ref ** 2).sum(-1)
    print(f"llama.cpp vs float64 reference per position: {' '.join(f'{x:.1e}' for x in per)}")
    golden = os.path.join(ROOT, "tests", "data", "golden", f"quantized-r1-tiny-{a.layout}-ud-iq1_s.json")
    g["recipe"] = "ud-iq1_s"
    g["tensor_types"] = types
    g["quantized_fnv1a64"] = file_hash
    with open(golden, "w") as f:
        json.dump(g, f)
    print(f"wrote {golden}")


if __name__ == "__main__":
    main()
