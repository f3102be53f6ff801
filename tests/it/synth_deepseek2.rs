//! The synthetic deepseek2 generator: r1-tiny files of both MLA layouts parse, carry
//! R1's hyper-parameters and the UD-IQ1_S tensor types and shapes llama.cpp's loader
//! expects, share every non-MLA byte between layouts, and are a pure function of the
//! seed; bad specs are errors. (That llama.cpp loads and runs them is recorded by
//! `tools/llama_cpp_golden.py --only deepseek2`.)

use std::path::{Path, PathBuf};

use bitmoe::gguf::GgufFile;
use bitmoe::quant::QuantType;
use bitmoe::schema::{GatingFunc, Hparams, RopeScalingType};
use bitmoe::synth::{write_deepseek2, MlaLayout, MoeSpec};

use crate::support;
use crate::support::bitmoe;

fn write(dir: &Path, name: &str, spec: &MoeSpec) -> PathBuf {
    let p = dir.join(name);
    write_deepseek2(&p, spec).unwrap();
    p
}

fn tiny(layout: MlaLayout) -> MoeSpec {
    MoeSpec {
        layout,
        ..MoeSpec::r1_tiny()
    }
}

/// (name, type, GGUF dims) of a tensor.
fn info(f: &GgufFile, name: &str) -> (QuantType, Vec<u64>) {
    let t = f
        .tensor(name)
        .unwrap_or_else(|| panic!("{name} is missing"));
    (t.ty, t.dims.clone())
}

#[test]
fn r1_tiny_legacy_has_r1_hparams_and_the_ud_iq1_s_types() {
    let dir = tempfile::tempdir().unwrap();
    let f = GgufFile::open(write(dir.path(), "l.gguf", &tiny(MlaLayout::Legacy))).unwrap();
    let h = Hparams::from_metadata(f.metadata()).unwrap();
    let c = &h.common;
    assert_eq!((c.n_embd, c.n_layer, c.n_ff.at(0)), (256, 3, 512));
    assert_eq!((c.n_head.at(0), c.n_head_kv.at(0)), (4, 4));
    assert_eq!((c.key_length, c.value_length, c.n_rot), (96, 64, 32));
    assert_eq!((c.rms_eps, c.rope_freq_base), (1e-6, 10_000.0));
    assert_eq!(c.vocab_size, 265);
    let y = &c.rope_scaling;
    assert_eq!(y.kind, RopeScalingType::Yarn);
    assert_eq!((y.factor, y.original_context_length), (40.0, 4096));
    assert_eq!(y.yarn_log_multiplier, Some(0.1));
    assert_eq!(c.context_length, 163_840);
    let d = h.deepseek2.unwrap();
    assert_eq!(d.leading_dense_blocks, 1);
    assert_eq!((d.q_lora_rank, d.kv_lora_rank), (Some(256), 256));
    assert_eq!((d.key_length_mla, d.value_length_mla), (None, None));
    assert!(!d.has_mla_split_kv_b());
    assert_eq!((d.expert_count, d.expert_used_count), (16, 4));
    assert_eq!((d.expert_shared_count, d.expert_ff), (1, 256));
    assert_eq!((d.expert_weights_scale, d.expert_weights_norm), (2.5, true));
    assert_eq!(d.gating, GatingFunc::Sigmoid);
    assert_eq!(
        (d.expert_group_count, d.expert_group_used_count),
        (Some(4), Some(2))
    );

    use QuantType::*;
    let want: &[(&str, QuantType, &[u64])] = &[
        ("token_embd.weight", Q4K, &[256, 265]),
        ("output_norm.weight", F32, &[256]),
        ("output.weight", Q6K, &[256, 265]),
        ("blk.0.attn_norm.weight", F32, &[256]),
        ("blk.0.attn_q_a.weight", Q4K, &[256, 256]),
        ("blk.0.attn_q_a_norm.weight", F32, &[256]),
        ("blk.0.attn_q_b.weight", Q4K, &[256, 4 * 96]),
        ("blk.0.attn_kv_a_mqa.weight", Q6K, &[256, 256 + 32]),
        ("blk.0.attn_kv_a_norm.weight", F32, &[256]),
        ("blk.0.attn_kv_b.weight", Q6K, &[256, 4 * (64 + 64)]),
        ("blk.0.attn_output.weight", Q4K, &[4 * 64, 256]),
        ("blk.0.ffn_norm.weight", F32, &[256]),
        ("blk.0.ffn_gate.weight", Q4K, &[256, 512]),
        ("blk.0.ffn_up.weight", Q4K, &[256, 512]),
        ("blk.0.ffn_down.weight", Q6K, &[512, 256]),
        ("blk.1.ffn_gate_inp.weight", F32, &[256, 16]),
        ("blk.1.exp_probs_b.bias", F32, &[16]),
        ("blk.1.ffn_gate_exps.weight", Iq1S, &[256, 256, 16]),
        ("blk.1.ffn_up_exps.weight", Iq1S, &[256, 256, 16]),
        ("blk.1.ffn_down_exps.weight", Iq2Xxs, &[256, 256, 16]),
        ("blk.1.ffn_gate_shexp.weight", Q5K, &[256, 256]),
        ("blk.1.ffn_up_shexp.weight", Q5K, &[256, 256]),
        ("blk.1.ffn_down_shexp.weight", Q6K, &[256, 256]),
        ("blk.2.ffn_down_exps.weight", Iq1S, &[256, 256, 16]),
    ];
    for &(name, ty, dims) in want {
        assert_eq!(info(&f, name), (ty, dims.to_vec()), "{name}");
    }
    assert!(f.tensor("blk.0.ffn_gate_inp.weight").is_none());
    assert!(f.tensor("blk.1.ffn_gate.weight").is_none());
    assert!(f.tensor("blk.0.attn_k_b.weight").is_none());
    // 3 globals; 9 attention-side tensors per block, + 3 dense FFN or + 8 MoE.
    assert_eq!(f.tensors().len(), 3 + 12 + 2 * 17);
}

#[test]
fn r1_tiny_split_has_the_mla_keys_and_k_b_v_b() {
    let dir = tempfile::tempdir().unwrap();
    let f = GgufFile::open(write(dir.path(), "s.gguf", &tiny(MlaLayout::Split))).unwrap();
    let h = Hparams::from_metadata(f.metadata()).unwrap();
    assert_eq!(h.common.n_head_kv.at(0), 1);
    assert_eq!((h.common.key_length, h.common.value_length), (288, 256));
    let d = h.deepseek2.unwrap();
    assert_eq!((d.key_length_mla, d.value_length_mla), (Some(96), Some(64)));
    assert!(d.has_mla_split_kv_b());
    for l in 0..3 {
        let k_b = info(&f, &format!("blk.{l}.attn_k_b.weight"));
        assert_eq!(k_b, (QuantType::Q8_0, vec![64, 256, 4]));
        let v_b = info(&f, &format!("blk.{l}.attn_v_b.weight"));
        assert_eq!(v_b, (QuantType::Q6K, vec![256, 64, 4]));
        assert!(f.tensor(&format!("blk.{l}.attn_kv_b.weight")).is_none());
    }
}

#[test]
fn split_shares_every_other_byte_with_legacy_and_v_b_is_kv_b_v_rows() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = GgufFile::open(write(dir.path(), "l.gguf", &tiny(MlaLayout::Legacy))).unwrap();
    let split = GgufFile::open(write(dir.path(), "s.gguf", &tiny(MlaLayout::Split))).unwrap();
    let bytes = |f: &GgufFile, name: &str| f.tensor_data(f.tensor(name).unwrap()).unwrap().to_vec();
    let mut shared = 0;
    for t in legacy.tensors() {
        if t.name.ends_with("attn_kv_b.weight") {
            continue;
        }
        assert_eq!(
            bytes(&legacy, &t.name),
            bytes(&split, &t.name),
            "{}",
            t.name
        );
        shared += 1;
    }
    assert_eq!(shared + 3, legacy.tensors().len());
    assert_eq!(split.tensors().len(), legacy.tensors().len() + 3);
    // Q6_K rows of 256: 210 bytes; head h's V rows are kv_b rows 128h+64 .. 128h+127.
    let row = 210;
    for l in 0..3 {
        let kv_b = bytes(&legacy, &format!("blk.{l}.attn_kv_b.weight"));
        let v_b = bytes(&split, &format!("blk.{l}.attn_v_b.weight"));
        for h in 0..4 {
            let src = &kv_b[(128 * h + 64) * row..(128 * h + 128) * row];
            assert_eq!(
                &v_b[64 * h * row..64 * (h + 1) * row],
                src,
                "layer {l} head {h}"
            );
        }
    }
}

#[test]
fn files_are_a_pure_function_of_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let read = |p: PathBuf| std::fs::read(p).unwrap();
    for layout in [MlaLayout::Legacy, MlaLayout::Split] {
        let a = read(write(dir.path(), "a.gguf", &tiny(layout)));
        let b = read(write(dir.path(), "b.gguf", &tiny(layout)));
        assert!(a == b, "{layout:?}: same seed, different bytes");
        let other = MoeSpec {
            seed: 7,
            ..tiny(layout)
        };
        let c = read(write(dir.path(), "c.gguf", &other));
        assert_eq!(a.len(), c.len());
        assert!(a != c, "{layout:?}: seed ignored");
    }
}

#[test]
fn more_moe_layers_keep_the_first_layers_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let three = GgufFile::open(write(dir.path(), "3.gguf", &MoeSpec::r1_tiny())).unwrap();
    let four = MoeSpec {
        n_layer: 4,
        ..MoeSpec::r1_tiny()
    };
    let four = GgufFile::open(write(dir.path(), "4.gguf", &four)).unwrap();
    for t in three.tensors() {
        let other = four.tensor(&t.name).unwrap();
        assert_eq!(three.tensor_data(t), four.tensor_data(other), "{}", t.name);
    }
}

#[test]
fn bad_specs_are_errors_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.gguf");
    let cases: Vec<(MoeSpec, &str)> = vec![
        (
            MoeSpec {
                n_expert_used: 17,
                ..MoeSpec::r1_tiny()
            },
            "experts used",
        ),
        (
            MoeSpec {
                groups: Some((3, 2)),
                ..MoeSpec::r1_tiny()
            },
            "groups",
        ),
        (
            MoeSpec {
                n_dense_lead: 4,
                ..MoeSpec::r1_tiny()
            },
            "dense blocks",
        ),
        (
            MoeSpec {
                n_embd: 0,
                ..MoeSpec::r1_tiny()
            },
            "n_embd is 0",
        ),
        (
            MoeSpec {
                router_std: f32::NAN,
                ..MoeSpec::r1_tiny()
            },
            "router_std",
        ),
        (
            MoeSpec {
                n_embd: 320,
                ..MoeSpec::r1_tiny()
            },
            "320",
        ),
        (
            MoeSpec {
                vocab_from: Some(dir.path().join("missing.gguf")),
                ..MoeSpec::r1_tiny()
            },
            "missing.gguf",
        ),
    ];
    for (spec, needle) in cases {
        let err = write_deepseek2(&p, &spec).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let mut spec = MoeSpec::r1_tiny();
    spec.types.exps_gate_up = QuantType::Q2K;
    let err = write_deepseek2(&p, &spec).unwrap_err().to_string();
    assert!(
        err.contains("q2_K") && err.contains("not supported"),
        "{err}"
    );
}

#[test]
fn the_tokenizer_can_be_borrowed_from_another_gguf() {
    let Some(smol) = support::smollm2() else {
        eprintln!("skipped: SmolLM2 not in models/");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = MoeSpec {
        vocab_from: Some(smol.clone()),
        ..MoeSpec::r1_tiny()
    };
    let f = GgufFile::open(write(dir.path(), "v.gguf", &spec)).unwrap();
    let src = GgufFile::open(&smol).unwrap();
    let key = "tokenizer.ggml.tokens";
    assert_eq!(f.metadata().get(key), src.metadata().get(key));
    let n = Hparams::from_metadata(f.metadata())
        .unwrap()
        .common
        .vocab_size;
    assert_eq!(n, 49_152);
    assert_eq!(info(&f, "output.weight").1, vec![256, 49_152]);
}

#[test]
fn cli_writes_the_library_files_and_rejects_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("cli.gguf");
    let out = bitmoe(&[
        "synth",
        "--arch",
        "deepseek2",
        "--preset",
        "r1-tiny",
        "--layout",
        "split",
        "--seed",
        "9",
        "-o",
        cli.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = write(
        dir.path(),
        "lib.gguf",
        &MoeSpec {
            seed: 9,
            ..tiny(MlaLayout::Split)
        },
    );
    assert!(std::fs::read(&cli).unwrap() == std::fs::read(&lib).unwrap());
    for (flag, value) in [("--preset", "r1-huge"), ("--layout", "fused")] {
        let out = bitmoe(&[
            "synth",
            "--arch",
            "deepseek2",
            flag,
            value,
            "-o",
            cli.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(value), "{err}");
    }
}
