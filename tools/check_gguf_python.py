#!/usr/bin/env python3
"""Cross-check bitmoe's GGUF reader and writer against the `gguf` package (PyPI).

1. gguf-py writes a file with every scalar value type, string and numeric arrays and
   tensors of several types; `bitmoe info --json --metadata --tensors` must report the
   same keys, types, shapes and byte sizes.
2. `bitmoe copy` rewrites that file and the real SmolLM2 model through bitmoe's writer;
   gguf-py must read the output with identical metadata values and tensor bytes, and
   the output must be byte-identical to the input (both are canonical layouts).

Usage: python3 -m pip install gguf numpy
       tools/check_gguf_python.py [--bitmoe target/release/bitmoe] [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]
Exit status 0 when everything matches; prints one line per check.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(bitmoe, *args):
    out = subprocess.run([bitmoe, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bitmoe {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def write_kitchen_sink(path):
    w = GGUFWriter(path, "llama")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -5)
    w.add_uint16("t.u16", 65000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 0.125)
    w.add_uint64("t.u64", 2**64 - 1)
    w.add_int64("t.i64", -(2**63))
    w.add_float64("t.f64", -1.5e300)
    w.add_bool("t.bool", True)
    w.add_string("t.string", "héllo <｜User｜>")
    w.add_array("a.str", ["a", "", "Ġthe"])
    w.add_array("a.i32", [-1, 3, 6])
    w.add_array("a.f32", [0.5, -0.25])
    rng = np.random.default_rng(7)
    w.add_tensor("output_norm.weight", rng.standard_normal(576).astype(np.float32))
    w.add_tensor("blk.0.attn_q.weight", rng.standard_normal((3, 64)).astype(np.float16))
    # Quantized tensors as raw bytes: Q8_0 [64, 2] = 4 blocks of 34 bytes, IQ1_S [256, 3] = 3 × 50.
    w.add_tensor("blk.0.attn_k.weight", rng.integers(0, 255, (2, 68), dtype=np.uint8),
                 raw_dtype=GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.ffn_up_exps.weight", rng.integers(0, 255, (3, 50), dtype=np.uint8),
                 raw_dtype=GGMLQuantizationType.IQ1_S)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def field_value(f):
    """A field's value as plain Python (scalars, strings, lists)."""
    t = f.types[0]
    if t == GGUFValueType.ARRAY:
        sub = f.types[1]
        if sub == GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode() for i in f.data]
        return [f.parts[i].tolist()[0] for i in f.data]
    if t == GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode()
    return f.parts[f.data[0]].tolist()[0]


def compare_readers(a_path, b_path):
    a, b = GGUFReader(a_path), GGUFReader(b_path)
    fa = {k: field_value(v) for k, v in a.fields.items() if not k.startswith("GGUF.")}
    fb = {k: field_value(v) for k, v in b.fields.items() if not k.startswith("GGUF.")}
    assert fa.keys() == fb.keys(), (fa.keys() ^ fb.keys())
    for k in fa:
        va, vb = fa[k], fb[k]
        same = va == vb or (isinstance(va, float) and np.isnan(va) and np.isnan(vb))
        assert same, f"{k}: {va!r} != {vb!r}"
    assert [t.name for t in a.tensors] == [t.name for t in b.tensors]
    for ta, tb in zip(a.tensors, b.tensors):
        assert ta.tensor_type == tb.tensor_type and list(ta.shape) == list(tb.shape), ta.name
        assert bytes(ta.data.tobytes()) == bytes(tb.data.tobytes()), f"{ta.name}: data differs"
    return len(fa), len(a.tensors)


def check_info(bitmoe, path):
    info = json.loads(run(bitmoe, "info", "-m", path, "--json", "--tensors", "--metadata"))
    r = GGUFReader(path)
    ours = {t["name"]: t for t in info["tensors"]}
    assert len(ours) == len(r.tensors)
    for t in r.tensors:
        o = ours[t.name]
        assert o["type"].lower() == t.tensor_type.name.lower(), (t.name, o["type"], t.tensor_type.name)
        assert o["shape"] == [int(x) for x in t.shape], (t.name, o["shape"], t.shape)
        assert o["bytes"] == int(t.n_bytes), (t.name, o["bytes"], t.n_bytes)
    keys = {k for k in r.fields if not k.startswith("GGUF.")}
    assert keys == set(info["metadata"]), keys ^ set(info["metadata"])
    return len(ours)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bitmoe", default=os.path.join(ROOT, "target/release/bitmoe"))
    p.add_argument("--model", default=os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        sink = os.path.join(d, "kitchen.gguf")
        write_kitchen_sink(sink)
        n = check_info(a.bitmoe, sink)
        print(f"ok  info matches gguf-py on a gguf-py-written file ({n} tensors)")
        inputs = [sink] + ([a.model] if os.path.exists(a.model) else [])
        for src in inputs:
            out = os.path.join(d, "copy.gguf")
            run(a.bitmoe, "copy", "-m", src, "-o", out)
            keys, tensors = compare_readers(src, out)
            identical = open(src, "rb").read() == open(out, "rb").read()
            assert identical, f"{src}: bitmoe copy is not byte-identical"
            print(f"ok  gguf-py reads bitmoe's rewrite of {os.path.basename(src)}: "
                  f"{keys} keys, {tensors} tensors equal, byte-identical")
        if a.model not in inputs:
            print(f"skipped {a.model}: missing (tools/fetch-smollm2.sh)")
        else:
            n = check_info(a.bitmoe, a.model)
            print(f"ok  info matches gguf-py on {os.path.basename(a.model)} ({n} tensors)")


if __name__ == "__main__":
    main()
