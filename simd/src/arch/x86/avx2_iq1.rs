//! AVX2 dots of IQ1_S and IQ1_M against Q8_K, with the grid lookups prepared two
//! blocks ahead. These are the routed-expert formats of the DeepSeek-R1 "1.58-bit"
//! releases, so their speed is decode speed.
//!
//! Scalar references: [`crate::blocks::iq1`]. Both formats are 32 table lookups of 8
//! bytes per 256 weights; the work is dominated by computing the 32 indices and joining
//! four rows into a 256-bit register, so the kernels do as little else as possible:
//! ```text
//! IQ1_S:  T = Σ_ib 8·ls·Σ (grid+1)·y  +  Σ_ib ls·(σ−8)·Y_ib       (= 8·A + D, exact)
//!           rows of grid+1 ∈ {0,1,2} from IQ1S_GRID_U (unsigned: maddubs as is),
//!           Y_ib = bsums[2ib] + bsums[2ib+1], one madd for all 8 sub-blocks
//! IQ1_M:  T = Σ_ib Σ_h ls_h·Σ (8·grid+σ_g+9)·y − 9·Σ_ib Σ_h ls_h·Y_h (= 8·A + D, exact)
//!           rows from IQ1M_W8U (12-bit index: grid index | delta bit << 11), h = the two
//!           16-element halves of a sub-block (scales ls1, ls2), Y_h = bsums[2ib+h]
//! acc (8 × f32) += (dx·dy)·T  per block (FMA);   result = Σ acc / 8
//! ```
//! `T` is an exact integer in every lane; the float result differs from the scalar
//! reference only by summation order (8 lanes instead of one running sum).
//!
//! Lookup plan: for block `i + 2` the 32 grid indices are computed with SIMD (byte
//! offsets `8·idx`, four u16 per u64 word, one word per sub-block) and stored in a
//! four-slot ring with the sub-block scales; block `i` reads its words with one scalar
//! load each, splits them with shifts and loads the rows with `movsd` / `movhps`. Why
//! two blocks ahead: reading a vector store back with scalar loads right away stalls
//! (store-to-load forwarding fails, and all 32 lookups wait for the store to retire),
//! which serialised the blocks; extracting with `vpextrw` instead loads the two
//! shuffle pipes that already join the rows; and `pdep` (as llama.cpp does) is
//! microcoded and very slow on AMD before Zen 3. Measured on Zen 3, one thread,
//! k = 7168 (`simd/README.md`): IQ1_S 36-40 GFLOPS (the previous kernel 20, llama.cpp's
//! 26), IQ1_M 31-32 (18, 25).
//!
//! The kernels are generic over the number of activation rows `N` ≤ 4
//! (`vec_dot_n_iq1_s`, `vec_dot_n_iq1_m`; the single-row `vec_dot`s are their `N = 1`
//! instances, so GEMM and GEMV agree bit for bit): the plan, the joined rows and the
//! scales of a sub-block are shared by all rows, each with its own block sum and
//! accumulator, so a row costs one load, `maddubs`, `madd` and add per sub-block. Four
//! rows fused: 2.1× the throughput of 4 single-row calls (one thread, in cache,
//! k = 7168).

use core::arch::x86_64::*;

use super::{f16c, hsum_f32, load128, load256, load256_i8};
use crate::blocks::as_blocks;
use crate::blocks::iq1::{BlockIQ1M, BlockIQ1S};
use crate::blocks::q8::BlockQ8K;
use crate::tables::{IQ1M_W8U, IQ1S_GRID_U};

/// How far ahead of the block being multiplied its lookups are prepared.
pub(super) const AHEAD: usize = 2;
/// Ring slots (a power of two above `AHEAD`).
pub(super) const SLOTS: usize = 4;

/// The lookups of one IQ1_S block, prepared ahead.
///
/// Invariant (relied on by [`Iq1sPlan::rows`]): every u16 lane of `offsets` is `8·idx`
/// for a grid index `idx < 2048`, the byte offset of a row of `IQ1S_GRID_U`. Plans are
/// made only by [`Iq1sPlan::ZERO`] and [`Iq1sPlan::new`], which keep it.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(super) struct Iq1sPlan {
    /// Word `ib`: byte offsets of the rows of groups 0..3 of sub-block `ib`, in its u16
    /// lanes 0..3.
    offsets: [u64; 8],
    /// `8·ls` of sub-block `ib` in both i16 halves (a `madd` operand once broadcast).
    pub(super) scales: [u32; 8],
}

impl Iq1sPlan {
    pub(super) const ZERO: Iq1sPlan = Iq1sPlan {
        offsets: [0; 8],
        scales: [0; 8],
    };

    /// The plan of block `x`.
    ///
    /// u16 lane `4ib + g` of the two offset vectors is `qs[4ib+g] << 3 | hi << 11` with
    /// `hi = (qh[ib] >> 3g) & 7`: `qh[ib]` is copied to its four lanes by a byte shuffle
    /// and multiplied by 2^(11−3g) (a left shift by lane), then masked to bits 11..13.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn new(x: &BlockIQ1S) -> Iq1sPlan {
        let qh = load128(&x.qh);
        let qh2 = _mm256_broadcastsi128_si256(qh);
        // Word ib of qh into lanes 4ib..4ib+3 (128-bit halves: ib 0,1 | 2,3), then +8
        // bytes for sub-blocks 4..7.
        let words_lo = _mm256_setr_epi8(
            0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, //
            4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7,
        );
        let words_hi = _mm256_add_epi8(words_lo, _mm256_set1_epi8(8));
        let shift = _mm256_setr_epi16(
            2048, 256, 32, 4, 2048, 256, 32, 4, 2048, 256, 32, 4, 2048, 256, 32, 4,
        );
        let offsets = |words: __m256i, qs: __m128i| {
            let hi = _mm256_mullo_epi16(_mm256_shuffle_epi8(qh2, words), shift);
            let hi = _mm256_and_si256(hi, _mm256_set1_epi16(0x3800));
            _mm256_or_si256(hi, _mm256_slli_epi16::<3>(_mm256_cvtepu8_epi16(qs)))
        };
        let s = _mm_and_si128(_mm_srli_epi16::<12>(qh), _mm_set1_epi16(7));
        let ls8 = _mm256_cvtepu16_epi32(_mm_add_epi16(_mm_slli_epi16::<4>(s), _mm_set1_epi16(8)));
        let mut plan = Iq1sPlan::ZERO;
        let (o, sc) = (plan.offsets.as_mut_ptr(), plan.scales.as_mut_ptr());
        // SAFETY: `offsets` is 64 bytes (two 32-byte stores at byte 0 and 32) and `scales`
        // 32 bytes; storeu has no alignment requirement. The stored lanes are at most
        // 0x3800 | 0x7F8 = 8·2047, which keeps the type invariant.
        unsafe {
            _mm256_storeu_si256(o.cast(), offsets(words_lo, load128(&x.qs)));
            _mm256_storeu_si256(o.add(4).cast(), offsets(words_hi, load128(&x.qs[16..])));
            _mm256_storeu_si256(
                sc.cast(),
                _mm256_or_si256(ls8, _mm256_slli_epi32::<16>(ls8)),
            );
        }
        plan
    }

    /// The four grid rows of sub-block `ib` (group 0 in the lowest bytes).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn rows(&self, ib: usize) -> __m256i {
        // SAFETY: the lanes of an offsets word are byte offsets of rows of IQ1S_GRID_U
        // (type invariant).
        unsafe { join_rows(IQ1S_GRID_U.as_ptr().cast(), self.offsets[ib]) }
    }
}

/// Four 8-byte rows as one vector: row k starts `(word >> 16k) as u16` bytes after
/// `base` and fills bytes 8k..8k+8.
///
/// # Safety
/// Each of the four u16 lanes of `word` must be an offset from `base` with 8 readable
/// bytes there.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn join_rows(base: *const u8, word: u64) -> __m256i {
    // SAFETY: in bounds of the table by the caller's contract.
    let row = |k: u32| unsafe { base.add((word >> (16 * k)) as u16 as usize).cast::<f64>() };
    // SAFETY: each pointer addresses 8 readable bytes (caller's contract); movsd /
    // movhpd have no alignment requirement.
    unsafe {
        let lo = _mm_loadh_pd(_mm_load_sd(row(0)), row(1));
        let hi = _mm_loadh_pd(_mm_load_sd(row(2)), row(3));
        _mm256_castpd_si256(_mm256_set_m128d(hi, lo))
    }
}

/// The i16 multipliers of the bsums in `Σ_ib ls·(σ−8)·Y_ib` of one IQ1_S block: `σ − 8`
/// is −7, or −9 where bit 15 of `qh[ib]` is set, and each `ls·(σ−8)` is copied to the two
/// i16 lanes of its sub-block's bsums, so one `madd` with the bsums gives the shift terms
/// in 8 i32 lanes (lane ib = sub-block ib).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn iq1s_shift_scales(x: &BlockIQ1S) -> __m256i {
    let qh = load128(&x.qh);
    let s = _mm_and_si128(_mm_srli_epi16::<12>(qh), _mm_set1_epi16(7));
    let ls = _mm_add_epi16(_mm_slli_epi16::<1>(s), _mm_set1_epi16(1));
    let neg = _mm_srai_epi16::<15>(qh);
    let c = _mm_mullo_epi16(
        ls,
        _mm_add_epi16(_mm_set1_epi16(-7), _mm_add_epi16(neg, neg)),
    );
    _mm256_set_m128i(_mm_unpackhi_epi16(c, c), _mm_unpacklo_epi16(c, c))
}

/// IQ1_S × Q8_K: the one-row instance of [`vec_dot_n_iq1_s`] (equal to the scalar
/// reference up to float summation order).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq1_s(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_iq1_s::<1>(w, &[a], &mut out);
    out[0]
}

/// IQ1_S × `N` Q8_K rows: each block's plan, grid rows and scales are made once and
/// applied to every activation row (per row: one load, `maddubs`, `madd` and add per
/// sub-block, and its own 8 × i32 block sum and 8 × f32 accumulator).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_iq1_s<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let ys = a.map(as_blocks::<BlockQ8K>);
    let xs = as_blocks::<BlockIQ1S>(w);
    let xs = &xs[..ys.iter().fold(xs.len(), |m, y| m.min(y.len()))];
    let mut ring = [Iq1sPlan::ZERO; SLOTS];
    for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
        *slot = Iq1sPlan::new(x);
    }
    let mut acc = [_mm256_setzero_ps(); N];
    for (i, x) in xs.iter().enumerate() {
        if let Some(ahead) = xs.get(i + AHEAD) {
            ring[(i + AHEAD) % SLOTS] = Iq1sPlan::new(ahead);
        }
        let plan = &ring[i % SLOTS];
        let y = ys.map(|y| &y[i]);
        let shift = iq1s_shift_scales(x);
        let mut sumi = [_mm256_setzero_si256(); N];
        for v in 0..N {
            sumi[v] = _mm256_madd_epi16(load256(&y[v].bsums), shift);
        }
        for ib in 0..8 {
            let q = plan.rows(ib);
            let sc = _mm256_set1_epi32(plan.scales[ib] as i32);
            for v in 0..N {
                let p = _mm256_maddubs_epi16(q, load256_i8(&y[v].qs[32 * ib..]));
                sumi[v] = _mm256_add_epi32(sumi[v], _mm256_madd_epi16(p, sc));
            }
        }
        let dx = f16c(x.d);
        for v in 0..N {
            let d = _mm256_set1_ps(dx * y[v].d());
            acc[v] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[v]), acc[v]);
        }
    }
    for v in 0..N {
        out[v] = 0.125 * hsum_f32(acc[v]);
    }
}

/// The lookups of one IQ1_M block, prepared ahead.
///
/// Invariant (relied on by [`Iq1mPlan::rows`] and [`Iq1mPlan::scales`]): every u16
/// lane of `offsets` is `8·i` for a 12-bit index `i < 4096`, the byte offset of a row of
/// `IQ1M_W8U`, and every entry of `scale_rows` is `32·b` for `b < 64`, the byte offset
/// of a row of `IQ1M_SCALES`. Plans are made only by [`Iq1mPlan::ZERO`] and
/// [`Iq1mPlan::new`], which keep it.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(super) struct Iq1mPlan {
    /// Word `ib`: byte offsets of the rows of groups 0..3 of sub-block `ib`.
    offsets: [u64; 8],
    /// Byte offset of the `IQ1M_SCALES` row of sub-block `ib`.
    scale_rows: [u16; 8],
}

impl Iq1mPlan {
    pub(super) const ZERO: Iq1mPlan = Iq1mPlan {
        offsets: [0; 8],
        scale_rows: [0; 8],
    };

    /// The plan of block `x`.
    ///
    /// u16 lane `4ib + g` of the offset vectors is `qs[4ib+g] << 3 | N << 11` with `N` the
    /// nibble `g mod 2` of `qh[2ib + g/2]`: the byte is shuffled into the lane and
    /// multiplied by 2^11 (low nibble) or 2^7 (high nibble), then masked to bits 11..14.
    /// Scale row of sub-block `ib`: `32·((sc[ib/2] >> 6(ib mod 2)) & 63)`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn new(x: &BlockIQ1M) -> Iq1mPlan {
        let qh2 = _mm256_broadcastsi128_si256(load128(&x.qh));
        // Byte 2ib + g/2 of qh into the low byte of lane 4ib + g (−1: zero byte).
        let bytes_lo = _mm256_setr_epi8(
            0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1, //
            4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1,
        );
        let bytes_hi = _mm256_setr_epi8(
            8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1, //
            12, -1, 12, -1, 13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1,
        );
        let shift = _mm256_setr_epi16(
            2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128,
        );
        let offsets = |bytes: __m256i, qs: __m128i| {
            let hi = _mm256_mullo_epi16(_mm256_shuffle_epi8(qh2, bytes), shift);
            let hi = _mm256_and_si256(hi, _mm256_set1_epi16(0x7800));
            _mm256_or_si256(hi, _mm256_slli_epi16::<3>(_mm256_cvtepu8_epi16(qs)))
        };
        // Scale word ib/2 into lane ib; even lanes take bits 0..5, odd lanes bits 6..11.
        let sc = _mm_cvtsi64_si128(i64::from_le_bytes(x.scales));
        let words = _mm_shuffle_epi8(
            sc,
            _mm_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7),
        );
        let rows =
            _mm_blend_epi16::<0b1010_1010>(_mm_slli_epi16::<5>(words), _mm_srli_epi16::<1>(words));
        let rows = _mm_and_si128(rows, _mm_set1_epi16(0x7E0));
        let mut plan = Iq1mPlan::ZERO;
        let o = plan.offsets.as_mut_ptr();
        // SAFETY: `offsets` is 64 bytes (two 32-byte stores at byte 0 and 32) and
        // `scale_rows` 16 bytes; storeu has no alignment requirement. The stored lanes are
        // at most 0x7800 | 0x7F8 = 8·4095 and 0x7E0 = 32·63, multiples of 8 and 32, which
        // keeps the type invariant.
        unsafe {
            _mm256_storeu_si256(o.cast(), offsets(bytes_lo, load128(&x.qs)));
            _mm256_storeu_si256(o.add(4).cast(), offsets(bytes_hi, load128(&x.qs[16..])));
            _mm_storeu_si128(plan.scale_rows.as_mut_ptr().cast(), rows);
        }
        plan
    }

    /// The four rows `8·grid + σ + 9` of sub-block `ib`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn rows(&self, ib: usize) -> __m256i {
        // SAFETY: the lanes of an offsets word are byte offsets of rows of IQ1M_W8U
        // (type invariant).
        unsafe { join_rows(IQ1M_W8U.as_ptr().cast(), self.offsets[ib]) }
    }

    /// The i16 multipliers of sub-block `ib`: `ls1` × 8 (groups 0, 1), `ls2` × 8.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn scales(&self, ib: usize) -> __m256i {
        let row = usize::from(self.scale_rows[ib]);
        // SAFETY: `row` is 32·b with b < 64 (type invariant): 32 readable bytes inside the
        // 64 × 32 bytes of IQ1M_SCALES; loadu has no alignment requirement.
        unsafe { _mm256_loadu_si256(IQ1M_SCALES.0.as_ptr().cast::<u8>().add(row).cast()) }
    }
}

/// The i16 multipliers of the bsums in `−9·Σ_ib (ls1·bsums[2ib] + ls2·bsums[2ib+1])` of
/// one IQ1_M block: i16 lane `2ib + h` gets `−9·ls_h` of sub-block `ib`, so one `madd`
/// with the bsums gives the shift terms in 8 i32 lanes.
///
/// Scale word `ib/2` (four lanes per word) multiplied by 2^(9 − field shift) moves each
/// 3-bit field to bits 9..11.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn iq1m_shift_scales(x: &BlockIQ1M) -> __m256i {
    let sc = _mm256_set1_epi64x(i64::from_le_bytes(x.scales));
    let words = _mm256_shuffle_epi8(
        sc,
        _mm256_setr_epi8(
            0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, //
            4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7,
        ),
    );
    let field = _mm256_setr_epi16(512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1);
    let s = _mm256_and_si256(
        _mm256_srli_epi16::<9>(_mm256_mullo_epi16(words, field)),
        _mm256_set1_epi16(7),
    );
    // −9·(2s + 1) = −18·s − 9
    _mm256_sub_epi16(
        _mm256_set1_epi16(-9),
        _mm256_mullo_epi16(s, _mm256_set1_epi16(18)),
    )
}

/// IQ1_M × Q8_K: the one-row instance of [`vec_dot_n_iq1_m`] (equal to the scalar
/// reference up to float summation order).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq1_m(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_iq1_m::<1>(w, &[a], &mut out);
    out[0]
}

/// IQ1_M × `N` Q8_K rows, as [`vec_dot_n_iq1_s`]: plan, rows and scales once per block,
/// one load, `maddubs`, `madd` and add per sub-block and row.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_iq1_m<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let ys = a.map(as_blocks::<BlockQ8K>);
    let xs = as_blocks::<BlockIQ1M>(w);
    let xs = &xs[..ys.iter().fold(xs.len(), |m, y| m.min(y.len()))];
    let mut ring = [Iq1mPlan::ZERO; SLOTS];
    for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
        *slot = Iq1mPlan::new(x);
    }
    let mut acc = [_mm256_setzero_ps(); N];
    for (i, x) in xs.iter().enumerate() {
        if let Some(ahead) = xs.get(i + AHEAD) {
            ring[(i + AHEAD) % SLOTS] = Iq1mPlan::new(ahead);
        }
        let plan = &ring[i % SLOTS];
        let y = ys.map(|y| &y[i]);
        let shift = iq1m_shift_scales(x);
        let mut sumi = [_mm256_setzero_si256(); N];
        for v in 0..N {
            sumi[v] = _mm256_madd_epi16(load256(&y[v].bsums), shift);
        }
        for ib in 0..8 {
            let q = plan.rows(ib);
            let sc = plan.scales(ib);
            for v in 0..N {
                let p = _mm256_maddubs_epi16(q, load256_i8(&y[v].qs[32 * ib..]));
                sumi[v] = _mm256_add_epi32(sumi[v], _mm256_madd_epi16(p, sc));
            }
        }
        let dx = f16c(iq1m_d_bits(x));
        for v in 0..N {
            let d = _mm256_set1_ps(dx * y[v].d());
            acc[v] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[v]), acc[v]);
        }
    }
    for v in 0..N {
        out[v] = 0.125 * hsum_f32(acc[v]);
    }
}

/// The f16 bits of an IQ1_M block's `d`: nibble k = bits 12..15 of scale word k.
#[inline]
pub(super) fn iq1m_d_bits(x: &BlockIQ1M) -> [u8; 2] {
    let s = u64::from_le_bytes(x.scales);
    let bits =
        ((s >> 12) & 0x000F) | ((s >> 24) & 0x00F0) | ((s >> 36) & 0x0F00) | ((s >> 48) & 0xF000);
    (bits as u16).to_le_bytes()
}

/// For the 6 scale bits `b` of an IQ1_M sub-block: 8 × i16 `2·(b & 7) + 1` for groups
/// 0 and 1, then 8 × i16 `2·(b >> 3) + 1` for groups 2 and 3, as little-endian bytes.
/// A formula, evaluated at compile time; 32-byte aligned so no row splits a cache line.
static IQ1M_SCALES: Aligned32<[[u8; 32]; 64]> = Aligned32(iq1m_scales());

#[repr(C, align(32))]
struct Aligned32<T>(T);

const fn iq1m_scales() -> [[u8; 32]; 64] {
    let mut out = [[0u8; 32]; 64];
    let mut b = 0;
    while b < 64 {
        let mut k = 0;
        while k < 16 {
            let s = if k < 8 { b & 7 } else { b >> 3 };
            out[b][2 * k] = (2 * s + 1) as u8;
            k += 1;
        }
        b += 1;
    }
    out
}
