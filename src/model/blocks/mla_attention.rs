//! Multi-head latent attention (DeepSeek-V2/V3/R1, spec `deepseek2.md` §4.1, §4.3) in
//! the absorbed form, over a latent cache of `kv_lora + n_rot` values per token.
//!
//! For each token at position p: `h = rmsnorm(x)`; `q = W_q_b · rmsnorm(W_q_a · h)`
//! (or `W_q · h` without a q LoRA), viewed as heads of `[nope | rope]`;
//! `kv = W_kv_a · h` = `[c_kv (kv_lora) | k_pe (n_rot)]`; RoPE on every `q_pe` and on
//! `k_pe`; `c_kv = rmsnorm(c_kv)`; the cache row is `[c_kv | k_pe]`. Per head:
//! `q̃ = k_b[h] · q_nope` (kv_lora), query `[q̃ | q_pe]`, scores `kq_scale · Q·K(s)` over
//! the cached rows, softmax, `ō = Σ a_s c_kv(s)`, `o_h = v_b[h] · ō`; then
//! `x += W_o · concat(o_h)`. As in llama.cpp's (non-flash) attention over an f16 cache,
//! the query and the probabilities are rounded to f16 before their products: random
//! synthetic models have sharp attention, and leaving out either rounding alone moves
//! their logits by an NMSE of ~1e-3.
//!
//! `k_b` / `v_b` come from the file (new layout) or are derived at load from the legacy
//! `attn_kv_b` (§4.4): `v_b[h]` is a view of kv_b's V rows of head h (no copy); `k_b[h]`
//! is kv_b's K rows of head h transposed, quantized to Q8_0 with the scalar reference
//! quantizer into owned memory (the same bytes the new-layout synthetic files carry, so
//! both layouts compute identically).

use bitmoe_simd::{GgmlType, Isa, Kernels};
use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use super::dense_ffn::rms_norm_rows;
use super::linear::linear;
use super::Ctx;
use crate::kv_cache::KvCache;
use crate::model::ops::{dot, matmul_local, rms_norm, softmax, Activations, QMatrix, Rope};
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights, WeightsError};

/// Shapes of one MLA block.
#[derive(Debug, Clone, Copy)]
pub struct MlaShape {
    pub d: usize,
    pub n_head: usize,
    /// `None`: the query is one plain projection (`attn_q`, DeepSeek-V2-Lite).
    pub q_lora: Option<usize>,
    pub kv_lora: usize,
    pub nope: usize,
    pub rope: usize,
    pub v: usize,
    pub eps: f32,
    pub kq_scale: f32,
}

impl MlaShape {
    /// Values per token per layer in the latent cache.
    pub fn cache_dim(&self) -> usize {
        self.kv_lora + self.rope
    }

    fn qk(&self) -> usize {
        self.nope + self.rope
    }
}

#[derive(Debug)]
enum QProj {
    Lora {
        a: WeightRef,   // [d, q_lora]
        norm: Vec<f32>, // [q_lora]
        b: WeightRef,   // [q_lora, H·qk]
    },
    Plain(WeightRef), // [d, H·qk]
}

/// Where a per-head matrix's bytes live.
#[derive(Debug)]
enum HeadBytes {
    Mapped(WeightRef),
    Owned(Vec<u8>),
}

/// `n_head` matrices of `rows × k`, head `h` starting at row `first + h · stride` of
/// a row-major byte source.
#[derive(Debug)]
struct PerHead {
    bytes: HeadBytes,
    ty: GgmlType,
    k: usize,
    rows: usize,
    first: usize,
    stride: usize,
}

impl PerHead {
    fn head<'a>(&'a self, w: &'a Weights, h: usize) -> QMatrix<'a> {
        let bytes = match &self.bytes {
            HeadBytes::Mapped(r) => w.bytes(r),
            HeadBytes::Owned(v) => v,
        };
        let rb = self.ty.row_bytes(self.k).expect("checked at bind");
        let r0 = self.first + h * self.stride;
        QMatrix::new(
            self.ty,
            self.k,
            self.rows,
            &bytes[r0 * rb..(r0 + self.rows) * rb],
        )
        .expect("checked at bind")
    }
}

#[derive(Debug)]
pub struct MlaAttention {
    s: MlaShape,
    norm: Vec<f32>, // [d]
    q: QProj,
    kv_a: WeightRef,     // [d, kv_lora + rope]
    kv_a_norm: Vec<f32>, // [kv_lora]
    k_b: PerHead,        // per head [kv_lora rows × nope]
    v_b: PerHead,        // per head [v rows × kv_lora]
    wo: WeightRef,       // [H·v, d]
}

impl MlaAttention {
    pub fn bind(w: &Weights, layer: usize, s: MlaShape) -> Result<MlaAttention, ModelError> {
        use TensorKind::*;
        let h = s.n_head;
        let q = match s.q_lora {
            Some(r) => QProj::Lora {
                a: w.bind(AttnQA, layer, &[s.d, r])?,
                norm: w.f32_vector(AttnQANorm, layer, r)?,
                b: w.bind(AttnQB, layer, &[r, h * s.qk()])?,
            },
            None => QProj::Plain(w.bind(AttnQ, layer, &[s.d, h * s.qk()])?),
        };
        let (k_b, v_b) = match w.bind_optional(AttnKB, layer, &[s.nope, s.kv_lora, h])? {
            Some(k_b) => {
                let v_b = w.bind(AttnVB, layer, &[s.kv_lora, s.v, h])?;
                (
                    mapped_heads(k_b, s.nope, s.kv_lora, 0, s.kv_lora)?,
                    mapped_heads(v_b, s.kv_lora, s.v, 0, s.v)?,
                )
            }
            None => {
                let kv_b = w.bind(AttnKvB, layer, &[s.kv_lora, h * (s.nope + s.v)])?;
                let k_b = derive_k_b(w, &kv_b, s)?;
                (
                    k_b,
                    mapped_heads(kv_b, s.kv_lora, s.v, s.nope, s.nope + s.v)?,
                )
            }
        };
        Ok(MlaAttention {
            s,
            norm: w.f32_vector(AttnNorm, layer, s.d)?,
            q,
            kv_a: w.bind(AttnKvAMqa, layer, &[s.d, s.cache_dim()])?,
            kv_a_norm: w.f32_vector(AttnKvANorm, layer, s.kv_lora)?,
            k_b,
            v_b,
            wo: w.bind(AttnOutput, layer, &[h * s.v, s.d])?,
        })
    }

    /// Bytes this block owns beyond the mapped file (the derived `k_b`).
    pub fn owned_bytes(&self) -> usize {
        match &self.k_b.bytes {
            HeadBytes::Owned(v) => v.len(),
            HeadBytes::Mapped(_) => 0,
        }
    }

    /// `x`: `[n][d]` at positions `pos0..pos0+n`, updated in place.
    pub fn forward(
        &self,
        ctx: &Ctx<'_>,
        rope: &Rope,
        layer: usize,
        x: &mut [f32],
        pos0: usize,
        cache: &mut KvCache,
    ) -> Result<(), ModelError> {
        let s = self.s;
        let (nh, qk, cd, lora) = (s.n_head, s.qk(), s.cache_dim(), s.kv_lora);
        let n = x.len() / s.d;
        let h = rms_norm_rows(x, &self.norm, s.eps);
        let mut q = match &self.q {
            QProj::Lora { a, norm, b } => {
                let cq = rms_norm_rows(&linear(ctx, a, &h, None)?, norm, s.eps);
                linear(ctx, b, &cq, None)?
            }
            QProj::Plain(wq) => linear(ctx, wq, &h, None)?,
        };
        let mut kv = linear(ctx, &self.kv_a, &h, None)?;
        let (mut cos, mut sin) = (vec![0f32; s.rope / 2], vec![0f32; s.rope / 2]);
        let mut latent = vec![0f32; lora];
        for t in 0..n {
            rope.angles(pos0 + t, &mut cos, &mut sin);
            for head in q[t * nh * qk..(t + 1) * nh * qk].chunks_exact_mut(qk) {
                rope.apply(&mut head[s.nope..], s.rope, &cos, &sin);
            }
            let row = &mut kv[t * cd..(t + 1) * cd];
            rope.apply(&mut row[lora..], s.rope, &cos, &sin);
            rms_norm(&row[..lora], &self.kv_a_norm, s.eps, &mut latent);
            row[..lora].copy_from_slice(&latent);
            cache.store(layer, pos0 + t, row, &[])?;
        }

        // Queries in the latent space, per head over all tokens: [t][head][cd].
        let per_head: Vec<Vec<f32>> = ctx.pool.install(|| {
            (0..nh)
                .into_par_iter()
                .map(|hd| {
                    let nope: Vec<f32> = (0..n)
                        .flat_map(|t| {
                            let o = (t * nh + hd) * qk;
                            q[o..o + s.nope].iter().copied()
                        })
                        .collect();
                    head_product(ctx.kernels, &self.k_b.head(ctx.weights, hd), &nope)
                })
                .collect::<Result<_, ModelError>>()
        })?;
        let mut queries = vec![0f32; n * nh * cd];
        for (i, qr) in queries.chunks_exact_mut(cd).enumerate() {
            let (t, hd) = (i / nh, i % nh);
            qr[..lora].copy_from_slice(&per_head[hd][t * lora..(t + 1) * lora]);
            let o = (t * nh + hd) * qk + s.nope;
            qr[lora..].copy_from_slice(&q[o..o + s.rope]);
            for v in qr.iter_mut() {
                *v = f16::from_f32(*v).to_f32();
            }
        }

        // The cached rows, widened once for all heads.
        let len = pos0 + n;
        let mut keys = vec![0f32; len * cd];
        cache.keys(layer, len).convert_to_f32_slice(&mut keys);
        let mut latent_out = vec![0f32; n * nh * lora];
        ctx.pool.install(|| {
            latent_out
                .par_chunks_mut(lora)
                .zip(queries.par_chunks(cd))
                .enumerate()
                .for_each(|(i, (out, qr))| {
                    let visible = pos0 + i / nh + 1;
                    let mut scores: Vec<f32> = keys[..visible * cd]
                        .chunks_exact(cd)
                        .map(|k| dot(qr, k) * s.kq_scale)
                        .collect();
                    softmax(&mut scores);
                    // llama.cpp multiplies the f16 values by f16 probabilities.
                    for v in scores.iter_mut() {
                        *v = f16::from_f32(*v).to_f32();
                    }
                    out.fill(0.0);
                    for (k, &a) in keys.chunks_exact(cd).zip(&scores) {
                        for (o, v) in out.iter_mut().zip(&k[..lora]) {
                            *o += a * v;
                        }
                    }
                })
        });

        // Back from the latent space per head: o[t][head·v ..].
        let per_head: Vec<Vec<f32>> = ctx.pool.install(|| {
            (0..nh)
                .into_par_iter()
                .map(|hd| {
                    let lat: Vec<f32> = (0..n)
                        .flat_map(|t| {
                            let o = (t * nh + hd) * lora;
                            latent_out[o..o + lora].iter().copied()
                        })
                        .collect();
                    head_product(ctx.kernels, &self.v_b.head(ctx.weights, hd), &lat)
                })
                .collect::<Result<_, ModelError>>()
        })?;
        let mut o = vec![0f32; n * nh * s.v];
        for (i, orow) in o.chunks_exact_mut(s.v).enumerate() {
            let (t, hd) = (i / nh, i % nh);
            orow.copy_from_slice(&per_head[hd][t * s.v..(t + 1) * s.v]);
        }
        let y = linear(ctx, &self.wo, &o, None)?;
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}

/// `m · x` for `x`: `[n][m.k()]` on the calling thread.
fn head_product(kernels: &Kernels, m: &QMatrix<'_>, x: &[f32]) -> Result<Vec<f32>, ModelError> {
    let acts = Activations::quantize(kernels, m.ty(), x, m.k())?;
    let mut out = vec![0f32; acts.n() * m.rows()];
    matmul_local(kernels, m, &acts, &mut out)?;
    Ok(out)
}

fn mapped_heads(
    r: WeightRef,
    k: usize,
    rows: usize,
    first: usize,
    stride: usize,
) -> Result<PerHead, WeightsError> {
    Ok(PerHead {
        ty: r.ty,
        bytes: HeadBytes::Mapped(r),
        k,
        rows,
        first,
        stride,
    })
}

/// `k_b` from a legacy `attn_kv_b` (spec §4.4): head h's K rows (`nope` rows of
/// `kv_lora`) transposed to `kv_lora` rows of `nope`, quantized to Q8_0 (F32 when
/// `nope` is not a multiple of 32) with the scalar reference kernels, so the bytes do
/// not depend on the CPU.
fn derive_k_b(w: &Weights, kv_b: &WeightRef, s: MlaShape) -> Result<PerHead, ModelError> {
    let scalar = Kernels::new(Isa::Scalar);
    let (lora, nope, per_head) = (s.kv_lora, s.nope, s.nope + s.v);
    let src_rb = kv_b.ty.row_bytes(lora).expect("checked at bind");
    let dequantize = scalar.dequantize(kv_b.ty);
    let bytes = w.bytes(kv_b);
    let ty = if nope.is_multiple_of(32) {
        GgmlType::Q8_0
    } else {
        GgmlType::F32
    };
    let rb = ty.row_bytes(nope).expect("Q8_0 / F32 rows");
    let mut out = vec![0u8; s.n_head * lora * rb];
    let mut k_rows = vec![0f32; nope * lora];
    let mut row = vec![0f32; nope];
    for (hd, dst) in out.chunks_exact_mut(lora * rb).enumerate() {
        for j in 0..nope {
            let r = hd * per_head + j;
            dequantize(
                &bytes[r * src_rb..(r + 1) * src_rb],
                &mut k_rows[j * lora..(j + 1) * lora],
            );
        }
        for (c, d) in dst.chunks_exact_mut(rb).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = k_rows[j * lora + c];
            }
            match scalar.quantize(ty) {
                Some(quantize) if ty == GgmlType::Q8_0 => quantize(&row, d),
                _ => {
                    for (b, v) in d.chunks_exact_mut(4).zip(&row) {
                        b.copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
    }
    Ok(PerHead {
        bytes: HeadBytes::Owned(out),
        ty,
        k: nope,
        rows: lora,
        first: 0,
        stride: lora,
    })
}
