#!/usr/bin/env python3
"""Float64 numpy reference of the deepseek2 forward pass, straight from a GGUF file.

An independent check of synthetic deepseek2 files (and of llama.cpp / bitmoe on them),
written from shared/spec/deepseek2.md §4-§6: MLA attention in the naive (legacy
attn_kv_b) or absorbed (attn_k_b / attn_v_b) form, YaRN RoPE (NORM pairing), sigmoid or
softmax routing with the selection bias and optional group-limited top-k, shared expert.
Weights are dequantized with the `gguf` package; activations are never quantized, so this
is the "exact" model the quantized engines approximate.

It also reports, per MoE layer and position, the routing margin: the gap between the
k-th and (k+1)-th selection score (sigmoid + bias). Small margins are where engines may
legitimately pick different experts (shared/spec/moe-fidelity.md).

Usage: tools/deepseek2_ref.py MODEL.gguf TOKEN [TOKEN ...]  (prints logits' argmax per
position and the smallest routing margins). Import `Model` for programmatic use. Slow for
R1-wide files (it dequantizes whole expert tensors); meant for r1-tiny.
"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class Model:
    def __init__(self, path):
        r = GGUFReader(path)
        self.kv = {}
        for name, f in r.fields.items():
            if len(f.types) == 1 and f.types[0].name not in ("STRING", "ARRAY"):
                self.kv[name] = f.parts[-1][0].item()
        self.t = {t.name: t for t in r.tensors}
        a = "deepseek2."
        g = lambda k, d=None: self.kv.get(a + k, d)
        self.n_layer = g("block_count")
        self.n_head = g("attention.head_count")
        self.n_rot = g("rope.dimension_count")
        self.split = g("attention.key_length_mla") is not None
        self.qk = g("attention.key_length_mla") if self.split else g("attention.key_length")
        self.v = g("attention.value_length_mla") if self.split else g("attention.value_length")
        self.nope = self.qk - self.n_rot
        self.kv_lora = g("attention.kv_lora_rank")
        self.eps = g("attention.layer_norm_rms_epsilon")
        self.dense_lead = g("leading_dense_block_count", 0)
        self.n_used = g("expert_used_count")
        self.scale = g("expert_weights_scale", 1.0)
        self.norm_w = bool(g("expert_weights_norm", False))
        self.gating = g("expert_gating_func", 1)
        self.groups = g("expert_group_count", 0) or 0
        self.top_groups = g("expert_group_used_count", 0) or 0
        self.base = g("rope.freq_base", 10000.0)
        self.factor = g("rope.scaling.factor", 1.0)
        self.orig_ctx = g("rope.scaling.original_context_length", 4096)
        self.log_mul = g("rope.scaling.yarn_log_multiplier", 0.0)
        self._cache = {}

    def w(self, name):
        """Dequantized tensor as float64 in numpy order (reversed GGUF dims)."""
        if name not in self._cache:
            t = self.t[name]
            self._cache[name] = dequantize(t.data, t.tensor_type).astype(np.float64)
        return self._cache[name]

    def has(self, name):
        return name in self.t

    def rms(self, x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * g

    def rope(self, x, pos):
        """NORM (adjacent pairs) YaRN RoPE on the last axis of x [..., n_rot] at positions pos."""
        n = self.n_rot
        i = np.arange(n // 2)
        extrap = pos[:, None] * self.base ** (-2.0 * i / n)[None, :]
        fs = 1.0 / self.factor
        if self.factor != 1.0:
            corr = lambda b: n * np.log(self.orig_ctx / (b * 2 * np.pi)) / (2 * np.log(self.base))
            low, high = max(0.0, np.floor(corr(32.0))), min(n - 1.0, np.ceil(corr(1.0)))
            ramp = 1 - np.clip((i - low) / max(0.001, high - low), 0, 1)
            theta = extrap * fs * (1 - ramp) + extrap * ramp
        else:
            theta = extrap
        c, s = np.cos(theta), np.sin(theta)
        shape = [len(pos)] + [1] * (x.ndim - 2) + [n // 2]
        c, s = c.reshape(shape), s.reshape(shape)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def attention(self, il, h, pos):
        p = f"blk.{il}."
        T, H = h.shape[0], self.n_head
        cq = self.rms(h @ self.w(p + "attn_q_a.weight").T, self.w(p + "attn_q_a_norm.weight"))
        q = (cq @ self.w(p + "attn_q_b.weight").T).reshape(T, H, self.qk)
        q_nope, q_pe = q[..., : self.nope], self.rope(q[..., self.nope:], pos)
        kv = h @ self.w(p + "attn_kv_a_mqa.weight").T
        c = self.rms(kv[:, : self.kv_lora], self.w(p + "attn_kv_a_norm.weight"))
        k_pe = self.rope(kv[:, self.kv_lora:], pos)  # [T, rot]
        if self.split:
            k_b = self.w(p + "attn_k_b.weight")  # [H, kv_lora, nope]
            v_b = self.w(p + "attn_v_b.weight")  # [H, v, kv_lora]
        else:
            kvb = self.w(p + "attn_kv_b.weight").reshape(H, self.nope + self.v, self.kv_lora)
            k_b = kvb[:, : self.nope, :].transpose(0, 2, 1)
            v_b = kvb[:, self.nope:, :]
        mscale = 1.0 + 0.1 * (self.log_mul / 0.1) * np.log(self.factor) if self.log_mul else 1.0
        kq_scale = mscale * mscale / np.sqrt(self.qk)
        q_abs = np.einsum("thn,hcn->thc", q_nope, k_b)  # [T, H, kv_lora]
        scores = (np.einsum("thc,sc->hts", q_abs, c) + np.einsum("thr,sr->hts", q_pe, k_pe)) * kq_scale
        scores = scores + np.triu(np.full((T, T), -np.inf), 1)[None]
        a = np.exp(scores - scores.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o_lat = np.einsum("hts,sc->thc", a, c)
        o = np.einsum("thc,hvc->thv", o_lat, v_b).reshape(T, H * self.v)
        return o @ self.w(p + "attn_output.weight").T

    @staticmethod
    def swiglu(x, g, u, d):
        a = x @ g.T
        return ((a / (1 + np.exp(-a))) * (x @ u.T)) @ d.T

    def moe(self, il, x, margins):
        p = f"blk.{il}."
        logits = x @ self.w(p + "ffn_gate_inp.weight").T  # [T, E]
        if self.gating == 2:
            probs = 1 / (1 + np.exp(-logits))
        else:
            probs = np.exp(logits - logits.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
        sel = probs + (self.w(p + "exp_probs_b.bias") if self.has(p + "exp_probs_b.bias") else 0)
        E = probs.shape[1]
        if self.groups > 1:
            gs = sel.reshape(len(x), self.groups, E // self.groups)
            gscore = np.sort(gs, -1)[..., -2:].sum(-1)
            drop = np.argsort(-gscore, -1, kind="stable")[:, self.top_groups:]
            sel = sel.copy()
            for t in range(len(x)):
                for g in drop[t]:
                    sel[t, g * (E // self.groups):(g + 1) * (E // self.groups)] = -np.inf
        gate = self.w(p + "ffn_gate_exps.weight")
        up = self.w(p + "ffn_up_exps.weight")
        down = self.w(p + "ffn_down_exps.weight")
        out = np.zeros_like(x)
        for t in range(len(x)):
            order = np.argsort(-sel[t], kind="stable")
            chosen = order[: self.n_used]
            nxt = sel[t, order[self.n_used]] if self.n_used < E else -np.inf
            margins.append((il, t, float(sel[t, chosen[-1]] - nxt)))
            wts = probs[t, chosen]
            if self.norm_w:
                wts = wts / max(wts.sum(), 6.103515625e-5)
            wts = wts * self.scale
            for e, we in zip(chosen, wts):
                out[t] += we * self.swiglu(x[t:t + 1], gate[e], up[e], down[e])[0]
        sh = self.swiglu(x, self.w(p + "ffn_gate_shexp.weight"), self.w(p + "ffn_up_shexp.weight"),
                         self.w(p + "ffn_down_shexp.weight"))
        return out + sh

    def forward(self, tokens):
        """Logits [T, vocab] for all positions and the routing margins [(layer, pos, margin)]."""
        tokens = np.asarray(tokens)
        x = self.w("token_embd.weight")[tokens]
        pos = np.arange(len(tokens), dtype=np.float64)
        margins = []
        for il in range(self.n_layer):
            p = f"blk.{il}."
            x = x + self.attention(il, self.rms(x, self.w(p + "attn_norm.weight")), pos)
            h2 = self.rms(x, self.w(p + "ffn_norm.weight"))
            if il < self.dense_lead:
                x = x + self.swiglu(h2, self.w(p + "ffn_gate.weight"), self.w(p + "ffn_up.weight"),
                                    self.w(p + "ffn_down.weight"))
            else:
                x = x + self.moe(il, h2, margins)
        x = self.rms(x, self.w("output_norm.weight"))
        return x @ self.w("output.weight").T, margins


def main():
    m = Model(sys.argv[1])
    logits, margins = m.forward([int(t) for t in sys.argv[2:]])
    print("argmax:", logits.argmax(-1).tolist())
    print("smallest routing margins (layer, pos, margin):",
          sorted(margins, key=lambda x: x[2])[:5])


if __name__ == "__main__":
    main()
