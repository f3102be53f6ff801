#!/usr/bin/env python3
"""`bitmoe bench` next to llama.cpp's `llama-bench` on the same file, threads and tests,
alternating the two tools per repetition block so machine noise hits both (issue 7).

Both run the same llama-bench tests (-p, -n, -t, -r); the table has mean ± sd t/s for
each and the ratio of the means, plus bitmoe's extra columns (disk MB/token, share of
memory bandwidth). llama-bench is built from llama.cpp's source (see
tools/llama_cpp_golden.py for the AMX-free flags), e.g.
  cmake -B /tmp/llama-build -DLLAMA_BUILD_TOOLS=ON -DGGML_NATIVE=ON \\
    -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' ... && \\
  cmake --build /tmp/llama-build --target llama-bench

Usage: tools/bench_vs_llama.py -m MODEL [-p 512] [-n 128] [-t 2] [-r 3] [--rounds 2]
"""
import argparse
import json
import os
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-p", default="512")
    ap.add_argument("-n", default="128")
    ap.add_argument("-t", default="2")
    ap.add_argument("-r", default="3")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two tools")
    ap.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    ap.add_argument("--llama-bench", default="/tmp/llama-build/bin/llama-bench")
    a = ap.parse_args()
    common = ["-m", a.model, "-p", a.p, "-n", a.n, "-t", a.t, "-r", a.r, "-o", "json"]
    ours, theirs = {}, {}
    for _ in range(a.rounds):
        for r in run_json([a.llama_bench] + common):
            key = ("pp" if r["n_gen"] == 0 else "tg") + str(r["n_prompt"] or r["n_gen"])
            theirs.setdefault((key, r["n_threads"]), []).extend(r["samples_ts"])
        for r in run_json([a.bitmoe, "bench"] + common):
            ours.setdefault((r["test"], r["n_threads"]), []).append(r)
    print("| threads | test | llama-bench t/s | bitmoe t/s | ratio | bitmoe disk read/token | bitmoe mem BW |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for (test, t), rows in ours.items():
        samples = [s for r in rows for s in r["samples_ts"]]
        m, sd = statistics.mean(samples), statistics.stdev(samples) if len(samples) > 1 else 0.0
        th = theirs.get((test, t), [])
        tm = statistics.mean(th) if th else float("nan")
        tsd = statistics.stdev(th) if len(th) > 1 else 0.0
        disk = rows[-1].get("storage_read_bytes_per_token")
        bw = rows[-1].get("mem_bw_fraction")
        probe = rows[-1]["mem_bw_gbps"]
        disk_s = "-" if disk is None else f"{disk / 1e6:.1f} MB"
        bw_s = "-" if bw is None else f"{100 * bw:.0f} % of {probe:.1f} GB/s"
        print(f"| {t} | {test} | {tm:.2f} ± {tsd:.2f} | {m:.2f} ± {sd:.2f} | {m / tm:.2f} | "
              f"{disk_s} | {bw_s} |")
    r0 = next(iter(ours.values()))[0]
    print(f"\nbitmoe {r0['bitmoe_version']} ({r0['build_commit']}), {r0['cpu_info']}, ISA {r0['isa']}; "
          f"model {r0['model_type']}, {a.rounds} rounds of -r {a.r} per tool, alternating")


if __name__ == "__main__":
    main()
