#!/usr/bin/env python3
"""Check `bitmoe dump` against the `gguf` package's dequantizers, type by type.

gguf-py writes one tensor per type (random blocks whose f16 scales are sane normal
numbers), `bitmoe dump` writes each as .npy, and the values must equal
`gguf.quants.dequantize` of the same bytes exactly (max |diff| and mismatches printed).

Usage: tools/check_dump_python.py [--bitmoe target/release/bitmoe]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
         "Q5_K", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
         "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0"]
K, ROWS = 512, 3


def sane_bytes(rng, n):
    """Random bytes in which any two adjacent bytes read as f16 are normal, 1/4..1."""
    r = rng.integers(0, 256, n, dtype=np.uint8)
    return (r & 0b1000_0011) | (0b01101 << 2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    a = p.parse_args()
    rng = np.random.default_rng(11)
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "types.gguf")
        w = GGUFWriter(path, "llama")
        raw = {}
        for name in TYPES:
            t = T[name]
            block, size = GGML_QUANT_SIZES[t]
            nbytes = K // block * size
            if name == "F32":
                data = rng.standard_normal((ROWS, K)).astype(np.float32)
            elif name == "F16":
                data = rng.standard_normal((ROWS, K)).astype(np.float16)
            else:
                data = sane_bytes(rng, ROWS * nbytes).reshape(ROWS, nbytes)
            raw[name] = data
            w.add_tensor(f"t.{name.lower()}", data, raw_dtype=None if name in ("F32", "F16") else t)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        for name in TYPES:
            out = os.path.join(d, f"{name}.npy")
            r = subprocess.run([a.bitmoe, "dump", "-m", path, f"t.{name.lower()}", "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name}: bitmoe dump failed: {r.stderr.strip()}")
                failed += 1
                continue
            ours = np.load(out)
            data = raw[name]
            theirs = data.astype(np.float32) if name in ("F32", "F16") else dequantize(data, T[name])
            theirs = np.asarray(theirs, dtype=np.float32).reshape(ROWS, K)
            if ours.shape != theirs.shape:
                print(f"FAIL {name}: shape {ours.shape} vs {theirs.shape}")
                failed += 1
                continue
            diff = np.abs(ours - theirs)
            mism = int(np.sum(ours.view(np.uint32) != theirs.view(np.uint32)))
            status = "ok  " if mism == 0 else "FAIL"
            failed += mism != 0
            print(f"{status} {name:8s} {ours.size} values, {mism} differ, max |diff| {diff.max():.3g}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
