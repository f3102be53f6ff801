//! Lookup tables of the i-quants, embedded as data.
//!
//! Owns: the codebooks (`iq*_grid`), the sign expansion table `ksigns_iq2xs` and the
//! IQ4_NL non-linear values. The bytes are the little-endian `.bin` files of
//! `shared/spec/tables/` (extracted from ggml, checked against the `gguf` Python
//! package), copied into `simd/data/` and decoded at compile time by the `const fn`s
//! below, so no table is a pasted literal and a wrong file length fails the build.
//!
//! | table            | entries | element                                          |
//! |------------------|--------:|--------------------------------------------------|
//! | `IQ1S_GRID`      | 2048    | u64: 8 × int8 in {-1, 0, +1} (IQ1_S, IQ1_M)      |
//! | `IQ1S_GRID_U`    | 2048    | u64: the same + 1, i.e. u8 in {0, 1, 2} (derived) |
//! | `IQ1M_W8U`       | 4096    | u64: 8·grid ± 1 + 9 by delta bit 11 (derived, IQ1_M) |
//! | `IQ2XXS_GRID`    | 256     | u64: 8 × u8 in {8, 25, 43}                       |
//! | `IQ2XS_GRID`     | 512     | u64: 8 × u8 in {8, 25, 43}                       |
//! | `IQ2S_GRID`      | 1024    | u64: 8 × u8 in {8, 25, 43}                       |
//! | `IQ3XXS_GRID`    | 256     | u32: 4 × u8 in {4, 12, …, 62}                    |
//! | `IQ3S_GRID`      | 512     | u32: 4 × u8 in {1, 3, …, 15}                     |
//! | `KSIGNS_IQ2XS`   | 128     | u8: 7 sign bits + even-parity 8th bit            |
//! | `KSIGNS64`       | 128     | u64: the same signs as 0x00/0xFF bytes (derived) |
//! | `SIGN_BYTE_MASKS`| 256     | u64: bit j of the index → byte j = 0xFF (formula) |
//! | `KVALUES_IQ4NL`  | 16      | i8: the IQ4_NL / IQ4_XS code values              |
//!
//! Byte `j` of a grid word (little-endian) is element `j` of its group. Depends on
//! nothing.

const fn decode_u64<const N: usize>(bytes: &[u8]) -> [u64; N] {
    assert!(bytes.len() == N * 8, "table file has the wrong length");
    let mut out = [0u64; N];
    let mut i = 0;
    while i < N {
        let mut w = [0u8; 8];
        let mut k = 0;
        while k < 8 {
            w[k] = bytes[8 * i + k];
            k += 1;
        }
        out[i] = u64::from_le_bytes(w);
        i += 1;
    }
    out
}

const fn decode_u32<const N: usize>(bytes: &[u8]) -> [u32; N] {
    assert!(bytes.len() == N * 4, "table file has the wrong length");
    let mut out = [0u32; N];
    let mut i = 0;
    while i < N {
        out[i] = u32::from_le_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ]);
        i += 1;
    }
    out
}

const fn decode_u8<const N: usize>(bytes: &[u8]) -> [u8; N] {
    assert!(bytes.len() == N, "table file has the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

const fn decode_i8<const N: usize>(bytes: &[u8]) -> [i8; N] {
    assert!(bytes.len() == N, "table file has the wrong length");
    let mut out = [0i8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i] as i8;
        i += 1;
    }
    out
}

/// IQ1_S / IQ1_M codebook: 2048 groups of 8 signed weights in {-1, 0, +1}.
pub static IQ1S_GRID: [u64; 2048] = IQ1S;
/// `IQ1S_GRID` with 1 added to every element (bytes 0, 1, 2), derived at compile time:
/// lets x86 kernels use the unsigned × signed `maddubs` directly and remove the shift
/// with Q8_K's bsums.
pub static IQ1S_GRID_U: [u64; 2048] = shift_grid(&IQ1S);

const IQ1S: [u64; 2048] = decode_u64(include_bytes!("../data/iq1s_grid.bin"));

/// IQ1_M helper derived from `IQ1S_GRID`: entry `i` (12 bits: grid index | delta bit
/// << 11) holds the bytes `8·grid[i & 2047] + σ + 9` ∈ {0, 2, 8, 10, 16, 18}, σ = −1 if
/// bit 11 is set else +1, so a group's `(grid + δ)·8` comes from one load indexed by
/// `qs | qh_nibble << 8`, unsigned for `maddubs`; the `+9` is removed with Q8_K's bsums.
pub static IQ1M_W8U: [u64; 4096] = iq1m_w8u(&IQ1S);

const fn iq1m_w8u(g: &[u64; 2048]) -> [u64; 4096] {
    let mut out = [0u64; 4096];
    let mut i = 0;
    while i < 4096 {
        let sigma: i8 = if i & 2048 != 0 { -1 } else { 1 };
        let mut j = 0;
        while j < 8 {
            let v = 8 * ((g[i & 2047] >> (8 * j)) as u8 as i8) + sigma + 9;
            out[i] |= (v as u8 as u64) << (8 * j);
            j += 1;
        }
        i += 1;
    }
    out
}

const fn shift_grid(g: &[u64; 2048]) -> [u64; 2048] {
    let mut out = [0u64; 2048];
    let mut i = 0;
    while i < 2048 {
        let mut j = 0;
        while j < 8 {
            let v = ((g[i] >> (8 * j)) as u8).wrapping_add(1);
            out[i] |= (v as u64) << (8 * j);
            j += 1;
        }
        i += 1;
    }
    out
}

/// IQ2_XXS codebook: 256 groups of 8 magnitudes.
pub static IQ2XXS_GRID: [u64; 256] = decode_u64(include_bytes!("../data/iq2xxs_grid.bin"));
/// IQ2_XS codebook: 512 groups of 8 magnitudes.
pub static IQ2XS_GRID: [u64; 512] = decode_u64(include_bytes!("../data/iq2xs_grid.bin"));
/// IQ2_S codebook: 1024 groups of 8 magnitudes.
pub static IQ2S_GRID: [u64; 1024] = decode_u64(include_bytes!("../data/iq2s_grid.bin"));
/// IQ3_XXS codebook: 256 groups of 4 magnitudes.
pub static IQ3XXS_GRID: [u32; 256] = decode_u32(include_bytes!("../data/iq3xxs_grid.bin"));
/// IQ3_S codebook: 512 groups of 4 magnitudes.
pub static IQ3S_GRID: [u32; 512] = decode_u32(include_bytes!("../data/iq3s_grid.bin"));
const KSIGNS: [u8; 128] = decode_u8(include_bytes!("../data/ksigns_iq2xs.bin"));
/// 7 stored sign bits → 8 sign bits (bit j set ⇒ element j negative).
pub static KSIGNS_IQ2XS: [u8; 128] = KSIGNS;
/// SIMD helper derived from `KSIGNS_IQ2XS`: byte j of entry i is 0xFF iff element j is
/// negative (ggml's `ksigns64`), so `(y ^ m) − m` negates the selected int8 lanes.
pub static KSIGNS64: [u64; 128] = expand_signs(&KSIGNS);

/// SIMD helper, a formula: byte j of entry b is 0xFF iff bit j of b is set (plain 8-bit
/// sign bytes of IQ2_S / IQ3_S).
pub static SIGN_BYTE_MASKS: [u64; 256] = byte_masks();

const fn byte_masks() -> [u64; 256] {
    let mut out = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut j = 0;
        while j < 8 {
            if i & (1 << j) != 0 {
                out[i] |= 0xFF << (8 * j);
            }
            j += 1;
        }
        i += 1;
    }
    out
}

const fn expand_signs(signs: &[u8; 128]) -> [u64; 128] {
    let mut out = [0u64; 128];
    let mut i = 0;
    while i < 128 {
        let mut j = 0;
        while j < 8 {
            if signs[i] & (1 << j) != 0 {
                out[i] |= 0xFF << (8 * j);
            }
            j += 1;
        }
        i += 1;
    }
    out
}
/// IQ4_NL / IQ4_XS non-linear code values.
pub static KVALUES_IQ4NL: [i8; 16] = decode_i8(include_bytes!("../data/kvalues_iq4nl.bin"));

/// `IQ1S_DELTA` = `IQ1M_DELTA`: the ±1/8 shift of the IQ1 grids.
pub const IQ1_DELTA: f32 = 0.125;

/// Element `j` (0..8) of a u64 grid row as an unsigned magnitude.
#[inline(always)]
pub fn grid_u8(row: u64, j: usize) -> u8 {
    (row >> (8 * j)) as u8
}

/// Element `j` (0..8) of a u64 grid row as a signed value (IQ1 grids).
#[inline(always)]
pub fn grid_i8(row: u64, j: usize) -> i8 {
    (row >> (8 * j)) as u8 as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ksigns_have_even_parity_and_keep_the_stored_bits() {
        for (i, &s) in KSIGNS_IQ2XS.iter().enumerate() {
            assert_eq!(s & 0x7f, i as u8);
            assert_eq!(s.count_ones() % 2, 0, "entry {i}");
        }
    }

    #[test]
    fn the_unsigned_iq1s_grid_is_the_grid_plus_one() {
        for (&g, &u) in IQ1S_GRID.iter().zip(IQ1S_GRID_U.iter()) {
            for j in 0..8 {
                assert_eq!(grid_u8(u, j) as i32, grid_i8(g, j) as i32 + 1);
            }
        }
    }

    #[test]
    fn the_iq1m_table_is_eight_times_the_grid_plus_the_delta_sign_plus_nine() {
        for (i, &w) in IQ1M_W8U.iter().enumerate() {
            let sigma = if i >= 2048 { -1 } else { 1 };
            for j in 0..8 {
                let want = 8 * grid_i8(IQ1S_GRID[i % 2048], j) as i32 + sigma + 9;
                assert_eq!(grid_u8(w, j) as i32, want);
            }
        }
    }

    #[test]
    fn ksigns64_expands_ksigns() {
        for (i, &m) in KSIGNS64.iter().enumerate() {
            for j in 0..8 {
                let neg = KSIGNS_IQ2XS[i] & (1 << j) != 0;
                assert_eq!(grid_u8(m, j), if neg { 0xFF } else { 0 });
            }
            assert_eq!(m, SIGN_BYTE_MASKS[KSIGNS_IQ2XS[i] as usize]);
        }
    }

    #[test]
    fn grids_hold_only_their_documented_values() {
        for &row in IQ1S_GRID.iter() {
            for j in 0..8 {
                assert!((-1..=1).contains(&grid_i8(row, j)));
            }
        }
        for grid in [&IQ2XXS_GRID[..], &IQ2XS_GRID[..], &IQ2S_GRID[..]] {
            for &row in grid {
                for j in 0..8 {
                    assert!([8, 25, 43].contains(&grid_u8(row, j)));
                }
            }
        }
        for &row in IQ3XXS_GRID.iter() {
            for b in row.to_le_bytes() {
                assert!([4, 12, 20, 28, 36, 44, 52, 62].contains(&b));
            }
        }
        for &row in IQ3S_GRID.iter() {
            for b in row.to_le_bytes() {
                assert!(b % 2 == 1 && b <= 15);
            }
        }
        let mut sorted = KVALUES_IQ4NL;
        sorted.sort();
        assert_eq!(sorted, KVALUES_IQ4NL, "IQ4_NL values are increasing");
        assert_eq!((KVALUES_IQ4NL[0], KVALUES_IQ4NL[15]), (-127, 113));
    }
}
