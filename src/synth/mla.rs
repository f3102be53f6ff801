//! The split MLA tensors `attn_k_b` / `attn_v_b`, derived from a legacy `attn_kv_b`
//! exactly as spec `deepseek2.md` §4.4 prescribes (and as the engine derives them when
//! it loads a legacy file), so a split synthetic file carries the same attention
//! weights as the legacy file of the same seed.
//!
//! ```text
//! attn_kv_b  {kv_lora, n_head·(nope + v)}   row 256h+j (R1 sizes): head h, j < nope: K, else V
//! attn_k_b   {nope, kv_lora, n_head}        slice h = (K rows of head h)ᵀ, requantized Q8_0
//! attn_v_b   {kv_lora, v, n_head}           slice h = V rows of head h, bytes copied
//! ```
//!
//! K rows are dequantized and `k_b` quantized with the scalar reference kernels of
//! `bitmoe_simd` only, so the bytes are the same on every machine. Depends on `quant`
//! and `bitmoe_simd`.

use bitmoe_simd::{GgmlType, Isa, Kernels};

use crate::quant::QuantType;

/// Per-head geometry of `attn_kv_b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KvBShape {
    pub kv_lora: usize,
    pub n_head: usize,
    pub nope: usize,
    pub v: usize,
}

impl KvBShape {
    fn rows_per_head(&self) -> usize {
        self.nope + self.v
    }
}

/// The type `attn_k_b` is stored in: K-quants are impossible (its rows are `nope`
/// long, 128 in R1, not a multiple of 256), and Q8_0 keeps the requantization error
/// tiny.
pub(crate) const K_B_TYPE: QuantType = QuantType::Q8_0;

/// `attn_k_b`'s bytes from `attn_kv_b`'s (`kv_b` of type `ty`), or why not.
pub(crate) fn k_b(kv_b: &[u8], ty: QuantType, s: KvBShape) -> Result<Vec<u8>, String> {
    let kernels = Kernels::new(Isa::Scalar);
    let dequantize = GgmlType::from_id(ty.id())
        .map(|g| kernels.dequantize(g))
        .ok_or_else(|| format!("attn_kv_b of type {ty} cannot be dequantized"))?;
    let quantize = kernels
        .quantize(GgmlType::Q8_0)
        .ok_or("no Q8_0 quantizer in bitmoe_simd")?;
    let row_bytes = row_bytes(ty, s.kv_lora)?;
    let out_row_bytes = row_bytes_q8(s.nope)?;
    check_len(kv_b, row_bytes * s.n_head * s.rows_per_head())?;
    let mut k = vec![0f32; s.nope * s.kv_lora]; // [nope][kv_lora] of one head
    let mut t = vec![0f32; s.kv_lora * s.nope]; // its transpose [kv_lora][nope]
    let mut out = vec![0u8; s.n_head * s.kv_lora * out_row_bytes];
    for (h, out_h) in out.chunks_exact_mut(s.kv_lora * out_row_bytes).enumerate() {
        for (j, k_row) in k.chunks_exact_mut(s.kv_lora).enumerate() {
            let r = h * s.rows_per_head() + j;
            dequantize(&kv_b[r * row_bytes..(r + 1) * row_bytes], k_row);
        }
        for (c, t_row) in t.chunks_exact_mut(s.nope).enumerate() {
            for (j, x) in t_row.iter_mut().enumerate() {
                *x = k[j * s.kv_lora + c];
            }
        }
        quantize(&t, out_h);
    }
    Ok(out)
}

/// `attn_v_b`'s bytes: the V rows of every head, in `attn_kv_b`'s type.
pub(crate) fn v_b(kv_b: &[u8], ty: QuantType, s: KvBShape) -> Result<Vec<u8>, String> {
    let row_bytes = row_bytes(ty, s.kv_lora)?;
    check_len(kv_b, row_bytes * s.n_head * s.rows_per_head())?;
    let mut out = Vec::with_capacity(s.n_head * s.v * row_bytes);
    for h in 0..s.n_head {
        let first = h * s.rows_per_head() + s.nope;
        out.extend_from_slice(&kv_b[first * row_bytes..(first + s.v) * row_bytes]);
    }
    Ok(out)
}

fn row_bytes(ty: QuantType, n: usize) -> Result<usize, String> {
    ty.row_bytes(n as u64)
        .map(|b| b as usize)
        .ok_or_else(|| format!("rows of {n} values cannot be stored as {ty}"))
}

fn row_bytes_q8(n: usize) -> Result<usize, String> {
    row_bytes(K_B_TYPE, n)
}

fn check_len(kv_b: &[u8], want: usize) -> Result<(), String> {
    if kv_b.len() == want {
        Ok(())
    } else {
        Err(format!(
            "attn_kv_b has {} bytes, its shape needs {want}",
            kv_b.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::blocks::RandomBlocks;
    use crate::synth::rng::Rng;

    fn dequant(ty: QuantType, b: &[u8]) -> Vec<f32> {
        let n = b.len() / ty.type_size() as usize * ty.block_size() as usize;
        let mut out = vec![0f32; n];
        Kernels::new(Isa::Scalar).dequantize(GgmlType::from_id(ty.id()).unwrap())(b, &mut out);
        out
    }

    #[test]
    fn k_b_and_v_b_hold_kv_b_values_per_head() {
        let s = KvBShape {
            kv_lora: 256,
            n_head: 3,
            nope: 64,
            v: 32,
        };
        let ty = QuantType::Q6K;
        let rows = s.n_head * (s.nope + s.v);
        let kv_b = RandomBlocks::new(ty, 0.05)
            .unwrap()
            .generate(&mut Rng::from_seed(1), rows * s.kv_lora);
        let full = dequant(ty, &kv_b); // [rows][kv_lora]
        let kb = dequant(K_B_TYPE, &k_b(&kv_b, ty, s).unwrap()); // [head][kv_lora][nope]
        let vb = dequant(ty, &v_b(&kv_b, ty, s).unwrap()); // [head][v][kv_lora]
                                                           // Q8_0 requantization: error ≤ half a step (step ≤ max |x| / 127) plus the f16
                                                           // rounding of the step times at most 127.
        let tol = full.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0 * 0.6;
        for h in 0..s.n_head {
            for c in 0..s.kv_lora {
                for j in 0..s.nope {
                    let want = full[(h * (s.nope + s.v) + j) * s.kv_lora + c];
                    let got = kb[(h * s.kv_lora + c) * s.nope + j];
                    assert!((got - want).abs() <= tol, "{h} {c} {j}: {got} vs {want}");
                }
            }
            for j in 0..s.v {
                for c in 0..s.kv_lora {
                    let want = full[(h * (s.nope + s.v) + s.nope + j) * s.kv_lora + c];
                    assert_eq!(vb[(h * s.v + j) * s.kv_lora + c], want);
                }
            }
        }
    }

    #[test]
    fn wrong_length_is_an_error() {
        let s = KvBShape {
            kv_lora: 256,
            n_head: 1,
            nope: 32,
            v: 32,
        };
        assert!(k_b(&[0u8; 10], QuantType::Q6K, s).is_err());
        assert!(v_b(&[0u8; 10], QuantType::Q6K, s).is_err());
    }
}
