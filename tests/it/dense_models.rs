//! Dense models end to end on synthetic llama and qwen2 files: they load, batch prefill
//! agrees with token-by-token decoding, generation is deterministic, bad input fails
//! cleanly.

use std::path::Path;

use bitmoe::engine::{GenerateParams, LoadOptions, Session};
use bitmoe::sampler::{Sampler, SamplerConfig};
use bitmoe::schema::Arch;
use bitmoe::synth::{write_dense, DenseSpec};

fn session(path: &Path, threads: usize, batch: usize) -> Session {
    Session::load(&LoadOptions {
        model: path.to_path_buf(),
        threads: Some(threads),
        ctx_size: 256,
        batch_size: batch,
        pin_threads: false,
        ..LoadOptions::default()
    })
    .unwrap()
}

fn greedy() -> Sampler {
    Sampler::new(SamplerConfig {
        temperature: 0.0,
        ..SamplerConfig::default()
    })
}

#[test]
fn batched_prefill_matches_incremental_decoding() {
    for arch in [Arch::Llama, Arch::Qwen2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        write_dense(&path, &DenseSpec::tiny(arch)).unwrap();
        let tokens: Vec<u32> = (0..11).map(|i| (i * 37 + 5) % 256).collect();
        // All positions' logits in one batch…
        let mut s = session(&path, 2, 512);
        let all = s.eval_all_logits(&tokens).unwrap();
        let vocab = all.len() / tokens.len();
        // …equal one token at a time (same kernels, same cache contents).
        let mut s1 = session(&path, 1, 1);
        for (i, &t) in tokens.iter().enumerate() {
            let step = s1.eval(&[t]).unwrap();
            let batch = &all[i * vocab..(i + 1) * vocab];
            let max_diff = step
                .iter()
                .zip(batch)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            let scale = batch.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                max_diff <= 1e-4 * scale.max(1.0),
                "{arch:?} pos {i}: {max_diff} (scale {scale})"
            );
        }
    }
}

#[test]
fn greedy_generation_is_deterministic_and_threads_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.gguf");
    write_dense(&path, &DenseSpec::tiny(Arch::Qwen2)).unwrap();
    let run = |threads| {
        let mut s = session(&path, threads, 4);
        let prompt = s.tokenizer().encode("the cat sat on the mat", true, true);
        let params = GenerateParams {
            n_predict: Some(24),
            ..GenerateParams::default()
        };
        s.generate(&prompt, &params, &mut greedy(), &mut |_| {})
            .unwrap()
            .tokens
    };
    let a = run(1);
    assert_eq!(a.len(), 24);
    assert_eq!(a, run(2));
}

#[test]
fn context_overflow_and_bad_tokens_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.gguf");
    write_dense(&path, &DenseSpec::tiny(Arch::Llama)).unwrap();
    let mut s = session(&path, 1, 512);
    let long: Vec<u32> = vec![65; 300];
    let e = s.eval(&long).unwrap_err();
    assert!(e.to_string().contains("context"), "{e}");
    let e = s.eval(&[100_000]).unwrap_err();
    assert!(e.to_string().contains("outside the vocabulary"), "{e}");
}
