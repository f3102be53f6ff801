//! Parity with llama.cpp on the same files: greedy tokens, first-step logits (NMSE) and
//! tokenization, against golden data that `tools/llama_cpp_golden.py` recorded with
//! llama-cpp-python (committed under tests/data/golden/).

use std::path::{Path, PathBuf};

use bitmoe::engine::{GenerateParams, LoadOptions, Session};
use bitmoe::sampler::{Sampler, SamplerConfig};
use bitmoe::schema::Arch;
use bitmoe::synth::{write_dense, DenseSpec};

use crate::support::smollm2;

#[derive(serde::Deserialize)]
struct Golden {
    prompt: String,
    prompt_tokens: Vec<u32>,
    greedy_tokens: Vec<u32>,
    first_logits: Vec<f32>,
    mixed_text: String,
    mixed_tokens: Vec<u32>,
}

fn golden(name: &str) -> Golden {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// Normalized mean squared error of `a` against the reference `b`.
fn nmse(a: &[f32], b: &[f32]) -> f64 {
    let err: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    err / norm
}

fn check(path: &Path, g: &Golden, nmse_max: f64) {
    let mut s = Session::load(&LoadOptions {
        model: path.to_path_buf(),
        threads: Some(2),
        ctx_size: 512,
        batch_size: 512,
        pin_threads: false,
        ..LoadOptions::default()
    })
    .unwrap();
    let prompt = s.tokenizer().encode(&g.prompt, true, true);
    assert_eq!(prompt, g.prompt_tokens, "prompt tokens");
    assert_eq!(
        s.tokenizer().encode(&g.mixed_text, false, true),
        g.mixed_tokens,
        "mixed text tokens"
    );
    let first = s.eval(&prompt).unwrap();
    let e = nmse(&first, &g.first_logits);
    assert!(
        e <= nmse_max,
        "first-step logits NMSE {e:.3e} > {nmse_max:.0e}"
    );
    s.reset();
    let mut greedy = Sampler::new(SamplerConfig {
        temperature: 0.0,
        ..SamplerConfig::default()
    });
    let params = GenerateParams {
        n_predict: Some(g.greedy_tokens.len()),
        ignore_eos: true,
        ..GenerateParams::default()
    };
    let out = s
        .generate(&prompt, &params, &mut greedy, &mut |_| {})
        .unwrap();
    assert_eq!(
        out.tokens, g.greedy_tokens,
        "greedy tokens (NMSE of the first logits {e:.2e})"
    );
}

/// Logit tolerances: llama.cpp's own two CPU attention paths (flash attention on / off)
/// differ by an NMSE of 1.5e-2 on SmolLM2's first step; bitmoe keeps attention in f32
/// and lands at 3.0e-3 from the (non-flash) golden run over 30 layers, 1.2e-4 on the
/// 2-layer synthetic llama. Summation order alone moves SmolLM2's figure: a sequential
/// score dot gave 1.2e-3, eight partial sums 3.0e-3, ggml's own 4×8-lane order 3.6e-3.
/// Greedy tokens must be identical in every case.
#[test]
fn smollm2_matches_llama_cpp() {
    let Some(path) = smollm2() else { return };
    check(&path, &golden("smollm2-135m-q4_1"), 5e-3);
}

fn synthetic(arch: Arch) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    write_dense(&path, &DenseSpec::tiny(arch)).unwrap();
    (dir, path)
}

#[test]
fn synthetic_qwen2_with_biases_matches_llama_cpp() {
    let (_dir, path) = synthetic(Arch::Qwen2);
    check(&path, &golden("synth-qwen2-seed42"), 1e-4);
}

#[test]
fn synthetic_llama_matches_llama_cpp() {
    let (_dir, path) = synthetic(Arch::Llama);
    check(&path, &golden("synth-llama-seed42"), 2e-4);
}
