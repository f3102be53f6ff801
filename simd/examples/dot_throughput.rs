//! Single-thread `vec_dot` throughput per type and ISA level, in GB/s of weight bytes.
//!
//! `cargo run --release -p bitmoe-simd --example dot_throughput [MiB [TYPE]]` streams a weight
//! matrix of MiB (default 256, larger than the caches) row by row against one activation
//! row of 7168 elements (the DeepSeek-R1 hidden size), as a GEMV does. Not a test; a
//! quick check that the SIMD kernels pay off (criterion benches live in the main crate).

use std::hint::black_box;
use std::time::Instant;

use bitmoe_simd::{GgmlType, Isa, Kernels};

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let only = std::env::args().nth(2);
    let k = 7168;
    let types = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::IQ4_NL,
        GgmlType::Q2_K,
        GgmlType::Q3_K,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::IQ1_S,
        GgmlType::IQ1_M,
        GgmlType::IQ2_XXS,
        GgmlType::IQ2_XS,
        GgmlType::IQ2_S,
        GgmlType::IQ3_XXS,
        GgmlType::IQ3_S,
        GgmlType::IQ4_XS,
        GgmlType::TQ1_0,
        GgmlType::TQ2_0,
    ];
    let x: Vec<f32> = (0..k)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    println!(
        "{:<8} {}",
        "type",
        Isa::all_supported()
            .iter()
            .map(|i| format!("{:>14}", i.name()))
            .collect::<String>()
    );
    for ty in types {
        if only.as_deref().is_some_and(|t| t != ty.name()) {
            continue;
        }
        let row = ty.row_bytes(k).unwrap();
        let rows = (mib << 20) / row;
        // Deterministic bytes with small, finite f16 scales (bit patterns < 0x3C00).
        let mut w: Vec<u8> = (0..rows * row)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for b in w.chunks_exact_mut(ty.block_bytes()) {
            for v in b.iter_mut() {
                if *v > 0x3B {
                    *v &= 0x3B;
                }
            }
        }
        let mut line = format!("{:<8}", ty.name());
        for isa in Isa::all_supported() {
            if std::env::var("BITMOE_ISA").is_ok() && isa != Isa::detect() {
                continue;
            }
            let kern = Kernels::new(isa);
            let act = ty.vec_dot_type().unwrap();
            let mut a = vec![0u8; act.row_bytes(k).unwrap()];
            (kern.quantize(act).unwrap())(&x, &mut a);
            let dot = kern.vec_dot(ty).unwrap();
            let mut best = f64::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                let mut s = 0.0f32;
                for r in w.chunks_exact(row) {
                    s += dot(black_box(r), &a);
                }
                black_box(s);
                best = best.min(t.elapsed().as_secs_f64());
            }
            line += &format!("{:>9.2} GB/s", w.len() as f64 / best / 1e9);
        }
        println!("{line}");
    }
}
