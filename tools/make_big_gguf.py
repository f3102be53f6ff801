#!/usr/bin/env python3
"""Write a multi-GB GGUF with DeepSeek-R1's true layer width (deepseek2 metadata, R1
tensor names and shapes, UD-IQ1_S-like types) filled with non-zero bytes, for measuring
how fast `bitmoe info` opens a big file and how little it touches. Not a runnable model:
the bytes are not meaningful weights (the synthetic model generator comes later).

Usage: tools/make_big_gguf.py OUT.gguf [--moe-layers 1]   (1 dense + 1 MoE layer ≈ 4.1 GB)
"""
import argparse
import struct

ALIGN = 32
# (type id, block size, bytes per block)
F32, Q4_K, Q6_K, IQ1_S = (0, 1, 4), (12, 256, 144), (14, 256, 210), (19, 256, 50)


def nbytes(ty, dims):
    n = 1
    for d in dims[1:]:
        n *= d
    return n * dims[0] // ty[1] * ty[2]


def tensors(moe_layers):
    d, vocab = 7168, 129280
    out = [("token_embd.weight", Q4_K, [d, vocab]), ("output_norm.weight", F32, [d]),
           ("output.weight", Q6_K, [d, vocab])]
    for i in range(1 + moe_layers):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", F32, [d]), (b + "attn_q_a.weight", Q4_K, [d, 1536]),
                (b + "attn_q_a_norm.weight", F32, [1536]), (b + "attn_q_b.weight", Q4_K, [1536, 24576]),
                (b + "attn_kv_a_mqa.weight", Q4_K, [d, 576]), (b + "attn_kv_a_norm.weight", F32, [512]),
                (b + "attn_kv_b.weight", Q6_K, [512, 32768]), (b + "attn_output.weight", Q4_K, [16384, d]),
                (b + "ffn_norm.weight", F32, [d])]
        if i == 0:
            out += [(b + "ffn_gate.weight", Q4_K, [d, 18432]), (b + "ffn_up.weight", Q4_K, [d, 18432]),
                    (b + "ffn_down.weight", Q6_K, [18432, d])]
        else:
            out += [(b + "ffn_gate_inp.weight", F32, [d, 256]), (b + "exp_probs_b.bias", F32, [256]),
                    (b + "ffn_gate_exps.weight", IQ1_S, [d, 2048, 256]),
                    (b + "ffn_up_exps.weight", IQ1_S, [d, 2048, 256]),
                    (b + "ffn_down_exps.weight", IQ1_S, [2048, d, 256]),
                    (b + "ffn_gate_shexp.weight", Q4_K, [d, 2048]), (b + "ffn_up_shexp.weight", Q4_K, [d, 2048]),
                    (b + "ffn_down_shexp.weight", Q6_K, [2048, d])]
    return out


def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--moe-layers", type=int, default=1)
    a = p.parse_args()
    ts = tensors(a.moe_layers)
    u32 = {"context_length": 163840, "embedding_length": 7168, "block_count": 1 + a.moe_layers,
           "feed_forward_length": 18432, "attention.head_count": 128, "attention.head_count_kv": 128,
           "attention.key_length": 192, "attention.value_length": 128, "rope.dimension_count": 64,
           "leading_dense_block_count": 1, "attention.q_lora_rank": 1536, "attention.kv_lora_rank": 512,
           "expert_count": 256, "expert_used_count": 8, "expert_shared_count": 1,
           "expert_feed_forward_length": 2048, "expert_gating_func": 2, "vocab_size": 129280}
    kv = [s("general.architecture") + struct.pack("<I", 8) + s("deepseek2"),
          s("general.name") + struct.pack("<I", 8) + s("big-r1-width-test")]
    kv += [s("deepseek2." + k) + struct.pack("<II", 4, v) for k, v in u32.items()]
    kv += [s("deepseek2.attention.layer_norm_rms_epsilon") + struct.pack("<If", 6, 1e-6)]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(ts), len(kv)) + b"".join(kv)
    off = 0
    for name, ty, dims in ts:
        head += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", x) for x in dims)
        head += struct.pack("<IQ", ty[0], off)
        off += -(-nbytes(ty, dims) // ALIGN) * ALIGN
    head += b"\0" * (-len(head) % ALIGN)
    chunk = bytes((i * 131 + 7) & 0xFF for i in range(8 << 20))
    with open(a.out, "wb") as f:
        f.write(head)
        left = off
        while left:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
    print(f"wrote {a.out}: {len(ts)} tensors, {len(head) + off} bytes")


if __name__ == "__main__":
    main()
