//! The standard K/V cache of grouped-query attention, f16 like llama.cpp's default.
//!
//! Layout: `k[layer][pos][kv_dim]`, `v[layer][pos][kv_dim]` with `kv_dim = n_head_kv ·
//! head_dim`; K is stored after RoPE. Memory: `2 · n_layer · n_ctx · kv_dim · 2` bytes,
//! allocated once for the context size. (The MLA latent cache comes with deepseek2.)

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
    kv_dim: usize,
    // [n_layer][n_ctx][kv_dim]
    k: Vec<f16>,
    v: Vec<f16>,
}

impl KvCache {
    pub fn new(n_layer: usize, n_ctx: usize, kv_dim: usize) -> KvCache {
        let n = n_layer * n_ctx * kv_dim;
        KvCache {
            n_layer,
            n_ctx,
            kv_dim,
            k: vec![f16::ZERO; n],
            v: vec![f16::ZERO; n],
        }
    }

    pub fn n_ctx(&self) -> usize {
        self.n_ctx
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        (self.k.len() + self.v.len()) * 2
    }

    fn offset(&self, layer: usize, pos: usize) -> usize {
        debug_assert!(layer < self.n_layer);
        (layer * self.n_ctx + pos) * self.kv_dim
    }

    /// Stores K and V of one token (f32, rounded to f16).
    pub fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) -> Result<(), KvError> {
        if pos >= self.n_ctx {
            return Err(KvError::Full {
                pos,
                n_ctx: self.n_ctx,
            });
        }
        let o = self.offset(layer, pos);
        for (dst, &src) in self.k[o..o + self.kv_dim].iter_mut().zip(k) {
            *dst = f16::from_f32(src);
        }
        for (dst, &src) in self.v[o..o + self.kv_dim].iter_mut().zip(v) {
            *dst = f16::from_f32(src);
        }
        Ok(())
    }

    /// K rows of positions `0..len` of `layer`: `[len][kv_dim]`.
    pub fn keys(&self, layer: usize, len: usize) -> &[f16] {
        let o = self.offset(layer, 0);
        &self.k[o..o + len * self.kv_dim]
    }

    /// V rows of positions `0..len` of `layer`: `[len][kv_dim]`.
    pub fn values(&self, layer: usize, len: usize) -> &[f16] {
        let o = self.offset(layer, 0);
        &self.v[o..o + len * self.kv_dim]
    }
}
