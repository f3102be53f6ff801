#!/usr/bin/env python3
"""Turn criterion results of `cargo bench --bench kernels` into the README's tables.

Reads target/criterion/**/new/{benchmark,estimates}.json, takes each benchmark's median
time and its byte throughput, and prints markdown: GEMV GB/s per type × ISA × threads
(and % of the read-bandwidth probe at the same thread count), GEMM GB/s and GFLOP/s,
and single-row dot GB/s.

Usage: tools/kernel_table.py [--criterion target/criterion]
"""
import argparse
import glob
import json
import os
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(crit):
    out = {}
    for bench in glob.glob(os.path.join(crit, "**", "new", "benchmark.json"), recursive=True):
        b = json.load(open(bench))
        est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
        median_ns = est["median"]["point_estimate"]
        thr = b.get("throughput") or {}
        nbytes = thr.get("Bytes") or thr.get("BytesDecimal")
        out[b["full_id"]] = (median_ns, nbytes)
    return out


def gbps(entry):
    ns, nbytes = entry
    return nbytes / ns if nbytes else float("nan")  # bytes/ns == GB/s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--criterion", default=os.path.join(ROOT, "target", "criterion"))
    a = p.parse_args()
    r = load(a.criterion)
    bw = {t: gbps(r[f"membw/read/t{t}"]) for t in (1, 2) if f"membw/read/t{t}" in r}
    print("Read bandwidth probe (4 GiB): " + ", ".join(f"{t} thread{'s' if t > 1 else ''} {v:.1f} GB/s" for t, v in bw.items()))
    print()
    # gemv/{type}/{isa}/t{T}/{rows}x{k}_{label}
    gemv = defaultdict(dict)
    shapes = []
    for full_id, e in r.items():
        parts = full_id.split("/")
        if parts[0] != "gemv":
            continue
        _, ty, isa, threads, shape = parts
        col = f"{shape} {threads}"
        if col not in shapes:
            shapes.append(col)
        gemv[(ty, isa)][col] = (gbps(e), int(threads[1:]))
    shapes.sort(key=lambda c: (c.split()[1] != "t1", c))
    print("GEMV, GB/s of weights streamed (% of the read probe at the same thread count):")
    print()
    print("| type | ISA | " + " | ".join(shapes) + " |")
    print("|---|---|" + "---:|" * len(shapes))
    for (ty, isa) in sorted(gemv):
        cells = []
        for c in shapes:
            v = gemv[(ty, isa)].get(c)
            cells.append("" if v is None else f"{v[0]:.1f} ({100 * v[0] / bw.get(v[1], float('nan')):.0f}%)")
        print(f"| {ty} | {isa} | " + " | ".join(cells) + " |")
    print()
    # ids: gemm/{type}/{isa}/t2/{rows}x{k}/n={n}
    gemm = defaultdict(dict)
    for full_id, e in r.items():
        parts = full_id.split("/")
        if parts[0] == "gemm" and len(parts) == 6:
            _, ty, isa, _, shape, n = parts
            rows, k = (int(v) for v in shape.split("x"))
            n = int(n.split("=")[1])
            gemm[(shape, ty, isa)][n] = (gbps(e), 2 * rows * k * n / e[0])
    for shape in sorted({s for s, _, _ in gemm}, key=lambda s: (s != "2048x7168", s)):
        keys = sorted(k for k in gemm if k[0] == shape)
        ns = sorted({n for k in keys for n in gemm[k]})
        print(f"GEMM {shape.replace('x', '×')}, 2 threads: GB/s of weights (GFLOP/s):")
        print()
        print("| type | ISA | " + " | ".join(f"n={n}" for n in ns) + " |")
        print("|---|---|" + "---:|" * len(ns))
        for key in keys:
            g = gemm[key]
            cells = [f"{g[n][0]:.1f} ({g[n][1]:.0f})" if n in g else "" for n in ns]
            print(f"| {key[1]} | {key[2]} | " + " | ".join(cells) + " |")
        print()
    print("Single-row dot, k=7168, in cache: GB/s")
    print()
    dots = defaultdict(dict)
    isas = []
    for full_id, e in r.items():
        parts = full_id.split("/")
        if parts[0] == "dot":
            _, ty, isa, _ = parts
            dots[ty][isa] = gbps(e)
            if isa not in isas:
                isas.append(isa)
    print("| type | " + " | ".join(isas) + " |")
    print("|---|" + "---:|" * len(isas))
    for ty in sorted(dots):
        print(f"| {ty} | " + " | ".join(f"{dots[ty].get(i, float('nan')):.1f}" for i in isas) + " |")


if __name__ == "__main__":
    main()
