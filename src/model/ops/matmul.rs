//! Matrix kernels on top of the per-type dot products: `W · x` for one activation vector
//! (GEMV, decode) and for several (small-batch GEMM: prefill, or an expert hit by
//! several tokens), split over the caller's rayon pool by rows of `W`.
//!
//! Data flow, as in llama.cpp's CPU backend: the f32 activations are converted once to
//! the weight type's `vec_dot_type` (Q8_K, Q8_0, Q8_1, F16, BF16 or F32), then every
//! output is a dot of a weight row and an activation row. Weights are streamed row by
//! row and left to the hardware prefetcher: software prefetch of whole rows ahead made
//! the GEMV ~1.4x slower here (Q4_K 16384×7168: 11.9 vs 16.9 GB/s at 2 threads, 6.3 vs
//! 9.7 at 1, best of 3 passes over 512 MiB of rotating copies).
//!
//! GEMV (one vector): `vec_dot(row, x)` per row. GEMM (`n > 1`): `vec_dot_n`, which
//! decodes each weight block once for a group of `DOT_N_WIDTH` (4) vectors instead of
//! once per vector (the decode — grid lookups, nibble and scale unpacking — is most of
//! a low-bit dot). Each task walks its rows in tiles of about [`TILE_BYTES`] of weights
//! and, per tile, the vectors group by group: the tile stays in L2 while every group
//! passes over it, and a group's activation rows stay in L1/L2 for the whole tile, so
//! weights cross the memory bus once per call and activations once per tile.
//! `vec_dot_n` is bit-identical to `vec_dot`, so a batch equals the same tokens one at
//! a time.
//!
//! Threads: `pool.install` from outside the pool wakes a worker (tens of µs on a busy
//! VM); the forward pass should run inside `pool.install` once per token so that each
//! matmul's fork-join stays inside the pool and costs well under a microsecond.
//!
//! Layouts: `W` is `rows` rows of `k` elements, `row_bytes` each, contiguous (a GGUF
//! 2-D tensor, or one expert of a 3-D stack). Activations and outputs are row-major per
//! vector: `x[v][k]`, `out[v][rows]`.

use bitmoe_simd::{GgmlType, Kernels, VecDotN, DOT_N_WIDTH};
use rayon::prelude::*;

/// Why a matmul cannot run: shapes or types that do not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatmulError {
    #[error("{ty:?} rows of {k} elements are not whole blocks")]
    NotWholeBlocks { ty: GgmlType, k: usize },
    #[error("weight data is {found} bytes, {rows} rows of {row_bytes} need {expected}")]
    WeightBytes {
        rows: usize,
        row_bytes: usize,
        expected: usize,
        found: usize,
    },
    #[error("{ty:?} has no dot-product kernel (activation-only type)")]
    NoKernel { ty: GgmlType },
    #[error("activations: {found} floats is not a whole number of vectors of {k}")]
    ActivationLength { k: usize, found: usize },
    #[error(
        "activations are {found:?} rows of {found_k}, the weights need {expected:?} rows of {k}"
    )]
    ActivationType {
        expected: GgmlType,
        found: GgmlType,
        k: usize,
        found_k: usize,
    },
    #[error("output has {found} floats, expected {expected}")]
    OutputLength { expected: usize, found: usize },
}

/// A borrowed quantized weight matrix.
#[derive(Debug, Clone, Copy)]
pub struct QMatrix<'a> {
    ty: GgmlType,
    k: usize,
    rows: usize,
    row_bytes: usize,
    data: &'a [u8],
}

impl<'a> QMatrix<'a> {
    /// `data` holds `rows` rows of `k` elements of `ty`.
    pub fn new(ty: GgmlType, k: usize, rows: usize, data: &'a [u8]) -> Result<Self, MatmulError> {
        let row_bytes = ty
            .row_bytes(k)
            .ok_or(MatmulError::NotWholeBlocks { ty, k })?;
        let expected = row_bytes.saturating_mul(rows);
        if data.len() != expected {
            return Err(MatmulError::WeightBytes {
                rows,
                row_bytes,
                expected,
                found: data.len(),
            });
        }
        if ty.vec_dot_type().is_none() {
            return Err(MatmulError::NoKernel { ty });
        }
        Ok(QMatrix {
            ty,
            k,
            rows,
            row_bytes,
            data,
        })
    }

    /// The matrix's bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn ty(&self) -> GgmlType {
        self.ty
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    fn row(&self, r: usize) -> &'a [u8] {
        &self.data[r * self.row_bytes..(r + 1) * self.row_bytes]
    }
}

/// `n` activation vectors of `k` elements, converted to one weight type's partner.
#[derive(Debug, Clone)]
pub struct Activations {
    ty: GgmlType,
    k: usize,
    n: usize,
    row_bytes: usize,
    // [n][row_bytes]
    data: Vec<u8>,
}

impl Activations {
    /// Converts `x` (`n` vectors of `k` floats, back to back) for weights of `weight_ty`.
    pub fn quantize(
        kernels: &Kernels,
        weight_ty: GgmlType,
        x: &[f32],
        k: usize,
    ) -> Result<Activations, MatmulError> {
        let ty = weight_ty
            .vec_dot_type()
            .ok_or(MatmulError::NoKernel { ty: weight_ty })?;
        let row_bytes = ty
            .row_bytes(k)
            .ok_or(MatmulError::NotWholeBlocks { ty, k })?;
        if k == 0 || !x.len().is_multiple_of(k) {
            return Err(MatmulError::ActivationLength { k, found: x.len() });
        }
        let n = x.len() / k;
        let quantize = kernels.quantize(ty).ok_or(MatmulError::NoKernel { ty })?;
        let mut data = vec![0u8; n * row_bytes];
        for (src, dst) in x.chunks_exact(k).zip(data.chunks_exact_mut(row_bytes)) {
            quantize(src, dst);
        }
        Ok(Activations {
            ty,
            k,
            n,
            row_bytes,
            data,
        })
    }

    /// Number of vectors.
    pub fn n(&self) -> usize {
        self.n
    }

    fn vector(&self, v: usize) -> &[u8] {
        &self.data[v * self.row_bytes..(v + 1) * self.row_bytes]
    }

    /// Every vector, as the row list `VecDotN::dot` takes.
    fn vectors(&self) -> Vec<&[u8]> {
        self.data.chunks_exact(self.row_bytes).collect()
    }
}

/// Weight bytes per GEMM tile: a tile and a group of activation rows (4 × 19 KB at
/// k = 16384 in Q8_K) fit a 512 KiB L2 with room to spare.
const TILE_BYTES: usize = 128 << 10;

/// Rows per parallel task: enough tasks for load balance, each large enough that the
/// scheduling cost is noise next to streaming its weights.
fn rows_per_task(rows: usize, threads: usize) -> usize {
    const MIN_ROWS: usize = 16;
    let tasks = threads.max(1) * 8;
    rows.div_ceil(tasks).max(MIN_ROWS)
}

/// Checks that `w`, `x` and `out` fit together; the dot kernels for `w`.
fn check(
    kernels: &Kernels,
    w: &QMatrix<'_>,
    x: &Activations,
    out: &[f32],
) -> Result<(bitmoe_simd::VecDotFn, VecDotN), MatmulError> {
    let expected_ty =
        w.ty.vec_dot_type()
            .ok_or(MatmulError::NoKernel { ty: w.ty })?;
    if x.ty != expected_ty || x.k != w.k {
        return Err(MatmulError::ActivationType {
            expected: expected_ty,
            found: x.ty,
            k: w.k,
            found_k: x.k,
        });
    }
    if out.len() != x.n * w.rows {
        return Err(MatmulError::OutputLength {
            expected: x.n * w.rows,
            found: out.len(),
        });
    }
    let no_kernel = MatmulError::NoKernel { ty: w.ty };
    let one = kernels.vec_dot(w.ty).ok_or(no_kernel.clone())?;
    let many = kernels.vec_dot_n(w.ty).ok_or(no_kernel)?;
    Ok((one, many))
}

/// Rows per GEMM tile of `w` (see [`TILE_BYTES`]).
fn tile_rows(w: &QMatrix<'_>) -> usize {
    (TILE_BYTES / w.row_bytes.max(1)).max(1)
}

/// `block[i][v] = dot(W[r0 + i], x[v])` for the rows of `block` ([rows][n]): tiles of
/// `tile` rows, and per tile the vectors in groups of `DOT_N_WIDTH` (see the module
/// notes).
fn gemm_rows(
    dot_n: VecDotN,
    w: &QMatrix<'_>,
    acts: &[&[u8]],
    tile: usize,
    r0: usize,
    block: &mut [f32],
) {
    let n = acts.len();
    for (t, tile_out) in block.chunks_mut(tile * n).enumerate() {
        let t0 = r0 + t * tile;
        for (g, group) in acts.chunks(DOT_N_WIDTH).enumerate() {
            let v0 = g * DOT_N_WIDTH;
            for (i, row_out) in tile_out.chunks_exact_mut(n).enumerate() {
                dot_n.dot(w.row(t0 + i), group, &mut row_out[v0..v0 + group.len()]);
            }
        }
    }
}

/// [`matmul`] on the calling thread: for small matrices inside an outer parallel loop
/// (MLA's per-head products), where a fork-join per call would cost more than the work.
pub fn matmul_local(
    kernels: &Kernels,
    w: &QMatrix<'_>,
    x: &Activations,
    out: &mut [f32],
) -> Result<(), MatmulError> {
    let (_, dot_n) = check(kernels, w, x, out)?;
    let acts = x.vectors();
    let mut vals = vec![0f32; x.n];
    for r in 0..w.rows {
        dot_n.dot(w.row(r), &acts, &mut vals);
        for (v, &val) in vals.iter().enumerate() {
            out[v * w.rows + r] = val;
        }
    }
    Ok(())
}

/// `out[v][r] = dot(W[r], x[v])` for every vector `v` and row `r`, on `pool`.
pub fn matmul(
    kernels: &Kernels,
    pool: &rayon::ThreadPool,
    w: &QMatrix<'_>,
    x: &Activations,
    out: &mut [f32],
) -> Result<(), MatmulError> {
    let (dot, dot_n) = check(kernels, w, x, out)?;
    let chunk = rows_per_task(w.rows, pool.current_num_threads());
    if x.n == 1 {
        let a = x.vector(0);
        pool.install(|| {
            out.par_chunks_mut(chunk).enumerate().for_each(|(c, out)| {
                let r0 = c * chunk;
                for (i, o) in out.iter_mut().enumerate() {
                    *o = dot(w.row(r0 + i), a);
                }
            })
        });
        return Ok(());
    }
    // GEMM: each task computes a block of rows for all vectors into [rows][n] scratch,
    // then the blocks are scattered into [n][rows].
    let n = x.n;
    let acts = x.vectors();
    let tile = tile_rows(w);
    let blocks: Vec<(usize, Vec<f32>)> = pool.install(|| {
        (0..w.rows.div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let r0 = c * chunk;
                let r1 = (r0 + chunk).min(w.rows);
                let mut block = vec![0f32; (r1 - r0) * n];
                gemm_rows(dot_n, w, &acts, tile, r0, &mut block);
                (r0, block)
            })
            .collect()
    });
    for (r0, block) in blocks {
        for (i, vals) in block.chunks_exact(n).enumerate() {
            for (v, &val) in vals.iter().enumerate() {
                out[v * w.rows + r0 + i] = val;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitmoe_simd::Isa;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// Q8_0 weights with known values: row r, element j = (r + j) % 7 - 3, scale 1.
    fn q8_0_matrix(rows: usize, k: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for r in 0..rows {
            for b in 0..k / 32 {
                data.extend_from_slice(&half::f16::from_f32(1.0).to_le_bytes());
                for j in 0..32 {
                    data.push((((r + b * 32 + j) % 7) as i8 - 3) as u8);
                }
            }
        }
        data
    }

    #[test]
    fn gemv_and_gemm_match_a_plain_loop_at_every_isa_and_thread_count() {
        let (rows, k, n) = (37, 96, 5);
        let data = q8_0_matrix(rows, k);
        let x: Vec<f32> = (0..n * k).map(|i| ((i * 13) % 17) as f32 - 8.0).collect();
        // Q8_0 rounds each x to a multiple of d = amax(block) / 127, an error of at
        // most d / 2 per element: bound each output by Σ |w| · d / 2.
        let mut expected = vec![0f32; n * rows];
        let mut bound = vec![0f32; n * rows];
        for v in 0..n {
            let xv = &x[v * k..(v + 1) * k];
            for r in 0..rows {
                let w = |j: usize| ((r + j) % 7) as f32 - 3.0;
                expected[v * rows + r] = (0..k).map(|j| w(j) * xv[j]).sum();
                bound[v * rows + r] = (0..k)
                    .map(|j| {
                        let b = j / 32 * 32;
                        let amax = xv[b..b + 32].iter().fold(0f32, |m, x| m.max(x.abs()));
                        w(j).abs() * amax / 127.0 / 2.0
                    })
                    .sum::<f32>()
                    + 1e-3;
            }
        }
        for isa in Isa::all_supported() {
            let kernels = Kernels::new(isa);
            let w = QMatrix::new(GgmlType::Q8_0, k, rows, &data).unwrap();
            for threads in [1, 2, 3] {
                let pool = pool(threads);
                for nv in [1, n] {
                    let acts =
                        Activations::quantize(&kernels, GgmlType::Q8_0, &x[..nv * k], k).unwrap();
                    let mut out = vec![0f32; nv * rows];
                    matmul(&kernels, &pool, &w, &acts, &mut out).unwrap();
                    for (i, (o, e)) in out.iter().zip(&expected).enumerate() {
                        assert!(
                            (o - e).abs() <= bound[i],
                            "{isa:?} t{threads} n{nv} [{i}]: {o} vs {e}"
                        );
                    }
                }
            }
        }
    }

    /// Random weight bytes whose every aligned byte pair is a modest f16 (so any block
    /// scale field is sane, as in the kernel benchmarks).
    fn random_weights(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                if i % 2 == 1 {
                    ((s as u8) & 0b1000_0011) | (0b01101 << 2)
                } else {
                    s as u8
                }
            })
            .collect()
    }

    #[test]
    fn gemm_equals_one_gemv_per_vector_bit_for_bit_for_the_fused_types_and_across_tiles() {
        let (rows, k) = (45, 512);
        let types = [
            GgmlType::IQ1_S,
            GgmlType::IQ2_XXS,
            GgmlType::Q4_K,
            GgmlType::Q5_K,
            GgmlType::Q6_K,
            GgmlType::Q8_0,
        ];
        let x: Vec<f32> = (0..13 * k)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for isa in Isa::all_supported() {
            let kernels = Kernels::new(isa);
            for ty in types {
                let data = random_weights(ty.row_bytes(k).unwrap() * rows, ty as u64 + 1);
                let w = QMatrix::new(ty, k, rows, &data).unwrap();
                for n in [2, 3, 4, 5, 8, 13] {
                    let x = &x[..n * k];
                    let acts = Activations::quantize(&kernels, ty, x, k).unwrap();
                    // One GEMV per vector: the single-vector kernel.
                    let mut want = vec![0f32; n * rows];
                    for v in 0..n {
                        let a =
                            Activations::quantize(&kernels, ty, &x[v * k..(v + 1) * k], k).unwrap();
                        matmul(
                            &kernels,
                            &pool(1),
                            &w,
                            &a,
                            &mut want[v * rows..(v + 1) * rows],
                        )
                        .unwrap();
                    }
                    // Bit for bit: a batch must equal the same tokens one at a time.
                    let close = |got: &[f32], what: &str| {
                        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                            assert_eq!(
                                g.to_bits(),
                                e.to_bits(),
                                "{isa:?} {ty:?} n{n} {what} [{i}]: {g} vs {e}"
                            );
                        }
                    };
                    let mut out = vec![f32::NAN; n * rows];
                    matmul(&kernels, &pool(2), &w, &acts, &mut out).unwrap();
                    close(&out, "matmul");
                    let mut out = vec![f32::NAN; n * rows];
                    matmul_local(&kernels, &w, &acts, &mut out).unwrap();
                    close(&out, "matmul_local");
                    // Tiles of 1, 4 and 7 rows: every tile and group boundary.
                    let dot_n = kernels.vec_dot_n(ty).unwrap();
                    for tile in [1, 4, 7] {
                        let mut block = vec![f32::NAN; rows * n];
                        gemm_rows(dot_n, &w, &acts.vectors(), tile, 0, &mut block);
                        let got: Vec<f32> = (0..n * rows)
                            .map(|i| block[(i % rows) * n + i / rows])
                            .collect();
                        close(&got, &format!("tile {tile}"));
                    }
                }
            }
        }
    }

    #[test]
    fn shape_errors() {
        let kernels = Kernels::new(Isa::Scalar);
        let data = q8_0_matrix(2, 64);
        assert!(matches!(
            QMatrix::new(GgmlType::Q8_0, 60, 2, &data),
            Err(MatmulError::NotWholeBlocks { .. })
        ));
        assert!(matches!(
            QMatrix::new(GgmlType::Q8_0, 64, 3, &data),
            Err(MatmulError::WeightBytes { .. })
        ));
        assert!(matches!(
            QMatrix::new(GgmlType::Q8_K, 256, 0, &[]),
            Err(MatmulError::NoKernel { .. })
        ));
        let w = QMatrix::new(GgmlType::Q8_0, 64, 2, &data).unwrap();
        let a = Activations::quantize(&kernels, GgmlType::Q8_0, &[0.0; 64], 64).unwrap();
        let mut out = vec![0f32; 3];
        assert!(matches!(
            matmul(&kernels, &pool(1), &w, &a, &mut out),
            Err(MatmulError::OutputLength { .. })
        ));
        let a = Activations::quantize(&kernels, GgmlType::Q4_K, &[0.0; 256], 256).unwrap();
        let mut out = vec![0f32; 2];
        assert!(matches!(
            matmul(&kernels, &pool(1), &w, &a, &mut out),
            Err(MatmulError::ActivationType { .. })
        ));
        assert!(matches!(
            Activations::quantize(&kernels, GgmlType::Q8_0, &[0.0; 65], 64),
            Err(MatmulError::ActivationLength { .. })
        ));
    }
}
