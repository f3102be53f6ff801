//! Random *valid* weight blocks of a chosen standard deviation, for synthetic models.
//!
//! Owns: [`RandomBlocks`]. A synthetic model needs weights of the formats real files
//! use (DeepSeek-R1 UD-IQ1_S: Q4_K, Q5_K, Q6_K, IQ1_S, IQ2_XXS), but running a
//! quantizer over random floats is slow (IQ1_S's searches) and unnecessary: any bit
//! pattern of quants, grid indices and signs is a valid block. So the bulk of every
//! block is random bytes, and only the scales are chosen:
//!
//! ```text
//! Q8_0     d·q                    q: random i8 (−128 avoided)
//! Q4_K     d·sc·q − dmin·sc       q: 0..15, sc: 16..63 random, dmin = f16(7.5·d)
//! Q5_K     d·sc·q − dmin·sc       q: 0..31, sc: 16..63 random, dmin = f16(15.5·d)
//! Q6_K     d·sc·(q − 32)          q: 0..63, sc: ±(16..63) random
//! IQ1_S    d·(2s+1)·(grid + δ)    all 48 bytes after d random (index, s, δ sign)
//! IQ2_XXS  d·(0.5+s)/4·grid·sign  all 64 bytes after d random
//! F32/F16  std·N(0,1)
//! ```
//!
//! The K-quant mins equal the scales, so each sub-block is centred (no per-row bias);
//! the sub-scales use both of the 6-bit fields' high bits. Each block's `d` is the
//! tensor's base scale times a random factor in [0.75, 1.25], so kernels see varying
//! super-block scales. The base scale is `std / unit`, where `unit` is the exact RMS
//! of the format's values for `d = 1` under these distributions (computed by
//! enumerating them, grids included), so the dequantized values have the requested
//! standard deviation up to sampling noise. Filling is a few xorshift draws per block:
//! several GB/s, far faster than the disk it goes to.
//!
//! Depends on `quant` (type sizes), `bitmoe_simd::tables` (the i-quant grids, for
//! `unit`) and [`super::rng`].

use bitmoe_simd::tables::{IQ1S_GRID, IQ2XXS_GRID};
use half::f16;

use super::rng::Rng;
use crate::quant::QuantType;

/// Why random blocks cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BlockError {
    #[error("random synthetic weights of type {0} are not supported (supported: f32, f16, q8_0, q4_K, q5_K, q6_K, iq1_s, iq2_xxs)")]
    Unsupported(QuantType),
    #[error("standard deviation {std} is not usable for {ty}: it must be positive and its block scales must fit an f16")]
    BadStd { ty: QuantType, std: f32 },
}

/// A generator of random blocks of one type and standard deviation.
#[derive(Debug, Clone, Copy)]
pub struct RandomBlocks {
    ty: QuantType,
    /// F32/F16: the standard deviation; block types: the base `d`.
    scale: f32,
}

impl RandomBlocks {
    /// The types [`RandomBlocks::new`] accepts.
    pub const SUPPORTED: [QuantType; 8] = [
        QuantType::F32,
        QuantType::F16,
        QuantType::Q8_0,
        QuantType::Q4K,
        QuantType::Q5K,
        QuantType::Q6K,
        QuantType::Iq1S,
        QuantType::Iq2Xxs,
    ];

    pub fn new(ty: QuantType, std: f32) -> Result<RandomBlocks, BlockError> {
        let bad = BlockError::BadStd { ty, std };
        if !(std.is_finite() && std > 0.0) {
            return Err(bad);
        }
        let unit = unit_rms(ty).ok_or(BlockError::Unsupported(ty))?;
        let scale = std / unit;
        // Largest stored scale: F16 values up to ~8σ; block d × 1.25 jitter × 15.5
        // (Q5_K's dmin). Smallest: d × 0.75 must not round to zero.
        let largest = match ty {
            QuantType::F32 => 0.0,
            QuantType::F16 => 8.0 * scale,
            _ => 1.25 * 15.5 * scale,
        };
        let smallest = 0.75 * scale;
        if !f16::from_f32(largest).is_finite()
            || (ty != QuantType::F32 && f16::from_f32(smallest) == f16::ZERO)
        {
            return Err(bad);
        }
        Ok(RandomBlocks { ty, scale })
    }

    pub fn ty(&self) -> QuantType {
        self.ty
    }

    /// Fills `out` with random blocks. `out.len()` should be a multiple of the type's
    /// block bytes; a trailing partial block is left unchanged.
    pub fn fill(&self, rng: &mut Rng, out: &mut [u8]) {
        let bytes = self.ty.type_size() as usize;
        debug_assert_eq!(out.len() % bytes, 0, "{} block bytes", self.ty);
        let d = self.scale;
        let blocks = out.chunks_exact_mut(bytes);
        match self.ty {
            QuantType::F32 => {
                blocks.for_each(|b| b.copy_from_slice(&(d * rng.normal()).to_le_bytes()))
            }
            QuantType::F16 => blocks.for_each(|b| {
                b.copy_from_slice(&f16::from_f32(d * rng.normal()).to_le_bytes());
            }),
            QuantType::Q8_0 => blocks.for_each(|b| {
                let d16 = block_d(rng, d);
                b[..2].copy_from_slice(&d16.to_le_bytes());
                rng.fill_bytes(&mut b[2..]);
                for q in &mut b[2..] {
                    if *q == 0x80 {
                        *q = 0x81;
                    }
                }
            }),
            QuantType::Q4K | QuantType::Q5K => {
                let centre = if self.ty == QuantType::Q4K { 7.5 } else { 15.5 };
                blocks.for_each(|b| {
                    let d16 = block_d(rng, d);
                    let dmin16 = f16::from_f32(centre * d16.to_f32());
                    b[..2].copy_from_slice(&d16.to_le_bytes());
                    b[2..4].copy_from_slice(&dmin16.to_le_bytes());
                    let sc = rng.next_u64().to_le_bytes().map(sub_scale);
                    b[4..16].copy_from_slice(&pack_scale_min_k4(&sc, &sc));
                    // Q4_K: qs; Q5_K: qh then qs.
                    rng.fill_bytes(&mut b[16..]);
                })
            }
            QuantType::Q6K => blocks.for_each(|b| {
                // ql, qh, and 16 raw bytes that become the signed scales.
                rng.fill_bytes(&mut b[..208]);
                let signs = rng.next_u64();
                for (i, s) in b[192..208].iter_mut().enumerate() {
                    let mag = sub_scale(*s) as i8;
                    *s = (if (signs >> i) & 1 == 1 { -mag } else { mag }) as u8;
                }
                b[208..].copy_from_slice(&block_d(rng, d).to_le_bytes());
            }),
            QuantType::Iq1S | QuantType::Iq2Xxs => blocks.for_each(|b| {
                let d16 = block_d(rng, d);
                b[..2].copy_from_slice(&d16.to_le_bytes());
                rng.fill_bytes(&mut b[2..]);
            }),
            // `new` accepts only the types above.
            _ => {}
        }
    }

    /// `n` values' worth of random blocks (`n` a multiple of the block size).
    pub fn generate(&self, rng: &mut Rng, n: usize) -> Vec<u8> {
        let bytes = (n as u64 / self.ty.block_size() * self.ty.type_size()) as usize;
        let mut out = vec![0u8; bytes];
        self.fill(rng, &mut out);
        out
    }
}

/// The random per-block factor on `d`, in [0.75, 1.25].
fn jitter(byte: u8) -> f32 {
    0.75 + f32::from(byte) / 510.0
}

/// One block's `d`: the base scale times a random factor, as f16.
fn block_d(rng: &mut Rng, d: f32) -> f16 {
    f16::from_f32(d * jitter(rng.next_u64() as u8))
}

/// A K-quant sub-scale from a random byte: 16..63 (both high bits of the 6-bit field
/// used, never so small that the sub-block is all zeros).
fn sub_scale(byte: u8) -> u8 {
    16 + byte % 48
}

/// Packs eight 6-bit scales and mins as Q4_K/Q5_K store them (inverse of ggml's
/// `get_scale_min_k4`, spec `quant-formats.md` §3.3).
fn pack_scale_min_k4(sc: &[u8; 8], m: &[u8; 8]) -> [u8; 12] {
    let mut out = [0u8; 12];
    for j in 0..4 {
        out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
        out[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
        out[j + 8] = (sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4);
    }
    out
}

/// Mean of `f` over all 256 byte values.
fn mean_over_bytes(f: impl Fn(u8) -> f64) -> f64 {
    (0..=255u8).map(f).sum::<f64>() / 256.0
}

/// Mean square of `x − c` for x uniform over 0..n.
fn centred_ms(n: u32, c: f64) -> f64 {
    (0..n).map(|q| (f64::from(q) - c).powi(2)).sum::<f64>() / f64::from(n)
}

/// Mean square of the grid entries (8 per u64 word, as i8 or u8).
fn grid_ms(grid: &[u64], signed: bool) -> f64 {
    let n = grid.len() * 8;
    let sum: f64 = grid
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| {
            let v = if signed {
                f64::from(b as i8)
            } else {
                f64::from(b)
            };
            v * v
        })
        .sum();
    sum / n as f64
}

/// RMS of a type's dequantized values for base scale 1 under this module's
/// distributions; `None` for types it cannot make.
fn unit_rms(ty: QuantType) -> Option<f32> {
    let jitter_ms = mean_over_bytes(|b| f64::from(jitter(b)).powi(2));
    let sc_ms = mean_over_bytes(|b| f64::from(sub_scale(b)).powi(2));
    let ms = match ty {
        QuantType::F32 | QuantType::F16 => return Some(1.0),
        QuantType::Q8_0 => mean_over_bytes(|b| f64::from((b as i8).max(-127)).powi(2)),
        QuantType::Q4K => sc_ms * centred_ms(16, 7.5),
        QuantType::Q5K => sc_ms * centred_ms(32, 15.5),
        QuantType::Q6K => sc_ms * centred_ms(64, 32.0),
        QuantType::Iq1S => {
            let ls_ms = (0..8).map(|s| f64::from(2 * s + 1).powi(2)).sum::<f64>() / 8.0;
            // δ = ±1/8 with a random sign: E[(g+δ)²] = E[g²] + 1/64.
            ls_ms * (grid_ms(&IQ1S_GRID, true) + 1.0 / 64.0)
        }
        QuantType::Iq2Xxs => {
            let s_ms = (0..16).map(|s| (f64::from(s) + 0.5).powi(2)).sum::<f64>() / 16.0;
            s_ms / 16.0 * grid_ms(&IQ2XXS_GRID, false)
        }
        _ => return None,
    };
    Some((ms * jitter_ms).sqrt() as f32)
}

#[cfg(test)]
mod tests {
    use bitmoe_simd::{GgmlType, Isa, Kernels};

    use super::*;

    fn dequantize(ty: QuantType, bytes: &[u8]) -> Vec<f32> {
        let g = GgmlType::from_id(ty.id()).unwrap();
        let n = bytes.len() / ty.type_size() as usize * ty.block_size() as usize;
        let mut out = vec![0f32; n];
        Kernels::new(Isa::Scalar).dequantize(g)(bytes, &mut out);
        out
    }

    #[test]
    fn every_supported_type_has_the_requested_std() {
        for ty in RandomBlocks::SUPPORTED {
            for std in [1.0f32, 0.02, 1.0 / (18432f32).sqrt(), 3e-4] {
                let gen = RandomBlocks::new(ty, std).unwrap();
                let mut rng = Rng::for_stream(1, ty.name());
                let x = dequantize(ty, &gen.generate(&mut rng, 256 * 64));
                assert!(x.iter().all(|v| v.is_finite()), "{ty} {std}");
                let n = x.len() as f64;
                let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var = x
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n;
                let got = var.sqrt() as f32;
                assert!(
                    (got / std - 1.0).abs() < 0.3,
                    "{ty}: std {got} for target {std}"
                );
                assert!(
                    mean.abs() < 0.1 * f64::from(std),
                    "{ty}: mean {mean} (std {std})"
                );
            }
        }
    }

    #[test]
    fn k_quant_scales_round_trip_through_ggml_packing() {
        let sc = [16, 63, 47, 32, 31, 48, 17, 62];
        let m = [62, 17, 48, 31, 32, 47, 63, 16];
        let p = pack_scale_min_k4(&sc, &m);
        for j in 0..8 {
            let (s, mm) = if j < 4 {
                (p[j] & 63, p[j + 4] & 63)
            } else {
                (
                    (p[j + 4] & 0xF) | ((p[j - 4] >> 6) << 4),
                    (p[j + 4] >> 4) | ((p[j] >> 6) << 4),
                )
            };
            assert_eq!((s, mm), (sc[j], m[j]), "sub-block {j}");
        }
    }

    #[test]
    fn same_stream_same_bytes() {
        let gen = RandomBlocks::new(QuantType::Iq1S, 0.02).unwrap();
        let a = gen.generate(&mut Rng::for_stream(7, "x"), 1024);
        let b = gen.generate(&mut Rng::for_stream(7, "x"), 1024);
        let c = gen.generate(&mut Rng::for_stream(8, "x"), 1024);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            RandomBlocks::new(QuantType::Q2K, 1.0),
            Err(BlockError::Unsupported(QuantType::Q2K))
        ));
        for std in [0.0, -1.0, f32::NAN, f32::INFINITY, 1e6, 1e-12] {
            assert!(
                RandomBlocks::new(QuantType::Q4K, std).is_err(),
                "std {std} accepted"
            );
        }
        assert!(RandomBlocks::new(QuantType::F32, 1e6).is_ok());
    }
}
