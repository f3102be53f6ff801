//! Scalar dequantizers against the independent `gguf`-package vectors
//! (`testdata/<type>.blocks.bin` → `testdata/<type>.f32.bin`, 16 blocks each).

use crate::common::{f32s, testdata, ulps};
use bitmoe_simd::{GgmlType, Isa, Kernels};

/// Every storage type with vectors (F32/F16/BF16 are covered by `float_round_trips`).
const TYPES: [GgmlType; 21] = [
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
    GgmlType::Q8_0,
    GgmlType::Q2_K,
    GgmlType::Q3_K,
    GgmlType::Q4_K,
    GgmlType::Q5_K,
    GgmlType::Q6_K,
    GgmlType::IQ2_XXS,
    GgmlType::IQ2_XS,
    GgmlType::IQ2_S,
    GgmlType::IQ3_XXS,
    GgmlType::IQ3_S,
    GgmlType::IQ1_S,
    GgmlType::IQ1_M,
    GgmlType::IQ4_NL,
    GgmlType::IQ4_XS,
    GgmlType::TQ1_0,
    GgmlType::TQ2_0,
];

#[test]
fn every_type_matches_the_gguf_package_bit_exactly() {
    for isa in Isa::all_supported() {
        let k = Kernels::new(isa);
        for t in TYPES {
            let name = t.name().to_lowercase();
            let blocks = testdata(&format!("{name}.blocks.bin"));
            let want = f32s(&testdata(&format!("{name}.f32.bin")));
            assert_eq!(blocks.len(), 16 * t.block_bytes(), "{name}");
            assert_eq!(want.len(), 16 * t.block_size(), "{name}");
            let mut got = vec![f32::NAN; want.len()];
            (k.dequantize(t))(&blocks, &mut got);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    ulps(*g, *w) == 0,
                    "{name} [{}] element {i}: {g} vs {w}",
                    isa.name()
                );
            }
        }
    }
}

#[test]
fn misaligned_input_and_short_buffers_are_handled() {
    let k = Kernels::new(Isa::Scalar);
    let t = GgmlType::IQ1_S;
    let blocks = testdata("iq1_s.blocks.bin");
    let want = f32s(&testdata("iq1_s.f32.bin"));
    // An odd byte offset of a larger buffer.
    let mut shifted = vec![0u8; blocks.len() + 1];
    shifted[1..].copy_from_slice(&blocks);
    let mut got = vec![0.0; want.len()];
    (k.dequantize(t))(&shifted[1..], &mut got);
    assert_eq!(got, want);
    // A trailing partial block and a short output: whole blocks only, no panic.
    let mut short = vec![-1.0; 300];
    (k.dequantize(t))(&blocks[..60], &mut short);
    assert_eq!(&short[..256], &want[..256]);
    assert!(short[256..].iter().all(|&v| v == -1.0));
}

#[test]
fn float_round_trips() {
    let k = Kernels::new(Isa::Scalar);
    let x: Vec<f32> = vec![
        0.0,
        -0.0,
        1.0,
        -2.5,
        65504.0,
        1e-7,
        3.25,
        -1e30,
        f32::INFINITY,
    ];
    for t in [GgmlType::F32, GgmlType::F16, GgmlType::BF16] {
        let mut bytes = vec![0u8; x.len() * t.block_bytes()];
        (k.quantize(t).unwrap())(&x, &mut bytes);
        let mut back = vec![0.0; x.len()];
        (k.dequantize(t))(&bytes, &mut back);
        for (a, b) in x.iter().zip(&back) {
            let expect = match t {
                GgmlType::F32 => *a,
                GgmlType::F16 => half::f16::from_f32(*a).to_f32(),
                _ => half::bf16::from_f32(*a).to_f32(),
            };
            assert_eq!(b.to_bits(), expect.to_bits(), "{t:?} {a}");
        }
    }
}
