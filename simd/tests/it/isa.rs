//! Every ISA level this host supports against the scalar reference, for every weight
//! type (types without a SIMD kernel at a level run the reference and pass trivially).
//! Levels the host lacks are skipped: `Isa::all_supported()` lists only what runs here.
//!
//! Cases: 1, 2, 7 and 64 blocks; operands at odd byte offsets of larger buffers; random
//! scales, extreme scales (f16 max / subnormal) and "exact" scales. In exact mode the
//! weight scales are 1, the activation scale 1/8 and the quants small, so a single
//! block's dot is an exactly representable float: equality then proves the integer
//! block sums bit-exact. Otherwise results must agree within summation-order error,
//! relative to Σ|w·x|; the kernels documented as bit-identical must agree exactly.

use crate::common::{dot_f64, Rng};
use bitmoe_simd::blocks::f32_to_f16;
use bitmoe_simd::{GgmlType, Isa, Kernels};

/// Weight types and the byte offsets of their f16 scale fields (IQ1_M: spread, special).
const WEIGHTS: [(GgmlType, &[usize]); 24] = [
    (GgmlType::F32, &[]),
    (GgmlType::F16, &[]),
    (GgmlType::BF16, &[]),
    (GgmlType::Q4_0, &[0]),
    (GgmlType::Q4_1, &[0, 2]),
    (GgmlType::Q5_0, &[0]),
    (GgmlType::Q5_1, &[0, 2]),
    (GgmlType::Q8_0, &[0]),
    (GgmlType::Q2_K, &[80, 82]),
    (GgmlType::Q3_K, &[108]),
    (GgmlType::Q4_K, &[0, 2]),
    (GgmlType::Q5_K, &[0, 2]),
    (GgmlType::Q6_K, &[208]),
    (GgmlType::IQ2_XXS, &[0]),
    (GgmlType::IQ2_XS, &[0]),
    (GgmlType::IQ2_S, &[0]),
    (GgmlType::IQ3_XXS, &[0]),
    (GgmlType::IQ3_S, &[0]),
    (GgmlType::IQ1_S, &[0]),
    (GgmlType::IQ1_M, &[]),
    (GgmlType::IQ4_NL, &[0]),
    (GgmlType::IQ4_XS, &[0]),
    (GgmlType::TQ1_0, &[52]),
    (GgmlType::TQ2_0, &[64]),
];

/// Kernels that reduce each block to the reference's integers and repeat its float
/// expression: their results must be identical, not just close.
const BIT_IDENTICAL: [GgmlType; 10] = [
    GgmlType::Q2_K,
    GgmlType::IQ2_XS,
    GgmlType::IQ2_S,
    GgmlType::IQ3_XXS,
    GgmlType::IQ3_S,
    GgmlType::IQ1_S,
    GgmlType::IQ1_M,
    GgmlType::IQ2_XXS,
    GgmlType::TQ1_0,
    GgmlType::TQ2_0,
];

/// Whether `ty` at level `isa` must equal the reference bit for bit: the
/// [`BIT_IDENTICAL`] types, except where the x86 kernels accumulate blocks in vector
/// float lanes (IQ1_S, IQ1_M and IQ2_XXS at AVX2 and AVX-512: a per-block horizontal sum,
/// which the reference's order needs, cost the AVX2 kernels 15%). Those differ by
/// summation order; single exact-mode blocks still prove their integers.
fn bit_identical(isa: Isa, ty: GgmlType) -> bool {
    let x86 = matches!(isa, Isa::Avx2 | Isa::Avx512 { .. });
    match ty {
        GgmlType::IQ1_S | GgmlType::IQ1_M | GgmlType::IQ2_XXS if x86 => false,
        _ => BIT_IDENTICAL.contains(&ty),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scales {
    Random,
    Extreme,
    Exact,
}

/// Writes f16 scale `d` into every scale field of one block.
fn set_scale(ty: GgmlType, offsets: &[usize], block: &mut [u8], d: f32) {
    let bits = f32_to_f16(d);
    if ty == GgmlType::IQ1_M {
        let h = u16::from_le_bytes(bits);
        for k in 0..4 {
            let o = 48 + 2 * k;
            let w = u16::from_le_bytes([block[o], block[o + 1]]) & 0x0FFF;
            let w = w | (((h >> (4 * k)) & 0xF) << 12);
            block[o..o + 2].copy_from_slice(&w.to_le_bytes());
        }
    }
    for &o in offsets {
        block[o..o + 2].copy_from_slice(&bits);
    }
}

fn scale_value(rng: &mut Rng, mode: Scales) -> f32 {
    match mode {
        Scales::Exact => 1.0,
        Scales::Random => rng.f32() * 10f32.powi(rng.below(5) as i32 - 3),
        Scales::Extreme => match rng.below(4) {
            0 => 65504.0,
            1 => -65504.0,
            2 => 6.0e-8, // the smallest f16 subnormal
            _ => -3.0e-5,
        },
    }
}

fn is_float(ty: GgmlType) -> bool {
    matches!(ty, GgmlType::F32 | GgmlType::F16 | GgmlType::BF16)
}

/// `n` float values converted to `ty` (F32, F16 or BF16): exact mode uses small
/// integers, so every product and sum is exact in f32.
fn float_row(rng: &mut Rng, ty: GgmlType, n: usize, mode: Scales) -> Vec<u8> {
    let x: Vec<f32> = (0..n)
        .map(|_| match mode {
            Scales::Exact => rng.below(17) as f32 - 8.0,
            Scales::Random => rng.f32() * 10f32.powi(rng.below(5) as i32 - 3),
            Scales::Extreme => [60000.0, -60000.0, 1e-6, -3e-5][rng.below(4) as usize],
        })
        .collect();
    let mut out = vec![0u8; ty.row_bytes(n).unwrap()];
    (Kernels::new(Isa::Scalar).quantize(ty).unwrap())(&x, &mut out);
    out
}

/// `n` random weight blocks of `ty`.
fn weights(rng: &mut Rng, ty: GgmlType, offsets: &[usize], n: usize, mode: Scales) -> Vec<u8> {
    if is_float(ty) {
        return float_row(rng, ty, n, mode);
    }
    let bb = ty.block_bytes();
    let mut w = vec![0u8; n * bb];
    rng.bytes(&mut w);
    for b in w.chunks_exact_mut(bb) {
        let d = scale_value(rng, mode);
        set_scale(ty, offsets, b, d);
    }
    w
}

/// `n` blocks' worth of activations of type `act` for a weight row of `elems` elements.
fn activations(rng: &mut Rng, k: &Kernels, act: GgmlType, elems: usize, mode: Scales) -> Vec<u8> {
    if is_float(act) {
        return float_row(rng, act, elems, mode);
    }
    let mut out = vec![0u8; act.row_bytes(elems).unwrap()];
    if mode != Scales::Exact {
        let mag = 10f32.powi(rng.below(7) as i32 - 3);
        let x: Vec<f32> = (0..elems).map(|_| rng.f32() * mag).collect();
        (k.quantize(act).unwrap())(&x, &mut out);
        return out;
    }
    // Exact mode: scale 1/8, quants in −15..=15, consistent bsums / s.
    let q = |rng: &mut Rng| (rng.below(31) as i32 - 15) as i8;
    match act {
        GgmlType::Q8_K => {
            for b in out.chunks_exact_mut(292) {
                b[..4].copy_from_slice(&0.125f32.to_le_bytes());
                for v in &mut b[4..260] {
                    *v = q(rng) as u8;
                }
                for g in 0..16 {
                    let s: i32 = b[4 + 16 * g..20 + 16 * g]
                        .iter()
                        .map(|&v| v as i8 as i32)
                        .sum();
                    b[260 + 2 * g..262 + 2 * g].copy_from_slice(&(s as i16).to_le_bytes());
                }
            }
        }
        GgmlType::Q8_0 | GgmlType::Q8_1 => {
            let bb = act.block_bytes();
            let qo = bb - 32;
            for b in out.chunks_exact_mut(bb) {
                b[..2].copy_from_slice(&f32_to_f16(0.125));
                for v in &mut b[qo..] {
                    *v = q(rng) as u8;
                }
                if act == GgmlType::Q8_1 {
                    let s: i32 = b[qo..].iter().map(|&v| v as i8 as i32).sum();
                    b[2..4].copy_from_slice(&f32_to_f16(0.125 * s as f32));
                }
            }
        }
        _ => unreachable!("no exact mode for {act:?}"),
    }
    out
}

/// `data` copied to an odd offset of a larger buffer: (buffer, offset).
fn misaligned(data: &[u8], offset: usize) -> (Vec<u8>, usize) {
    let mut buf = vec![0xEEu8; data.len() + offset + 5];
    buf[offset..offset + data.len()].copy_from_slice(data);
    (buf, offset)
}

fn check(isa: Isa, ty: GgmlType, w: &[u8], a: &[u8], mode: Scales, what: &str) {
    let scalar = Kernels::new(Isa::Scalar);
    let simd = Kernels::new(isa);
    let act = ty.vec_dot_type().unwrap();
    let want = (scalar.vec_dot(ty).unwrap())(w, a);
    let (wb, wo) = misaligned(w, 1);
    let (ab, ao) = misaligned(a, 3);
    let got = (simd.vec_dot(ty).unwrap())(&wb[wo..wo + w.len()], &ab[ao..ao + a.len()]);
    let elems = w.len() / ty.block_bytes() * ty.block_size();
    let mut wf = vec![0.0; elems];
    let mut af = vec![0.0; elems];
    (scalar.dequantize(ty))(w, &mut wf);
    (scalar.dequantize(act))(a, &mut af);
    let (_, scale) = dot_f64(&wf, &af);
    let ctx = format!(
        "{} {:?} {what} {mode:?}: simd {got} vs scalar {want}",
        isa.name(),
        ty
    );
    assert!(got.is_finite() && want.is_finite(), "{ctx}");
    if bit_identical(isa, ty) {
        assert_eq!(got.to_bits(), want.to_bits(), "{ctx}");
    } else if mode == Scales::Exact && (w.len() == ty.block_bytes() || is_float(ty)) {
        // Exactly representable: equal values (±0 may differ in sign).
        assert_eq!(got, want, "{ctx}");
    } else {
        let err = (got as f64 - want as f64).abs();
        assert!(
            err <= 2e-6 * scale + 1e-30,
            "{ctx} (err {err:e}, scale {scale:e})"
        );
    }
}

#[test]
fn every_isa_matches_the_scalar_reference_on_random_blocks() {
    let mut rng = Rng::new(0xB170E);
    for isa in Isa::all_supported()
        .into_iter()
        .filter(|i| *i != Isa::Scalar)
    {
        let scalar = Kernels::new(Isa::Scalar);
        for (ty, offsets) in WEIGHTS {
            let act = ty.vec_dot_type().unwrap();
            for mode in [Scales::Random, Scales::Extreme, Scales::Exact] {
                for n in [1usize, 2, 7, 64] {
                    // Float "blocks" are single elements: use longer rows with tails.
                    let n = if is_float(ty) { 37 * n } else { n };
                    let w = weights(&mut rng, ty, offsets, n, mode);
                    let a = activations(&mut rng, &scalar, act, n * ty.block_size(), mode);
                    check(isa, ty, &w, &a, mode, &format!("n={n}"));
                }
            }
            // Many single blocks in exact mode: the integer block sums, bit for bit.
            for i in 0..200 {
                // For float types a row of 43 small integers is exact as well.
                let n = if is_float(ty) { 43 } else { 1 };
                let w = weights(&mut rng, ty, offsets, n, Scales::Exact);
                let a = activations(&mut rng, &scalar, act, n * ty.block_size(), Scales::Exact);
                check(isa, ty, &w, &a, Scales::Exact, &format!("exact block {i}"));
            }
        }
    }
}

/// The AVX2 IQ1 kernels prepare the lookups of block i + 2 while multiplying block i
/// (a four-slot ring), and IQ2_XXS works on pairs and halves of sub-blocks: every row
/// length from 0 to 9 blocks, around that distance and the ring's wrap, at every scale
/// mode.
#[test]
fn iq1_and_iq2_xxs_rows_of_every_length_up_to_9_blocks() {
    let mut rng = Rng::new(0x1A1);
    let scalar = Kernels::new(Isa::Scalar);
    let types = [
        (GgmlType::IQ1_S, &[0usize][..]),
        (GgmlType::IQ1_M, &[]),
        (GgmlType::IQ2_XXS, &[0]),
    ];
    for isa in Isa::all_supported() {
        for (ty, offsets) in types {
            for mode in [Scales::Random, Scales::Extreme, Scales::Exact] {
                for n in 0..=9 {
                    let w = weights(&mut rng, ty, offsets, n, mode);
                    let a = activations(&mut rng, &scalar, GgmlType::Q8_K, 256 * n, mode);
                    check(isa, ty, &w, &a, mode, &format!("n={n}"));
                }
            }
        }
    }
}

#[test]
fn ternary_blocks_of_all_minus_one_zero_and_plus_one() {
    let mut rng = Rng::new(7);
    let scalar = Kernels::new(Isa::Scalar);
    // (type, byte filling qs, byte filling qh (TQ1_0), expected weight)
    let cases = [
        (GgmlType::TQ2_0, 0x00u8, 0u8, -1.0f32),
        (GgmlType::TQ2_0, 0x55, 0, 0.0),
        (GgmlType::TQ2_0, 0xAA, 0, 1.0),
        (GgmlType::TQ1_0, 0x00, 0x00, -1.0),
        (GgmlType::TQ1_0, 0xFF, 0xFD, 1.0),
    ];
    for (ty, fill, fill_h, value) in cases {
        let mut w = vec![fill; ty.block_bytes() * 3];
        for b in w.chunks_exact_mut(ty.block_bytes()) {
            if ty == GgmlType::TQ1_0 {
                b[48..52].fill(fill_h);
            }
            let d_at = ty.block_bytes() - 2;
            b[d_at..].copy_from_slice(&f32_to_f16(1.0));
        }
        let mut wf = vec![0.0; 768];
        (scalar.dequantize(ty))(&w, &mut wf);
        assert!(
            wf.iter().all(|&v| v == value),
            "{ty:?} fill {fill:#x}: {wf:?}"
        );
        let a = activations(&mut rng, &scalar, GgmlType::Q8_K, 768, Scales::Exact);
        let sum_y: i32 = a
            .chunks_exact(292)
            .flat_map(|b| &b[4..260])
            .map(|&v| v as i8 as i32)
            .sum();
        for isa in Isa::all_supported() {
            let got = (Kernels::new(isa).vec_dot(ty).unwrap())(&w, &a);
            assert_eq!(
                got,
                value * sum_y as f32 * 0.125,
                "{} {ty:?} fill {fill:#x}",
                isa.name()
            );
        }
    }
}

#[test]
fn the_host_levels_are_listed_and_neon_is_never_missing_on_aarch64() {
    let levels = Isa::all_supported();
    eprintln!(
        "ISA levels tested on this host: {:?}",
        levels.iter().map(|i| i.name()).collect::<Vec<_>>()
    );
    assert_eq!(levels[0], Isa::Scalar);
    if cfg!(target_arch = "aarch64") {
        assert!(levels.contains(&Isa::Neon { dotprod: false }));
    }
    for isa in levels {
        assert_eq!(Kernels::new(isa).isa(), isa);
    }
}

/// Rows `data[v]` copied into one buffer, each at an odd offset after the previous one
/// (so no row starts aligned): (buffer, (start, len) of each row).
fn misaligned_rows(data: &[Vec<u8>]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut buf = vec![0xEEu8; 3];
    let mut at = Vec::new();
    for (v, d) in data.iter().enumerate() {
        buf.extend(std::iter::repeat_n(0xEE, 2 * v + 1));
        at.push((buf.len(), d.len()));
        buf.extend_from_slice(d);
    }
    buf.extend_from_slice(&[0xEE; 5]);
    (buf, at)
}

/// `vec_dot_n` of every type at every level against the same level's `vec_dot` (bit for
/// bit: the fused kernels repeat its arithmetic, and a batch must equal the same tokens
/// one at a time) and the scalar
/// reference: 1 to 9 activation rows (every group split of the fused kernels, which take
/// 4 at a time), rows of 1, 2 and 7 blocks, misaligned starts, every scale mode.
#[test]
fn vec_dot_n_matches_vec_dot_for_1_to_9_rows_at_every_isa() {
    let mut rng = Rng::new(0xD074);
    let scalar = Kernels::new(Isa::Scalar);
    for isa in Isa::all_supported() {
        let simd = Kernels::new(isa);
        let fused: Vec<_> = WEIGHTS
            .iter()
            .filter(|(ty, _)| simd.vec_dot_n(*ty).unwrap().is_fused())
            .map(|(ty, _)| ty.name())
            .collect();
        eprintln!("{}: fused vec_dot_n checked for {fused:?}", isa.name());
        for (ty, offsets) in WEIGHTS {
            let act = ty.vec_dot_type().unwrap();
            let one = simd.vec_dot(ty).unwrap();
            let many = simd.vec_dot_n(ty).unwrap();
            for mode in [Scales::Random, Scales::Extreme, Scales::Exact] {
                for blocks in [1usize, 2, 7] {
                    let blocks = if is_float(ty) { 37 * blocks } else { blocks };
                    let elems = blocks * ty.block_size();
                    let w = weights(&mut rng, ty, offsets, blocks, mode);
                    let (wb, wo) = misaligned(&w, 1);
                    let w_mis = &wb[wo..wo + w.len()];
                    let mut wf = vec![0.0; elems];
                    (scalar.dequantize(ty))(&w, &mut wf);
                    for n in 1..=9 {
                        let rows: Vec<Vec<u8>> = (0..n)
                            .map(|_| activations(&mut rng, &scalar, act, elems, mode))
                            .collect();
                        let (buf, at) = misaligned_rows(&rows);
                        let acts: Vec<&[u8]> = at.iter().map(|&(s, l)| &buf[s..s + l]).collect();
                        // One spare output that must stay untouched.
                        let mut out = vec![f32::NAN; n + 1];
                        out[n] = 12345.0;
                        many.dot(w_mis, &acts, &mut out[..n]);
                        assert_eq!(out[n], 12345.0);
                        for (v, a) in rows.iter().enumerate() {
                            let ctx = format!(
                                "{} {ty:?} {mode:?} blocks={blocks} n={n} v={v} fused={}",
                                isa.name(),
                                many.is_fused()
                            );
                            let got = out[v];
                            let same_isa = one(&w, a);
                            let reference = (scalar.vec_dot(ty).unwrap())(&w, a);
                            let mut af = vec![0.0; elems];
                            (scalar.dequantize(act))(a, &mut af);
                            let (_, scale) = dot_f64(&wf, &af);
                            assert!(got.is_finite(), "{ctx}: {got}");
                            assert_eq!(got.to_bits(), same_isa.to_bits(), "{ctx}");
                            if mode == Scales::Exact && (blocks == 1 || is_float(ty)) {
                                assert_eq!(got, reference, "{ctx}: exact block sums");
                            }
                            for (want, what) in [(same_isa, "vec_dot"), (reference, "scalar")] {
                                let err = (got as f64 - want as f64).abs();
                                assert!(
                                    err <= 2e-6 * scale + 1e-30,
                                    "{ctx}: {got} vs {what} {want} (err {err:e}, scale {scale:e})"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The fused kernels exist where they were written: AVX2, AVX-512 (its own, and the
/// AVX2 ones of the types it has no `vec_dot` of its own for: it drops the AVX2 fused
/// kernel where it does), and both NEON levels (the same set as AVX2); nowhere else.
#[test]
fn fused_vec_dot_n_kernels_are_installed_where_written() {
    // AVX2 and both NEON levels.
    let fused_avx2_neon = [
        GgmlType::IQ1_S,
        GgmlType::IQ1_M,
        GgmlType::IQ2_XXS,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
    ];
    // Every AVX-512 kernel has its fused version.
    let own_avx512 = [
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q2_K,
        GgmlType::Q3_K,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::IQ1_S,
        GgmlType::IQ1_M,
        GgmlType::IQ2_XXS,
        GgmlType::TQ2_0,
        GgmlType::TQ1_0,
    ];
    for isa in Isa::all_supported() {
        let k = Kernels::new(isa);
        for t in GgmlType::ALL {
            let Some(many) = k.vec_dot_n(t) else {
                assert!(k.vec_dot(t).is_none(), "{t:?}");
                continue;
            };
            let want = match isa {
                Isa::Avx2 | Isa::Neon { .. } => fused_avx2_neon.contains(&t),
                Isa::Avx512 { .. } => own_avx512.contains(&t) || fused_avx2_neon.contains(&t),
                _ => false,
            };
            assert_eq!(many.is_fused(), want, "{} {t:?}", isa.name());
        }
    }
}

/// Activation quantizers of every level against the scalar ones, byte for byte: random
/// rows at several magnitudes, rows whose products land exactly on .5 (ties to even),
/// equal maxima of opposite sign (the first sets the sign), all-zero and subnormal
/// blocks, several blocks, misaligned outputs.
#[test]
fn activation_quantizers_of_every_isa_give_the_reference_bytes() {
    let mut rng = Rng::new(0x0A7);
    let scalar = Kernels::new(Isa::Scalar);
    let acts = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q8_0,
        GgmlType::Q8_1,
        GgmlType::Q8_K,
    ];
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for e in [-30, -3, 0, 4, 20] {
        rows.push((0..768).map(|_| rng.f32() * 2f32.powi(e)).collect());
    }
    // max = −127 gives iscale = 1 (Q8_K): halves are exact ties.
    let mut ties: Vec<f32> = (0..256).map(|i| (i % 64) as f32 / 2.0 - 16.0).collect();
    ties[7] = -127.0;
    rows.push(ties);
    // amax = 127 in every 32-block gives id = 1 (Q8_0, Q8_1): halves are exact ties,
    // which those round away from zero.
    rows.push(
        (0..256)
            .map(|i| {
                if i % 32 == 5 {
                    -127.0
                } else {
                    (i % 61) as f32 / 2.0 - 15.0
                }
            })
            .collect(),
    );
    // Equal magnitudes of opposite sign: the first one wins.
    for first in [3.0f32, -3.0] {
        let mut r: Vec<f32> = (0..256).map(|_| rng.f32()).collect();
        r[40] = first;
        r[200] = -first;
        rows.push(r);
    }
    // A zero block, then one so small that −127/max overflows.
    let mut zero_then_tiny = vec![0.0f32; 512];
    zero_then_tiny[300] = 1e-40;
    zero_then_tiny[301] = -2e-40;
    rows.push(zero_then_tiny);
    // Non-finite values (the reference's saturating casts decide the bytes).
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut r: Vec<f32> = (0..512).map(|_| rng.f32()).collect();
        r[77] = bad;
        rows.push(r);
    }
    for isa in Isa::all_supported() {
        let k = Kernels::new(isa);
        for act in acts {
            for (ri, x) in rows.iter().enumerate() {
                let bytes = act.row_bytes(x.len()).unwrap();
                let mut want = vec![0u8; bytes];
                (scalar.quantize(act).unwrap())(x, &mut want);
                let (mut buf, off) = misaligned(&vec![0u8; bytes], 3);
                (k.quantize(act).unwrap())(x, &mut buf[off..off + bytes]);
                assert!(
                    buf[off..off + bytes] == want[..],
                    "{} {act:?} row {ri}: bytes differ",
                    isa.name()
                );
            }
        }
    }
}
