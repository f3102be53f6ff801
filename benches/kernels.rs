//! Kernel benchmarks at DeepSeek-R1 shapes, reported as bytes/s of weights streamed so
//! every number reads directly against memory bandwidth.
//!
//! Groups (criterion ids):
//! - `membw/read/t{T}`: the read-bandwidth probe over 4 GiB (`bitmoe::bandwidth`);
//! - `dot/{type}/{isa}/k=7168`: one weight row · one activation row, in cache;
//! - `gemv/{type}/{isa}/t{T}/{rows}x{k}`: `W · x` over a rotating set of matrices
//!   totalling ≥ 512 MiB, so weights come from DRAM as in real decoding (expert up/gate
//!   7168→2048, expert down 2048→7168, attention q_a 7168→1536, attn_output 16384→7168);
//! - `gemm/{type}/{isa}/t2/{rows}x{k}/n={n}`: `W · X` for n vectors, throughput in weight
//!   bytes per second: every type at expert up 2048x7168 with n = 2, 4, 8, 32 (an expert
//!   hit by a few tokens; prefill), and the attention / dense formats Q4_K, Q6_K at
//!   attn_q_a 1536x7168 and attn_output 7168x16384 with n = 8, 32, 64 (prefill). The
//!   fused `vec_dot_n` kernels decode each weight block once per 4 vectors, so GFLOPS =
//!   bytes/s × n × 2·k / weight bytes grows with n.
//!
//! Filter with criterion's usual argument: `cargo bench --bench kernels -- gemv/iq1_s`.
//! `BITMOE_BENCH_QUICK=1` shortens measurement for smoke runs.

use std::time::Duration;

use bitmoe::bandwidth;
use bitmoe::model::ops::{matmul, Activations, QMatrix};
use bitmoe_simd::{GgmlType, Isa, Kernels};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// The types with hand-written SIMD kernels (issue 3's list).
const TYPES: [GgmlType; 13] = [
    GgmlType::IQ1_S,
    GgmlType::IQ1_M,
    GgmlType::IQ2_XXS,
    GgmlType::Q2_K,
    GgmlType::Q3_K,
    GgmlType::Q4_K,
    GgmlType::Q5_K,
    GgmlType::Q6_K,
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::TQ1_0,
    GgmlType::TQ2_0,
];

/// (rows, k, label) of the GEMV shapes.
const SHAPES: [(usize, usize, &str); 4] = [
    (2048, 7168, "expert_up"),
    (7168, 2048, "expert_down"),
    (1536, 7168, "attn_q_a"),
    (7168, 16384, "attn_output"),
];

/// Weight bytes cycled through per GEMV benchmark: 16× the L3 of a big desktop, so no
/// matrix is still cached when its turn comes again.
const ROTATION_BYTES: usize = 512 << 20;

/// Pseudo-random bytes in which every pair of adjacent bytes, read as an f16, is a
/// normal number between 1/4 and 1 in magnitude: block scales of any format then hold
/// sane values (no NaN, no subnormal slow paths), while quant bits stay random.
fn weight_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // sign (bit 7) and low mantissa bits (0-1) random; exponent bits 2-6 = 01101.
            ((s as u8) & 0b1000_0011) | (0b01101 << 2)
        })
        .collect()
}

fn floats(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn quick() -> bool {
    std::env::var("BITMOE_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    if quick() {
        g.warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_millis(500));
    } else {
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
    }
    g
}

fn bench_membw(c: &mut Criterion) {
    let buf = bandwidth::probe_buffer(if quick() { 256 << 20 } else { 4 << 30 });
    let mut g = group(c, "membw");
    g.throughput(Throughput::Bytes(
        std::mem::size_of_val(buf.as_slice()) as u64
    ));
    for threads in [1, 2] {
        let p = pool(threads);
        g.bench_function(format!("read/t{threads}"), |b| {
            b.iter(|| bandwidth::read_all(&p, &buf))
        });
    }
    g.finish();
}

fn bench_dot(c: &mut Criterion) {
    // The kernel alone, called directly: no thread pool, one row in L1.
    let k = 7168;
    let mut g = group(c, "dot");
    for ty in TYPES {
        let row = weight_bytes(ty.row_bytes(k).unwrap(), 1);
        for isa in Isa::all_supported() {
            let kernels = Kernels::new(isa);
            let act_ty = ty.vec_dot_type().unwrap();
            let mut act = vec![0u8; act_ty.row_bytes(k).unwrap()];
            kernels.quantize(act_ty).unwrap()(&floats(k, 2), &mut act);
            let dot = kernels.vec_dot(ty).unwrap();
            g.throughput(Throughput::Bytes(row.len() as u64));
            g.bench_function(format!("{}/{}/k={k}", ty.name(), isa.name()), |b| {
                b.iter(|| dot(std::hint::black_box(&row), std::hint::black_box(&act)))
            });
        }
    }
    g.finish();
}

fn bench_gemv(c: &mut Criterion) {
    let mut g = group(c, "gemv");
    for ty in TYPES {
        for (si, &(rows, k, label)) in SHAPES.iter().enumerate() {
            let bytes = ty.row_bytes(k).unwrap() * rows;
            let copies = (ROTATION_BYTES / bytes).max(2);
            let weights = weight_bytes(bytes * copies, 3 + si as u64);
            let x = floats(k, 4);
            g.throughput(Throughput::Bytes(bytes as u64));
            for isa in Isa::all_supported() {
                let kernels = Kernels::new(isa);
                let acts = Activations::quantize(&kernels, ty, &x, k).unwrap();
                // One thread only for the first shape: the rest is the 2-thread table.
                let thread_counts: &[usize] = if si == 0 { &[1, 2] } else { &[2] };
                for &threads in thread_counts {
                    let p = pool(threads);
                    let mut out = vec![0f32; rows];
                    let mut i = 0;
                    let id = BenchmarkId::new(
                        format!("{}/{}/t{threads}", ty.name(), isa.name()),
                        format!("{rows}x{k}_{label}"),
                    );
                    g.bench_function(id, |b| {
                        b.iter(|| {
                            let m = &weights[i * bytes..(i + 1) * bytes];
                            i = (i + 1) % copies;
                            let w = QMatrix::new(ty, k, rows, m).unwrap();
                            matmul(&kernels, &p, &w, &acts, &mut out).unwrap();
                        })
                    });
                }
            }
        }
    }
    g.finish();
}

/// (type, rows, k, vector counts) of the GEMM benchmarks.
fn gemm_cases() -> Vec<(GgmlType, usize, usize, &'static [usize])> {
    let mut cases: Vec<_> = TYPES
        .iter()
        .map(|&ty| (ty, 2048, 7168, &[2, 4, 8, 32][..]))
        .collect();
    for ty in [GgmlType::Q4_K, GgmlType::Q6_K] {
        cases.push((ty, 1536, 7168, &[8, 32, 64]));
        cases.push((ty, 7168, 16384, &[8, 32, 64]));
    }
    cases
}

fn bench_gemm(c: &mut Criterion) {
    let mut g = group(c, "gemm");
    for (ty, rows, k, ns) in gemm_cases() {
        let bytes = ty.row_bytes(k).unwrap() * rows;
        let copies = (ROTATION_BYTES / bytes).max(2);
        let weights = weight_bytes(bytes * copies, 5);
        for &n in ns {
            let x = floats(k * n, 6);
            g.throughput(Throughput::Bytes(bytes as u64));
            for isa in Isa::all_supported() {
                let kernels = Kernels::new(isa);
                let acts = Activations::quantize(&kernels, ty, &x, k).unwrap();
                let p = pool(2);
                let mut out = vec![0f32; rows * n];
                let mut i = 0;
                let id = format!("{}/{}/t2/{rows}x{k}/n={n}", ty.name(), isa.name());
                g.bench_function(id, |b| {
                    b.iter(|| {
                        let m = &weights[i * bytes..(i + 1) * bytes];
                        i = (i + 1) % copies;
                        let w = QMatrix::new(ty, k, rows, m).unwrap();
                        matmul(&kernels, &p, &w, &acts, &mut out).unwrap();
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench_membw, bench_dot, bench_gemv, bench_gemm
}
criterion_main!(benches);
