//! AVX2 dot of IQ2_XXS against Q8_K (IQ1_S and IQ1_M: `avx2_iq1`).
//!
//! Scalar reference: [`crate::blocks::iq2`]. A sub-block `ib` is the words `a0` (four
//! grid indices, one byte each) and `a1` (four 7-bit sign fields, then the scale `s`):
//! ```text
//! B = Σ_ib ls·Σ_g Σ_j grid[a0.g][j] · (±y)   ls = 2s+1;   acc (8 × f32) += (dx·dy)·B
//! result = Σ acc / 8
//! ```
//! The grid rows (magnitudes 8..43, unsigned for `maddubs`) are four byte-indexed loads
//! joined with `movsd` / `movhps`. The signs are computed, not looked up (that was four
//! more loads, their index arithmetic and a second row join per sub-block): for all eight
//! `a1` words of block `i + 2` at once, the four 7-bit fields are spread to bytes, the
//! eighth sign bit is their parity (two nibble look-ups with `pshufb`), and the sign
//! bytes and `ls` are stored in a small ring, so block `i` only broadcasts its word
//! from memory, copies each sign byte over its group's 8 bytes with one `pshufb`, and
//! `and` + `cmpeq` with each byte's bit give the 0x00 / 0xFF masks that negate `y` as
//! `(y ^ m) − m`. Two blocks ahead, like the IQ1 kernels: the shuffle pipes are the
//! bottleneck here, and broadcasting words that were stored long before costs none.
//! `B` is exact in every lane; the float result differs from the reference only by
//! summation order. `vec_dot_n_iq2_xxs` shares the rows, masks and scales of each
//! sub-block among up to 4 activation rows (GEMM).

use core::arch::x86_64::*;

use super::{f16c, hsum_f32, load256, load256_i8};
use crate::blocks::as_blocks;
use crate::blocks::iq2::BlockIQ2XXS;
use crate::blocks::q8::BlockQ8K;
use crate::tables::IQ2XXS_GRID;

/// How far ahead of the block being multiplied its signs and scales are prepared.
pub(super) const AHEAD: usize = 2;
/// Ring slots (a power of two above `AHEAD`).
pub(super) const SLOTS: usize = 4;

/// Signs and scales of one IQ2_XXS block, prepared ahead. Entry `2ib + 1` belongs to
/// sub-block `ib` (the position of its `a1` word among the block's u32 words); the even
/// entries are unused.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(super) struct Iq2xxsPlan {
    /// Byte g: the 8 sign bits of group g (7 stored bits + their parity in bit 7).
    pub(super) signs: [u32; 16],
    /// `ls` in both i16 halves (a `madd` operand once broadcast).
    pub(super) scales: [u32; 16],
}

impl Iq2xxsPlan {
    pub(super) const ZERO: Iq2xxsPlan = Iq2xxsPlan {
        signs: [0; 16],
        scales: [0; 16],
    };

    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn new(x: &BlockIQ2XXS) -> Iq2xxsPlan {
        // parity(n) << 7 for n < 16.
        let odd = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            0, -128, -128, 0, -128, 0, 0, -128, -128, 0, 0, -128, 0, -128, -128, 0,
        ));
        let nibble = _mm256_set1_epi8(0x0F);
        let mut plan = Iq2xxsPlan::ZERO;
        for half in 0..2 {
            let a = load256(&x.qs[32 * half..]);
            // Field g (bits 7g..7g+7) to byte g.
            let field =
                |g: i32, v: __m256i| _mm256_and_si256(v, _mm256_set1_epi32(0x7F << (8 * g)));
            let bytes = _mm256_or_si256(
                _mm256_or_si256(field(0, a), field(1, _mm256_slli_epi32::<1>(a))),
                _mm256_or_si256(
                    field(2, _mm256_slli_epi32::<2>(a)),
                    field(3, _mm256_slli_epi32::<3>(a)),
                ),
            );
            let lo = _mm256_shuffle_epi8(odd, _mm256_and_si256(bytes, nibble));
            let hi =
                _mm256_shuffle_epi8(odd, _mm256_and_si256(_mm256_srli_epi16::<4>(bytes), nibble));
            let signs = _mm256_or_si256(bytes, _mm256_xor_si256(lo, hi));
            let ls = _mm256_or_si256(
                _mm256_slli_epi32::<1>(_mm256_srli_epi32::<28>(a)),
                _mm256_set1_epi32(1),
            );
            let ls = _mm256_or_si256(ls, _mm256_slli_epi32::<16>(ls));
            // SAFETY: entries 8·half .. 8·half + 8 of the two 16-entry arrays are 32 bytes
            // each; storeu has no alignment requirement.
            unsafe {
                _mm256_storeu_si256(plan.signs.as_mut_ptr().add(8 * half).cast(), signs);
                _mm256_storeu_si256(plan.scales.as_mut_ptr().add(8 * half).cast(), ls);
            }
        }
        plan
    }

    /// 0x00 / 0xFF masks of sub-block `ib`: byte `8g + j` is 0xFF iff element `j` of
    /// group `g` is negative.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn sign_masks(&self, ib: usize) -> __m256i {
        let word = _mm256_set1_epi32(self.signs[2 * ib + 1] as i32);
        // Byte g over bytes 8g..8g+8 (groups 0, 1 | 2, 3 per 128-bit half).
        let spread = _mm256_set_epi64x(
            0x0303_0303_0303_0303,
            0x0202_0202_0202_0202,
            0x0101_0101_0101_0101,
            0,
        );
        let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201_u64 as i64);
        let s = _mm256_and_si256(_mm256_shuffle_epi8(word, spread), bit);
        _mm256_cmpeq_epi8(s, bit)
    }
}

/// Four grid rows as one vector (row 0 in the lowest bytes).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn join_rows(r: [&u64; 4]) -> __m256i {
    let p = r.map(|r| (r as *const u64).cast::<f64>());
    // SAFETY: each pointer comes from a reference to a u64: 8 readable bytes; movsd /
    // movhpd have no alignment requirement.
    unsafe {
        let lo = _mm_loadh_pd(_mm_load_sd(p[0]), p[1]);
        let hi = _mm_loadh_pd(_mm_load_sd(p[2]), p[3]);
        _mm256_castpd_si256(_mm256_set_m128d(hi, lo))
    }
}

/// IQ2_XXS × Q8_K (equal to the scalar reference up to float summation order).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq2_xxs(w: &[u8], a: &[u8]) -> f32 {
    let xs = as_blocks::<BlockIQ2XXS>(w);
    let ys = as_blocks::<BlockQ8K>(a);
    let mut ring = [Iq2xxsPlan::ZERO; SLOTS];
    for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
        *slot = Iq2xxsPlan::new(x);
    }
    let mut acc = _mm256_setzero_ps();
    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
        if let Some(ahead) = xs.get(i + AHEAD) {
            ring[(i + AHEAD) % SLOTS] = Iq2xxsPlan::new(ahead);
        }
        let plan = &ring[i % SLOTS];
        let mut sumi = _mm256_setzero_si256();
        for ib in 0..8 {
            let grid = |g: usize| &IQ2XXS_GRID[usize::from(x.qs[8 * ib + g])];
            let q = join_rows([grid(0), grid(1), grid(2), grid(3)]);
            let m = plan.sign_masks(ib);
            let yv = load256_i8(&y.qs[32 * ib..]);
            let p = _mm256_maddubs_epi16(q, _mm256_sub_epi8(_mm256_xor_si256(yv, m), m));
            let sc = _mm256_set1_epi32(plan.scales[2 * ib + 1] as i32);
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
        }
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    0.125 * hsum_f32(acc)
}

/// IQ2_XXS × `N` Q8_K rows: each sub-block's grid rows, sign masks and scale are made
/// once; the masks become ±1 bytes so that one `psignb` per activation row applies
/// them (`y` is in −127..=127, so negation is exact, as with `(y ^ m) − m`). Per row:
/// one load, `psignb`, `maddubs`, `madd` and add per sub-block. `out[v]` equals
/// `vec_dot_iq2_xxs(w, a[v])` up to float summation order.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_iq2_xxs<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let ys = a.map(as_blocks::<BlockQ8K>);
    let xs = as_blocks::<BlockIQ2XXS>(w);
    let xs = &xs[..ys.iter().fold(xs.len(), |m, y| m.min(y.len()))];
    let mut ring = [Iq2xxsPlan::ZERO; SLOTS];
    for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
        *slot = Iq2xxsPlan::new(x);
    }
    let one = _mm256_set1_epi8(1);
    let mut acc = [_mm256_setzero_ps(); N];
    for (i, x) in xs.iter().enumerate() {
        if let Some(ahead) = xs.get(i + AHEAD) {
            ring[(i + AHEAD) % SLOTS] = Iq2xxsPlan::new(ahead);
        }
        let plan = &ring[i % SLOTS];
        let y = ys.map(|y| &y[i]);
        let mut sumi = [_mm256_setzero_si256(); N];
        for ib in 0..8 {
            let grid = |g: usize| &IQ2XXS_GRID[usize::from(x.qs[8 * ib + g])];
            let q = join_rows([grid(0), grid(1), grid(2), grid(3)]);
            let s = _mm256_or_si256(plan.sign_masks(ib), one);
            let sc = _mm256_set1_epi32(plan.scales[2 * ib + 1] as i32);
            for v in 0..N {
                let yv = _mm256_sign_epi8(load256_i8(&y[v].qs[32 * ib..]), s);
                let p = _mm256_maddubs_epi16(q, yv);
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
