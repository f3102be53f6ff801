//! Activation quantizers and dot products against llama.cpp's CPU library
//! (`testdata/dot/`, see `shared/spec/testvectors/README.md`): one weight row of 1024
//! values per type, 4 activation rows, the activation bytes llama.cpp produced and its
//! 4 dot products.

use crate::common::{dot_f64, f32s, testdata};
use bitmoe_simd::{GgmlType, Isa, Kernels};

const N: usize = 1024;

struct Case {
    ty: GgmlType,
    act: GgmlType,
    file: String,
}

/// Parses `index.txt`: `type ggml_id vec_dot_type weight_row_bytes act_row_bytes dot0..3`.
fn cases() -> Vec<Case> {
    let index = String::from_utf8(testdata("dot/index.txt")).unwrap();
    let mut out = Vec::new();
    for line in index.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let ty = GgmlType::from_id(f[1].parse().unwrap()).unwrap();
        assert_eq!(ty.name(), f[0]);
        let act = ty.vec_dot_type().unwrap();
        assert_eq!(act.name(), f[2], "{line}");
        assert_eq!(ty.row_bytes(N), Some(f[3].parse().unwrap()), "{line}");
        assert_eq!(act.row_bytes(N), Some(f[4].parse().unwrap()), "{line}");
        out.push(Case {
            ty,
            act,
            file: f[0].to_string(),
        });
    }
    assert_eq!(out.len(), 23, "every quantized type plus F16 and BF16");
    out
}

/// Relative error budget against llama.cpp (normalized by Σ|w·x|): integer sums are
/// exact, so only float summation order differs (README: ≤ 1.7e-8); F16 dots of the
/// reference build were accumulated in fp16 (up to 9e-5).
fn llama_budget(ty: GgmlType) -> f64 {
    match ty {
        GgmlType::F16 => 2e-4,
        _ => 1e-7,
    }
}

/// Budget against an f64 dot of the dequantized operands. Q4_1/Q5_1 use the f16-rounded
/// `s = d·Σq` of Q8_1 (as llama.cpp does), which differs from the exact sum.
fn f64_budget(ty: GgmlType) -> f64 {
    match ty {
        GgmlType::Q4_1 | GgmlType::Q5_1 => 2e-4,
        _ => 1e-7,
    }
}

#[test]
fn activation_quantizers_match_llama_cpp_bytes_at_every_isa() {
    for isa in Isa::all_supported() {
        let k = Kernels::new(isa);
        for c in cases() {
            let x = f32s(&testdata(&format!("dot/{}.x_f32.bin", c.file)));
            let want = testdata(&format!("dot/{}.x_q.bin", c.file));
            let mut got = vec![0u8; want.len()];
            for (xr, gr) in x.chunks_exact(N).zip(got.chunks_exact_mut(want.len() / 4)) {
                (k.quantize(c.act).unwrap())(xr, gr);
            }
            assert!(
                got == want,
                "{} {}: activation bytes differ",
                isa.name(),
                c.file
            );
        }
    }
}

#[test]
fn dots_match_llama_cpp_and_an_f64_dot_at_every_isa() {
    for isa in Isa::all_supported() {
        let k = Kernels::new(isa);
        for c in cases() {
            let w = testdata(&format!("dot/{}.w.bin", c.file));
            let xq = testdata(&format!("dot/{}.x_q.bin", c.file));
            let want = f32s(&testdata(&format!("dot/{}.dot_f32.bin", c.file)));
            let mut wf = vec![0.0; N];
            (k.dequantize(c.ty))(&w, &mut wf);
            let row = xq.len() / 4;
            for (r, xr) in xq.chunks_exact(row).enumerate() {
                let got = (k.vec_dot(c.ty).unwrap())(&w, xr);
                let mut xf = vec![0.0; N];
                (k.dequantize(c.act))(xr, &mut xf);
                let (exact, scale) = dot_f64(&wf, &xf);
                let e_llama = (got as f64 - want[r] as f64).abs() / scale;
                let e_exact = (got as f64 - exact).abs() / scale;
                assert!(
                    e_llama <= llama_budget(c.ty),
                    "{} [{}] row {r}: {got} vs llama.cpp {} (err {e_llama:.2e})",
                    c.file,
                    isa.name(),
                    want[r]
                );
                assert!(
                    e_exact <= f64_budget(c.ty),
                    "{} [{}] row {r}: {got} vs f64 {exact} (err {e_exact:.2e})",
                    c.file,
                    isa.name()
                );
            }
        }
    }
}

#[test]
fn q8_k_of_zeros_is_all_zero_and_extremes_saturate_correctly() {
    let k = Kernels::new(Isa::Scalar);
    let q = k.quantize(GgmlType::Q8_K).unwrap();
    let mut out = vec![0xAAu8; 292];
    q(&[0.0; 256], &mut out);
    assert!(out.iter().all(|&b| b == 0));
    // The element of largest magnitude maps to −127 (sign flip), the rest stay in range.
    let mut x = vec![0.5f32; 256];
    x[3] = 2.0;
    x[7] = -2.0; // tie in |x|: the first one wins
    q(&x, &mut out);
    assert_eq!(out[4 + 3] as i8, -127);
    assert_eq!(out[4 + 7] as i8, 127);
    assert_eq!(
        f32::from_le_bytes([out[0], out[1], out[2], out[3]]),
        -2.0 / 127.0
    );
}
