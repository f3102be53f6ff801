//! Codebook lookup for the lattice quantizers: which 8-vectors of levels are grid
//! points, and for those that are not, the nearest grid points (llama.cpp's
//! `iq2xs_init_impl`: `kmap_q2xs` and `kneighbors_q2xs`).
//!
//! A group of 8 weights is first rounded element-wise to levels 0..=2 (IQ1: −1, 0, +1;
//! IQ2_XXS: magnitudes 8, 25, 43). If that vector is in the codebook it is the best
//! point; otherwise the search tries every grid point within the `nwant` smallest
//! distinct squared distances from it (ties kept in (distance, index) order, as
//! llama.cpp sorts them), and the caller picks the one with the least weighted error.
//!
//! Keys are base 3 (`Σ level_k·3^k`, 6561 of them) rather than llama.cpp's 2-bit
//! packing, since levels never reach 3. Built once per codebook on first use
//! ([`OnceLock`]); the IQ1 table takes a few tens of milliseconds.

use std::sync::OnceLock;

use crate::tables::{grid_i8, grid_u8, IQ1S_GRID, IQ2XXS_GRID};

/// Number of 8-vectors of levels 0..=2.
const KEYS: usize = 6561;
/// Marks a key that is not a grid point.
const OFF_GRID: u16 = u16::MAX;

/// A codebook of 8-vectors of levels 0..=2 with its map and neighbour lists.
pub(crate) struct Grid {
    /// Levels (0..=2) of each grid point.
    pub levels: Vec<[u8; 8]>,
    /// Key → grid index, or [`OFF_GRID`].
    map: Vec<u16>,
    /// Key → range in `neighbours` (empty for grid points).
    ranges: Vec<(u32, u32)>,
    neighbours: Vec<u16>,
}

impl Grid {
    fn new(levels: Vec<[u8; 8]>, nwant: usize) -> Grid {
        let mut map = vec![OFF_GRID; KEYS];
        for (i, l) in levels.iter().enumerate() {
            map[key(l)] = i as u16;
        }
        let mut ranges = vec![(0u32, 0u32); KEYS];
        let mut neighbours = Vec::new();
        // Squared distances are at most 8·2² = 32: bucket the points by distance, which
        // keeps index order within a distance, i.e. llama.cpp's (distance, index) sort.
        let mut buckets: Vec<Vec<u16>> = vec![Vec::new(); 33];
        for k in 0..KEYS {
            if map[k] != OFF_GRID {
                continue;
            }
            let p = unkey(k);
            buckets.iter_mut().for_each(Vec::clear);
            for (i, g) in levels.iter().enumerate() {
                let d2: i32 = (0..8).map(|j| (g[j] as i32 - p[j] as i32).pow(2)).sum();
                buckets[d2 as usize].push(i as u16);
            }
            let start = neighbours.len() as u32;
            for b in buckets.iter().filter(|b| !b.is_empty()).take(nwant) {
                neighbours.extend_from_slice(b);
            }
            ranges[k] = (start, neighbours.len() as u32);
        }
        Grid {
            levels,
            map,
            ranges,
            neighbours,
        }
    }

    /// The grid index of `levels` (each 0..=2), or the candidate indices if it is not
    /// a grid point (never empty).
    #[inline]
    pub fn lookup(&self, levels: &[u8; 8]) -> Result<u16, &[u16]> {
        let k = key(levels);
        match self.map[k] {
            OFF_GRID => {
                let (a, b) = self.ranges[k];
                Err(&self.neighbours[a as usize..b as usize])
            }
            i => Ok(i),
        }
    }
}

#[inline]
fn key(levels: &[u8; 8]) -> usize {
    levels.iter().rev().fold(0usize, |k, &l| 3 * k + l as usize)
}

fn unkey(mut k: usize) -> [u8; 8] {
    core::array::from_fn(|_| {
        let l = (k % 3) as u8;
        k /= 3;
        l
    })
}

/// The IQ1_S / IQ1_M codebook (levels = value + 1), 3 neighbour distances.
pub(crate) fn iq1s() -> &'static Grid {
    static GRID: OnceLock<Grid> = OnceLock::new();
    GRID.get_or_init(|| {
        let levels = IQ1S_GRID
            .iter()
            .map(|&row| core::array::from_fn(|j| (grid_i8(row, j) + 1) as u8))
            .collect();
        Grid::new(levels, 3)
    })
}

/// The IQ2_XXS codebook (magnitudes 8, 25, 43 → levels 0, 1, 2), 2 neighbour distances.
pub(crate) fn iq2xxs() -> &'static Grid {
    static GRID: OnceLock<Grid> = OnceLock::new();
    GRID.get_or_init(|| {
        let levels = IQ2XXS_GRID
            .iter()
            .map(|&row| {
                core::array::from_fn(|j| match grid_u8(row, j) {
                    8 => 0,
                    25 => 1,
                    _ => 2,
                })
            })
            .collect();
        Grid::new(levels, 2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_grids_are_distinct() {
        for k in [0, 1, 2, 3, 3280, KEYS - 1] {
            assert_eq!(key(&unkey(k)), k);
        }
        for (g, n) in [(iq1s(), 2048), (iq2xxs(), 256)] {
            assert_eq!(g.levels.len(), n);
            for (i, l) in g.levels.iter().enumerate() {
                assert!(l.iter().all(|&v| v <= 2));
                assert_eq!(g.lookup(l), Ok(i as u16));
            }
        }
    }

    #[test]
    fn off_grid_points_have_nearest_neighbours() {
        for g in [iq1s(), iq2xxs()] {
            for k in 0..KEYS {
                let p = unkey(k);
                if let Err(nb) = g.lookup(&p) {
                    assert!(!nb.is_empty());
                    // The first candidate is at the minimum distance over the grid.
                    let d2 = |i: u16| -> i32 {
                        (0..8)
                            .map(|j| (g.levels[i as usize][j] as i32 - p[j] as i32).pow(2))
                            .sum()
                    };
                    let best = (0..g.levels.len() as u16).map(d2).min().unwrap();
                    assert_eq!(d2(nb[0]), best);
                }
            }
        }
    }
}
