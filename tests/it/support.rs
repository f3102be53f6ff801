//! Test support: a hand-packed GGUF byte builder (independent of bitmoe's writer, so
//! tests can craft hostile files field by field), and the location of the real model.

use std::path::{Path, PathBuf};

/// Value type ids (spec gguf.md §3).
pub const T_U8: u32 = 0;
pub const T_U32: u32 = 4;
pub const T_BOOL: u32 = 7;
pub const T_STRING: u32 = 8;
pub const T_ARRAY: u32 = 9;

/// Builds GGUF bytes field by field. `finish` pads to the alignment and appends data.
#[derive(Default, Clone)]
pub struct Raw {
    pub bytes: Vec<u8>,
}

impl Raw {
    pub fn header(version: u32, n_tensors: u64, n_kv: u64) -> Raw {
        let mut r = Raw::default();
        r.bytes.extend_from_slice(b"GGUF");
        r.u32(version).u64(n_tensors).u64(n_kv);
        r
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes.push(v);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.u64(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
        self
    }
    pub fn kv_u32(&mut self, key: &str, v: u32) -> &mut Self {
        self.str(key).u32(T_U32).u32(v)
    }
    pub fn kv_str(&mut self, key: &str, v: &str) -> &mut Self {
        self.str(key).u32(T_STRING).str(v)
    }
    pub fn tensor(&mut self, name: &str, dims: &[u64], ty: u32, offset: u64) -> &mut Self {
        self.str(name).u32(dims.len() as u32);
        for &d in dims {
            self.u64(d);
        }
        self.u32(ty).u64(offset)
    }
    /// Pads to `align` with zeros.
    pub fn pad(&mut self, align: usize) -> &mut Self {
        while !self.bytes.len().is_multiple_of(align) {
            self.bytes.push(0);
        }
        self
    }
    pub fn data(&mut self, d: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(d);
        self
    }
}

/// A small valid file: 3 keys, 3 tensors (F32 [8], Q8_0 [32, 2], F16 [4, 3]), data
/// canonical with alignment 32. Returns bytes and the end of the last tensor's data.
pub fn small_valid() -> (Vec<u8>, usize) {
    let mut r = Raw::header(3, 3, 3);
    r.kv_str("general.architecture", "llama");
    r.kv_u32("llama.block_count", 1);
    r.str("tokenizer.ggml.tokens")
        .u32(T_ARRAY)
        .u32(T_STRING)
        .u64(2)
        .str("a")
        .str("bc");
    r.tensor("output_norm.weight", &[8], 0, 0);
    r.tensor("blk.0.attn_q.weight", &[32, 2], 8, 32);
    r.tensor("blk.0.attn_k.weight", &[4, 3], 1, 128);
    r.pad(32);
    let data_start = r.bytes.len();
    let f32s: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_le_bytes()).collect();
    r.data(&f32s).pad(32); // 32 bytes
    r.data(&[7u8; 68]).pad(32); // 2 × 34 = 68 → 96
    r.data(&[1u8; 24]); // 4 × 3 × 2
    (r.bytes, data_start + 128 + 24)
}

/// Writes `bytes` to a fresh file in `dir`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The real test model, fetched by `tools/fetch-smollm2.sh`. `None` (with a note) when
/// absent, unless BITMOE_REQUIRE_MODELS=1 (set by .ci/run), which makes absence fail.
pub fn smollm2() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("BITMOE_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("{} is missing: run tools/fetch-smollm2.sh", p.display());
    }
    eprintln!(
        "SKIPPED: {} is missing; run tools/fetch-smollm2.sh",
        p.display()
    );
    None
}

/// Runs the `bitmoe` binary built with these tests.
pub fn bitmoe(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bitmoe"))
        .args(args)
        .output()
        .unwrap()
}

/// Stdout of a run that must succeed without a panic.
pub fn ok(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run that must fail with one clear message containing `needle` (never a panic).
pub fn fails_with(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}
