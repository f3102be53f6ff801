//! Weight quantizers (`bitmoe_simd::quantize`): every supported type quantized and
//! decoded with the crate's scalar dequantizers, error bounds per bit width, importance
//! weighting, input validation, and Q8_0 against the activation quantizer.
//!
//! The comparison with llama.cpp's quantizers is `tools/quant_rmse.py` (it needs
//! llama-cpp-python).

use bitmoe_simd::blocks::q8::quantize_q8_0;
use bitmoe_simd::quantize::{quantize_rows, supports, QuantizeError};
use bitmoe_simd::{GgmlType, Isa, Kernels};

/// Types with a weight quantizer and the bound on RMSE / RMS(x) for Gaussian rows
/// (measured values are about 75% of these). Heavy-tailed rows, with outliers up to
/// ~30σ, get twice the bound: next to an outlier the low-bit codebook types cannot
/// represent small values well (IQ2_XXS reaches 0.78 on such a row; llama.cpp 0.83).
const BOUNDS: &[(GgmlType, f64)] = &[
    (GgmlType::Q8_0, 0.008),
    (GgmlType::Q4_0, 0.11),
    (GgmlType::Q4_1, 0.095),
    (GgmlType::Q5_0, 0.055),
    (GgmlType::Q5_1, 0.047),
    (GgmlType::Q4_K, 0.095),
    (GgmlType::Q5_K, 0.047),
    (GgmlType::Q6_K, 0.024),
    (GgmlType::Q2_K, 0.36),
    (GgmlType::Q3_K, 0.2),
    (GgmlType::TQ1_0, 0.55),
    (GgmlType::TQ2_0, 0.55),
    (GgmlType::IQ4_XS, 0.1),
    (GgmlType::IQ4_NL, 0.1),
    (GgmlType::IQ1_S, 0.6),
    (GgmlType::IQ1_M, 0.55),
    (GgmlType::IQ2_XXS, 0.45),
];

/// xorshift64*: uniform and Gaussian values without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.unit(), self.unit());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
    /// Student-t-like: a Gaussian over the root of a chi-square with 3 degrees of freedom.
    fn heavy(&mut self) -> f32 {
        let chi: f32 = (0..3).map(|_| self.gauss().powi(2)).sum();
        self.gauss() / (chi / 3.0).sqrt()
    }
}

fn quantize(ty: GgmlType, x: &[f32], n: usize, q: Option<&[f32]>) -> Vec<u8> {
    let mut dst = vec![0u8; x.len() / n * ty.row_bytes(n).unwrap()];
    quantize_rows(ty, x, n, q, &mut dst).unwrap_or_else(|e| panic!("{}: {e}", ty.name()));
    dst
}

fn dequantize(ty: GgmlType, bytes: &[u8], len: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; len];
    (Kernels::new(Isa::Scalar).dequantize(ty))(bytes, &mut out);
    out
}

/// sqrt(Σ q·e²) / sqrt(Σ q·x²), q ≡ 1 without importance.
fn rel_err(x: &[f32], y: &[f32], q: Option<&[f32]>, n: usize) -> f64 {
    let (mut e2, mut x2) = (0.0f64, 0.0f64);
    for (i, (&a, &b)) in x.iter().zip(y).enumerate() {
        let w = q.map_or(1.0, |q| q[i % n] as f64);
        e2 += w * (a as f64 - b as f64).powi(2);
        x2 += w * (a as f64).powi(2);
    }
    if x2 == 0.0 {
        e2.sqrt()
    } else {
        (e2 / x2).sqrt()
    }
}

fn rows(rng: &mut Rng, rows: usize, n: usize, f: impl Fn(&mut Rng) -> f32) -> Vec<f32> {
    (0..rows * n).map(|_| f(rng)).collect()
}

#[test]
fn every_listed_type_is_supported_and_others_are_refused() {
    for &(ty, _) in BOUNDS {
        assert!(supports(ty), "{}", ty.name());
    }
    for ty in [
        GgmlType::F32,
        GgmlType::Q8_K,
        GgmlType::IQ2_XS,
        GgmlType::IQ3_S,
    ] {
        assert!(!supports(ty));
        let mut dst = vec![0u8; 1024];
        assert_eq!(
            quantize_rows(ty, &[0.0; 256], 256, None, &mut dst),
            Err(QuantizeError::Unsupported(ty))
        );
    }
}

#[test]
fn round_trip_error_is_within_the_bound_of_each_bit_width() {
    let mut rng = Rng::new(7);
    for &(ty, bound) in BOUNDS {
        let small = ty.block_size() * 3; // 96 for the 32-element types, 768 otherwise
        for n in [small, 256, 1024, 7168] {
            let nrows = if n == 7168 { 2 } else { 6 };
            for (kind, scale) in [("gauss", 1.0), ("heavy", 2.0)] {
                let x = if kind == "gauss" {
                    rows(&mut rng, nrows, n, |r| 0.02 * r.gauss())
                } else {
                    rows(&mut rng, nrows, n, |r| 0.02 * r.heavy())
                };
                let y = dequantize(ty, &quantize(ty, &x, n, None), x.len());
                let e = rel_err(&x, &y, None, n);
                assert!(
                    e < bound * scale,
                    "{} {kind} n={n}: relative RMSE {e:.4} ≥ {:.4}",
                    ty.name(),
                    bound * scale
                );
            }
        }
    }
}

#[test]
fn zero_rows_decode_to_zero_and_constant_rows_stay_close() {
    for &(ty, bound) in BOUNDS {
        let n = 512;
        let zeros = vec![0.0f32; 2 * n];
        let y = dequantize(ty, &quantize(ty, &zeros, n, None), zeros.len());
        assert!(y.iter().all(|&v| v == 0.0), "{}: zero row", ty.name());
        for c in [0.25f32, -3.0] {
            let x = vec![c; n];
            let y = dequantize(ty, &quantize(ty, &x, n, None), n);
            let e = rel_err(&x, &y, None, n);
            assert!(e < bound, "{} constant {c}: {e}", ty.name());
        }
        // A zero row next to a non-zero one, and one large outlier.
        let mut x = vec![0.0f32; 2 * n];
        x[n + 3] = 5.0;
        x[n + 300] = -0.01;
        let y = dequantize(ty, &quantize(ty, &x, n, None), x.len());
        assert!(y[..n].iter().all(|&v| v == 0.0), "{}", ty.name());
        assert!(y.iter().all(|v| v.is_finite()), "{}", ty.name());
    }
}

#[test]
fn importance_lowers_the_weighted_error() {
    let mut rng = Rng::new(11);
    let n = 2048;
    let x = rows(&mut rng, 8, n, |r| r.gauss());
    let q: Vec<f32> = (0..n).map(|_| (1.5 * rng.gauss()).exp()).collect();
    for &(ty, _) in BOUNDS {
        let plain = dequantize(ty, &quantize(ty, &x, n, None), x.len());
        let weighted = dequantize(ty, &quantize(ty, &x, n, Some(&q)), x.len());
        let (e0, e1) = (
            rel_err(&x, &plain, Some(&q), n),
            rel_err(&x, &weighted, Some(&q), n),
        );
        assert!(
            e1 < e0,
            "{}: weighted error {e1:.5} with importance, {e0:.5} without",
            ty.name()
        );
    }
}

#[test]
fn large_and_tiny_values_decode_finite() {
    let mut rng = Rng::new(13);
    for scale in [3e4f32, 1e-20] {
        let x = rows(&mut rng, 2, 512, |r| scale * r.heavy());
        for &(ty, _) in BOUNDS {
            let y = dequantize(ty, &quantize(ty, &x, 512, None), x.len());
            assert!(
                y.iter().all(|v| v.is_finite()),
                "{} at scale {scale}",
                ty.name()
            );
        }
    }
}

#[test]
fn all_zero_importance_does_not_panic() {
    let mut rng = Rng::new(3);
    let x = rows(&mut rng, 2, 256, |r| r.gauss());
    for &(ty, _) in BOUNDS {
        let y = dequantize(ty, &quantize(ty, &x, 256, Some(&[0.0; 256])), x.len());
        assert!(y.iter().all(|v| v.is_finite()), "{}", ty.name());
    }
}

#[test]
fn q8_0_without_importance_matches_the_activation_quantizer() {
    let mut rng = Rng::new(5);
    let x = rows(&mut rng, 3, 4096, |r| r.heavy());
    let mut want = vec![0u8; 3 * 4096 / 32 * 34];
    quantize_q8_0(&x, &mut want);
    assert_eq!(quantize(GgmlType::Q8_0, &x, 4096, None), want);
}

#[test]
fn bad_inputs_are_errors_and_leave_dst_untouched() {
    let ty = GgmlType::Q4_K;
    let x = vec![0.5f32; 512];
    let mut dst = vec![7u8; 2 * 144];
    let check = |r: Result<(), QuantizeError>, want: QuantizeError, dst: &[u8]| {
        assert_eq!(r, Err(want.clone()));
        assert!(!want.to_string().is_empty());
        assert!(dst.iter().all(|&b| b == 7));
    };
    let r = quantize_rows(ty, &x, 100, None, &mut dst);
    check(
        r,
        QuantizeError::RowLength {
            ty,
            n_per_row: 100,
            block_size: 256,
        },
        &dst,
    );
    let r = quantize_rows(ty, &x, 0, None, &mut dst);
    check(
        r,
        QuantizeError::RowLength {
            ty,
            n_per_row: 0,
            block_size: 256,
        },
        &dst,
    );
    let r = quantize_rows(ty, &x[..300], 256, None, &mut dst);
    check(
        r,
        QuantizeError::SrcLength {
            len: 300,
            n_per_row: 256,
        },
        &dst,
    );
    let r = quantize_rows(ty, &x, 256, None, &mut dst[..100]);
    check(
        r,
        QuantizeError::DstLength {
            expected: 288,
            got: 100,
        },
        &dst,
    );
    let r = quantize_rows(ty, &x, 256, Some(&[1.0; 255]), &mut dst);
    check(
        r,
        QuantizeError::ImportanceLength {
            expected: 256,
            got: 255,
        },
        &dst,
    );
    let mut q = vec![1.0f32; 256];
    q[9] = -1.0;
    let r = quantize_rows(ty, &x, 256, Some(&q), &mut dst);
    check(
        r,
        QuantizeError::BadImportance {
            index: 9,
            value: -1.0,
        },
        &dst,
    );
    let mut bad = x.clone();
    bad[300] = f32::INFINITY;
    let r = quantize_rows(ty, &bad, 256, None, &mut dst);
    check(
        r,
        QuantizeError::NonFinite {
            index: 300,
            value: f32::INFINITY,
        },
        &dst,
    );
    // NaN != NaN, so match the variant.
    bad[300] = f32::NAN;
    for &(ty, _) in BOUNDS {
        let mut d = vec![7u8; 2 * ty.row_bytes(256).unwrap()];
        let r = quantize_rows(ty, &bad, 256, None, &mut d);
        assert!(
            matches!(r, Err(QuantizeError::NonFinite { index: 300, .. })),
            "{}",
            ty.name()
        );
        assert!(d.iter().all(|&b| b == 7));
    }
    // Empty input is zero rows: fine with an empty destination.
    assert_eq!(quantize_rows(ty, &[], 256, None, &mut []), Ok(()));
}
