//! Attention caches, f16 like llama.cpp's default.
//!
//! Two shapes share one type:
//! - grouped-query attention (llama, qwen2): `k[layer][pos][kv_dim]` and
//!   `v[layer][pos][kv_dim]` with `kv_dim = n_head_kv · head_dim`; K stored after RoPE.
//!   Memory: `2 · n_layer · n_ctx · kv_dim · 2` bytes.
//! - MLA latent (deepseek2, spec `deepseek2.md` §4.3/§4.5): one row per token of
//!   `kv_lora_rank + n_rot` values (the normalized latent `c_kv`, then the rotated rope
//!   key), shared by every head; the values are a view of the first `kv_lora_rank` of
//!   it, so there is no V array. R1: 576 values = 1152 bytes per token per layer.
//!
//! Allocated once for the context size.

use half::f16;

/// Why a cache operation cannot proceed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    #[error("the context is full: position {pos} of {n_ctx} (raise -c/--ctx-size)")]
    Full { pos: usize, n_ctx: usize },
}

#[derive(Debug)]
pub struct KvCache {
    n_layer: usize,
    n_ctx: usize,
    k_dim: usize,
    v_dim: usize,
    // [n_layer][n_ctx][k_dim]
    k: Vec<f16>,
    // [n_layer][n_ctx][v_dim]; empty for a latent cache
    v: Vec<f16>,
}

impl KvCache {
    /// A K/V cache for grouped-query attention.
    pub fn new(n_layer: usize, n_ctx: usize, kv_dim: usize) -> KvCache {
        Self::with_dims(n_layer, n_ctx, kv_dim, kv_dim)
    }

    /// An MLA latent cache: `dim` values per token per layer, no separate V.
    pub fn latent(n_layer: usize, n_ctx: usize, dim: usize) -> KvCache {
        Self::with_dims(n_layer, n_ctx, dim, 0)
    }

    fn with_dims(n_layer: usize, n_ctx: usize, k_dim: usize, v_dim: usize) -> KvCache {
        KvCache {
            n_layer,
            n_ctx,
            k_dim,
            v_dim,
            k: vec![f16::ZERO; n_layer * n_ctx * k_dim],
            v: vec![f16::ZERO; n_layer * n_ctx * v_dim],
        }
    }

    pub fn n_ctx(&self) -> usize {
        self.n_ctx
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        (self.k.len() + self.v.len()) * 2
    }

    /// Bytes one token takes over all layers.
    pub fn bytes_per_token(&self) -> usize {
        self.n_layer * (self.k_dim + self.v_dim) * 2
    }

    fn check(&self, layer: usize, pos: usize) -> Result<(), KvError> {
        debug_assert!(layer < self.n_layer);
        if pos >= self.n_ctx {
            return Err(KvError::Full {
                pos,
                n_ctx: self.n_ctx,
            });
        }
        Ok(())
    }

    /// Stores K and V of one token (f32, rounded to f16). `v` is ignored (and may be
    /// empty) for a latent cache.
    pub fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) -> Result<(), KvError> {
        self.check(layer, pos)?;
        let o = (layer * self.n_ctx + pos) * self.k_dim;
        for (dst, &src) in self.k[o..o + self.k_dim].iter_mut().zip(k) {
            *dst = f16::from_f32(src);
        }
        let o = (layer * self.n_ctx + pos) * self.v_dim;
        for (dst, &src) in self.v[o..o + self.v_dim].iter_mut().zip(v) {
            *dst = f16::from_f32(src);
        }
        Ok(())
    }

    /// K rows (or latent rows) of positions `0..len` of `layer`: `[len][k_dim]`.
    pub fn keys(&self, layer: usize, len: usize) -> &[f16] {
        let o = layer * self.n_ctx * self.k_dim;
        &self.k[o..o + len * self.k_dim]
    }

    /// V rows of positions `0..len` of `layer`: `[len][v_dim]` (empty for a latent
    /// cache, whose values are the first columns of [`KvCache::keys`]).
    pub fn values(&self, layer: usize, len: usize) -> &[f16] {
        let o = layer * self.n_ctx * self.v_dim;
        &self.v[o..o + len * self.v_dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latent_cache_holds_one_row_per_token_and_no_values() {
        // R1 per layer: 512 latent + 64 rope = 576 halves = 1152 bytes per token.
        let mut c = KvCache::latent(2, 4, 576);
        assert_eq!(c.bytes_per_token(), 2 * 1152);
        assert_eq!(c.bytes(), 4 * 2 * 1152);
        let row: Vec<f32> = (0..576).map(|i| i as f32).collect();
        c.store(1, 3, &row, &[]).unwrap();
        assert_eq!(c.keys(1, 4)[3 * 576 + 100].to_f32(), 100.0);
        assert!(c.values(1, 4).is_empty());
        assert_eq!(
            c.store(0, 4, &row, &[]),
            Err(KvError::Full { pos: 4, n_ctx: 4 })
        );
    }

    #[test]
    fn gqa_cache_keeps_k_and_v_apart() {
        let mut c = KvCache::new(1, 2, 3);
        c.store(0, 1, &[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(c.keys(0, 2)[3].to_f32(), 1.0);
        assert_eq!(c.values(0, 2)[5].to_f32(), 6.0);
        assert_eq!(c.bytes_per_token(), 12);
    }
}
