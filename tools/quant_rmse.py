#!/usr/bin/env python3
"""Quantization error of bitmoe's weight quantizers against llama.cpp's.

On the same f32 inputs, quantizes with
  * bitmoe: `simd/examples/quantize_raw.rs` (built in release mode), and
  * llama.cpp: `ggml_quantize_chunk` from llama-cpp-python's libggml-base (ctypes),
dequantizes both with the `gguf` package (an independent decoder) and prints a markdown
table of the error relative to the data's RMS, without and with a random positive
importance vector (the imatrix): the plain RMSE for the former and the
importance-weighted RMSE sqrt(sum q e^2 / sum q) for the latter.

llama.cpp refuses IQ1_S and IQ2_XXS without an imatrix; for those the "no importance"
llama.cpp column is run with an all-ones imatrix (marked *), which is what bitmoe does
when given none.

    python3 tools/quant_rmse.py                  # all types, all data sets
    python3 tools/quant_rmse.py --types q4_K,iq1_s --data gauss

Inputs: "gauss" (normal rows), "heavy" (Student-t, 3 degrees of freedom), and
"smollm": blk.{0,15}.ffn_down.weight of models/SmolLM2-135M-Instruct.Q4_1.gguf,
dequantized (rows of 1536). Q4_1 values are exactly representable in Q5_1 (same d and m,
codes 0..15), so a Q5_1 error of 0 there is a quantizer that found that grid.
"""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import threading

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/llama_cpp/lib/libggml-base.so"
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
TYPES = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K", "q2_K", "q3_K",
         "tq1_0", "tq2_0", "iq4_xs", "iq4_nl", "iq1_s", "iq1_m", "iq2_xxs"]
QTYPE = {
    "q8_0": T.Q8_0, "q4_0": T.Q4_0, "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1,
    "q4_K": T.Q4_K, "q5_K": T.Q5_K,
    "q6_K": T.Q6_K, "q2_K": T.Q2_K, "q3_K": T.Q3_K, "tq1_0": T.TQ1_0, "tq2_0": T.TQ2_0,
    "iq4_xs": T.IQ4_XS, "iq4_nl": T.IQ4_NL, "iq1_s": T.IQ1_S, "iq1_m": T.IQ1_M, "iq2_xxs": T.IQ2_XXS,
}
NEEDS_IMATRIX = {"iq1_s", "iq2_xxs"}


def row_bytes(t, n):
    block, nbytes = {
        "q8_0": (32, 34), "q4_0": (32, 18), "q4_1": (32, 20), "q5_0": (32, 22),
        "q5_1": (32, 24), "iq4_nl": (32, 18), "q4_K": (256, 144),
        "q5_K": (256, 176), "q6_K": (256, 210), "q2_K": (256, 84), "q3_K": (256, 110),
        "tq1_0": (256, 54), "tq2_0": (256, 66), "iq4_xs": (256, 136), "iq1_s": (256, 50),
        "iq1_m": (256, 56), "iq2_xxs": (256, 66),
    }[t]
    return n // block * nbytes


class Llama:
    def __init__(self):
        self.lib = ctypes.CDLL(LIB)
        self.lib.ggml_quantize_chunk.argtypes = [
            ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
            ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        self.lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        self.lib.ggml_quantize_init.argtypes = [ctypes.c_int]

    def quantize(self, t, x, imatrix):
        rows, n = x.shape
        qt = int(QTYPE[t])
        self.lib.ggml_quantize_init(qt)  # not thread-safe: once, before the workers
        rb = row_bytes(t, n)
        out = np.zeros(rows * rb, dtype=np.uint8)
        x = np.ascontiguousarray(x, dtype=np.float32)
        imp = None if imatrix is None else np.ascontiguousarray(imatrix, dtype=np.float32)
        nthreads = os.cpu_count() or 1
        per = -(-rows // nthreads)

        def work(r0):
            r1 = min(rows, r0 + per)
            if r1 <= r0:
                return
            # ctypes releases the GIL for the call, so the chunks run in parallel.
            self.lib.ggml_quantize_chunk(
                qt, x[r0:r1].ctypes.data, out[r0 * rb:].ctypes.data, 0, r1 - r0, n,
                None if imp is None else imp.ctypes.data)

        ths = [threading.Thread(target=work, args=(r0,)) for r0 in range(0, rows, per)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        return out.reshape(rows, rb)


def ours(t, x, imatrix, tmp):
    rows, n = x.shape
    src = os.path.join(tmp, "x.f32")
    dst = os.path.join(tmp, "q.bin")
    x.astype("<f4").tofile(src)
    cmd = [os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                        "release", "examples", "quantize_raw"), src, t, str(n), dst]
    if imatrix is not None:
        imp = os.path.join(tmp, "imp.f32")
        imatrix.astype("<f4").tofile(imp)
        cmd.append(imp)
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return np.fromfile(dst, dtype=np.uint8).reshape(rows, row_bytes(t, n))


def datasets(names, seed):
    rng = np.random.default_rng(seed)
    out = {}
    if "gauss" in names:
        out["gauss"] = rng.standard_normal((64, 4096)).astype(np.float32)
    if "heavy" in names:
        out["heavy"] = rng.standard_t(3, (64, 4096)).astype(np.float32)
    if "smollm" in names:
        r = GGUFReader(MODEL)
        ts = {t.name: t for t in r.tensors}
        xs = [dequantize(ts[f"blk.{b}.ffn_down.weight"].data, ts[f"blk.{b}.ffn_down.weight"].tensor_type)
              for b in (0, 15)]
        out["smollm"] = np.concatenate(xs).astype(np.float32)
    return out


def rel_err(x, y, q=None):
    e2 = (x.astype(np.float64) - y) ** 2
    if q is None:
        return np.sqrt(e2.mean() / (x.astype(np.float64) ** 2).mean())
    return np.sqrt((e2 * q).sum() / ((x.astype(np.float64) ** 2) * q).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--data", default="gauss,heavy,smollm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "bitmoe-simd", "--example", "quantize_raw"],
                       check=True, cwd=ROOT)
    llama = Llama()
    data = datasets(args.data.split(","), args.seed)
    rng = np.random.default_rng(args.seed + 1)
    print("Relative error = RMSE / RMS(x); with importance q: sqrt(Σ q·e²) / sqrt(Σ q·x²).")
    print("ratio = ours / llama.cpp (< 1: ours is better).\n")
    print("| type | data | rows×n | no importance: ours | llama.cpp | ratio | importance: ours | llama.cpp | ratio |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for t in args.types.split(","):
            for name, x in data.items():
                n = x.shape[1]
                imp = np.exp(rng.standard_normal(n)).astype(np.float32)
                cells = []
                for q in (None, imp):
                    lq = q
                    star = ""
                    if q is None and t in NEEDS_IMATRIX:
                        lq, star = np.ones(n, dtype=np.float32), "*"
                    a = dequantize(ours(t, x, q, tmp), QTYPE[t]).reshape(x.shape)
                    b = dequantize(llama.quantize(t, x, lq), QTYPE[t]).reshape(x.shape)
                    ea, eb = rel_err(x, a, q), rel_err(x, b, q)
                    cells += [f"{ea:.5f}", f"{eb:.5f}{star}", f"{ea / eb:.3f}" if eb > 0 else "-"]
                print(f"| {t} | {name} | {x.shape[0]}×{n} | " + " | ".join(cells) + " |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
