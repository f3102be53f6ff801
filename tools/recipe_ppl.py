#!/usr/bin/env python3
"""What a quantization recipe costs, measured the way llama.cpp users measure it (issue 8).

SmolLM2-135M-Instruct's Q4_1 weights are dequantized to F32 (`bitmoe quantize --recipe
tools/recipes/f32.toml --allow-requantize`), an importance matrix is collected with
`bitmoe imatrix` on a calibration text, and the F32 model is quantized with a uniform
~1.58-bit recipe and a dynamic one of about the same size (tools/recipes/). Then the
perplexity of each file and of the Q4_1 original is measured on a different text with
`bitmoe perplexity` and with llama.cpp's `llama-perplexity` (same files, same -c, same
chunks). Prints a markdown table.

Texts (Debian's /usr/share/common-licenses, present on any Debian/Ubuntu): calibration
GFDL-1.3, evaluation GPL-3.

Usage: tools/recipe_ppl.py [--bitmoe target/release/bitmoe]
         [--llama-perplexity /tmp/llama-build/bin/llama-perplexity] [-c 512] [--chunks 12]
"""
import argparse
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALIB = "/usr/share/common-licenses/GFDL-1.3"
EVAL = "/usr/share/common-licenses/GPL-3"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    return p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    ap.add_argument("--llama-perplexity", default="/tmp/llama-build/bin/llama-perplexity")
    ap.add_argument("-c", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=12)
    ap.add_argument("-t", default="2")
    a = ap.parse_args()
    b = a.bitmoe
    src = os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    with tempfile.TemporaryDirectory() as d:
        f32 = os.path.join(d, "f32.gguf")
        run([b, "quantize", src, f32, "--recipe", os.path.join(ROOT, "tools/recipes/f32.toml"),
             "--allow-requantize"])
        imat = os.path.join(d, "imatrix.gguf")
        run([b, "imatrix", "-m", f32, "-f", CALIB, "-o", imat, "-c", str(a.c), "-t", a.t])
        files = {"Q4_1 (original)": src}
        for r in ("smollm2-uniform-iq1_s", "smollm2-dynamic"):
            out = os.path.join(d, f"{r}.gguf")
            run([b, "quantize", f32, out, "--recipe", os.path.join(ROOT, f"tools/recipes/{r}.toml"),
                 "--imatrix", imat, "-t", a.t])
            files[r] = out
        print(f"| file | size | bits/weight | PPL bitmoe | PPL llama.cpp |")
        print(f"|---|---:|---:|---:|---:|")
        for name, path in files.items():
            ours = run([b, "perplexity", "-m", path, "-f", EVAL, "-c", str(a.c), "--chunks",
                        str(a.chunks), "-t", a.t])
            ppl_ours = float(re.search(r"PPL = ([0-9.]+)", ours).group(1))
            theirs = run([a.llama_perplexity, "-m", path, "-f", EVAL, "-c", str(a.c), "--chunks",
                          str(a.chunks), "-t", a.t, "-b", str(a.c)])
            ppl_theirs = float(re.search(r"Final estimate: PPL = ([0-9.]+)", theirs).group(1))
            info = run([b, "info", "-m", path, "--json"])
            import json
            j = json.loads(info)
            size, n = j["total"]["bytes"], j["total"]["elements"]
            print(f"| {name} | {size / 2**20:.2f} MiB | {8 * size / n:.2f} | {ppl_ours:.3f} | "
                  f"{ppl_theirs:.3f} |", flush=True)


if __name__ == "__main__":
    main()
