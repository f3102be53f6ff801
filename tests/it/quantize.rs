//! `bitmoe quantize`: the UD-IQ1_S plan for the full DeepSeek-R1 layout matches the
//! published tensor counts and size; a quantized synthetic R1 runs like llama.cpp on the
//! same file; split output, importance matrices, and clear errors.

use std::path::{Path, PathBuf};

use bitmoe::engine::{GenerateParams, LoadOptions, Session};
use bitmoe::gguf::{GgufFile, MetaValue};
use bitmoe::quant::QuantType;
use bitmoe::quantize::{Imatrix, ImatrixEntry, Plan, Recipe};
use bitmoe::sampler::{Sampler, SamplerConfig};
use bitmoe::schema::Hparams;
use bitmoe::synth::{deepseek2_layout, MlaLayout, MoeSpec, MoeTypes};

use crate::deepseek2::{check_golden, golden, Bounds};
use crate::support::{bitmoe, fails_with, ok};

/// The UD-IQ1_S recipe on R1's own layout (61 blocks, 3 dense, 256 experts, vocab
/// 129280, the January-2025 legacy MLA tensors) reproduces the release's tensor-type
/// counts and its 130.60 GiB (spec `dynamic-quant-recipe.md` §3.1).
#[test]
fn ud_iq1_s_on_the_full_r1_layout_matches_the_release() {
    let spec = MoeSpec {
        n_layer: 61,
        n_dense_lead: 3,
        types: MoeTypes::uniform(QuantType::F16),
        ..MoeSpec::r1_wide(58)
    };
    let (md, mut decls) = deepseek2_layout(&spec).unwrap();
    for d in &mut decls {
        if d.name == "token_embd.weight" || d.name == "output.weight" {
            d.dims[1] = 129_280;
        }
    }
    let hparams = Hparams::from_metadata(&md).unwrap();
    let recipe = Recipe::load("ud-iq1_s").unwrap();
    let plan = Plan::make(&decls, Some(&hparams), &recipe, false).unwrap();
    eprint!(
        "{}",
        plan.render()
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let count = |ty: &str| plan.by_type.get(ty).map_or(0, |t| t.tensors);
    assert_eq!(plan.entries.len(), 1025);
    assert_eq!(
        [
            count("f32"),
            count("q4_K"),
            count("q5_K"),
            count("q6_K"),
            count("iq2_xxs"),
            count("iq1_s")
        ],
        [361, 190, 116, 184, 6, 168]
    );
    let gib = plan.output_bytes as f64 / (1u64 << 30) as f64;
    assert!((gib - 130.60).abs() < 0.01, "{gib:.3} GiB");
    // The first six MoE blocks' down projections get IQ2_XXS, nothing else does.
    let iq2: Vec<&str> = plan
        .entries
        .iter()
        .filter(|e| e.to == "iq2_xxs")
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(iq2.first(), Some(&"blk.3.ffn_down_exps.weight"));
    assert_eq!(iq2.last(), Some(&"blk.8.ffn_down_exps.weight"));
}

fn f16_tiny(dir: &Path, layout: &str) -> PathBuf {
    let p = dir.join(format!("f16-{layout}.gguf"));
    ok(&bitmoe(&[
        "synth",
        "--arch",
        "deepseek2",
        "--preset",
        "r1-tiny",
        "--layout",
        layout,
        "--weights",
        "f16",
        "-o",
        p.to_str().unwrap(),
    ]));
    p
}

fn greedy(path: &Path, prompt: &[u32], n: usize) -> Vec<u32> {
    let mut s = Session::load(&LoadOptions {
        model: path.to_path_buf(),
        threads: Some(2),
        ctx_size: 64,
        ..LoadOptions::default()
    })
    .unwrap();
    let mut sampler = Sampler::new(SamplerConfig {
        temperature: 0.0,
        ..SamplerConfig::default()
    });
    let params = GenerateParams {
        n_predict: Some(n),
        ignore_eos: true,
        ..GenerateParams::default()
    };
    s.generate(prompt, &params, &mut sampler, &mut |_| {})
        .unwrap()
        .tokens
}

/// `tools/quantize_parity.py` quantized the same F16 r1-tiny (split MLA layout, which
/// llama.cpp also runs absorbed) with `ud-iq1_s` and recorded llama.cpp's logits and
/// greedy tokens: the file we write today must run like that in bitmoe.
#[test]
fn a_quantized_r1_runs_like_llama_cpp_on_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_tiny(dir.path(), "split");
    let out = dir.path().join("q.gguf");
    ok(&bitmoe(&[
        "quantize",
        src.to_str().unwrap(),
        out.to_str().unwrap(),
        "--recipe",
        "ud-iq1_s",
    ]));
    let name = "quantized-r1-tiny-split-ud-iq1_s";
    let raw: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/golden/{name}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    assert_eq!(
        format!("{hash:016x}"),
        raw["quantized_fnv1a64"].as_str().unwrap(),
        "the quantizer's output changed since llama.cpp's golden was recorded: \
         rerun tools/quantize_parity.py --layout split"
    );
    let g = golden(name);
    check_golden(
        &out,
        &g,
        &Bounds {
            first: 1e-3,
            each: 2.5e-3,
            median: 1.5e-3,
            greedy: false,
            // IQ1_S experts sharpen the router's scores: llama.cpp, bitmoe and the
            // float64 reference part three ways at a 2.1e-3 margin (position 19).
            near_tie: 5e-3,
            // Quantized activations against IQ1_S weights: 1e-3 typical, 5.2e-3 at the
            // position after llama.cpp's flip.
            ref_each: 1e-2,
        },
    );
    let file = GgufFile::open(&out).unwrap();
    let md = file.metadata();
    assert_eq!(md.get_u32("general.file_type").unwrap(), Some(24)); // MOSTLY_IQ1_S
    assert_eq!(md.get_u32("general.quantization_version").unwrap(), Some(2));
}

const SMALL_RECIPE: &str = r#"
name = "test"
default = "q4_K"
[[rule]]
tensor = "_exps"
type = "iq1_s"
[[rule]]
role = "output"
type = "q8_0"
"#;

#[test]
fn split_output_loads_and_computes_what_one_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_tiny(dir.path(), "legacy");
    let recipe = dir.path().join("r.toml");
    std::fs::write(&recipe, SMALL_RECIPE).unwrap();
    let one = dir.path().join("one.gguf");
    let parts = dir.path().join("parts.gguf");
    let (s, r) = (src.to_str().unwrap(), recipe.to_str().unwrap());
    ok(&bitmoe(&[
        "quantize",
        s,
        one.to_str().unwrap(),
        "--recipe",
        r,
    ]));
    ok(&bitmoe(&[
        "quantize",
        s,
        parts.to_str().unwrap(),
        "--recipe",
        r,
        "--split-max-size",
        "1M",
    ]));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("parts-"))
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    let first = dir
        .path()
        .join(format!("parts-00001-of-{:05}.gguf", names.len()));
    let split = GgufFile::open(&first).unwrap();
    let whole = GgufFile::open(&one).unwrap();
    assert_eq!(split.parts().len(), names.len());
    assert_eq!(split.tensors().len(), whole.tensors().len());
    for t in whole.tensors() {
        assert_eq!(
            split.tensor_data(split.tensor(&t.name).unwrap()),
            whole.tensor_data(t),
            "{}",
            t.name
        );
    }
    let prompt = [83, 104, 101, 32, 115, 97, 105, 100];
    assert_eq!(greedy(&first, &prompt, 8), greedy(&one, &prompt, 8));
}

#[test]
fn an_importance_matrix_steers_the_quantizer_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_tiny(dir.path(), "legacy");
    let recipe = dir.path().join("r.toml");
    std::fs::write(&recipe, SMALL_RECIPE).unwrap();
    // Importance on the even input columns of every expert of one tensor only.
    let name = "blk.1.ffn_down_exps.weight";
    let f = GgufFile::open(&src).unwrap();
    let t = f.tensor(name).unwrap();
    let (cols, n_exp) = (t.dims[0] as usize, t.dims[2] as usize);
    let mut sums = vec![1e-3f32; cols * n_exp];
    for (j, s) in sums.iter_mut().enumerate() {
        if j % 2 == 0 {
            *s = 100.0;
        }
    }
    let mut m = Imatrix {
        datasets: vec!["test".into()],
        chunk_count: 1,
        chunk_size: 8,
        ..Imatrix::default()
    };
    m.entries.insert(
        name.into(),
        ImatrixEntry {
            sums,
            counts: vec![1.0; n_exp],
        },
    );
    let imat = dir.path().join("imatrix.gguf");
    m.save(&imat).unwrap();
    let (plain, weighted) = (dir.path().join("plain.gguf"), dir.path().join("w.gguf"));
    let (s, r) = (src.to_str().unwrap(), recipe.to_str().unwrap());
    ok(&bitmoe(&[
        "quantize",
        s,
        plain.to_str().unwrap(),
        "--recipe",
        r,
    ]));
    ok(&bitmoe(&[
        "quantize",
        s,
        weighted.to_str().unwrap(),
        "--recipe",
        r,
        "--imatrix",
        imat.to_str().unwrap(),
    ]));
    let (a, b) = (
        GgufFile::open(&plain).unwrap(),
        GgufFile::open(&weighted).unwrap(),
    );
    for t in a.tensors() {
        let same = a.tensor_data(t) == b.tensor_data(b.tensor(&t.name).unwrap());
        assert_eq!(same, t.name != name, "{}", t.name);
    }
    // The error on the important columns shrinks.
    let kernels = bitmoe_simd::Kernels::detect();
    let err_even_cols = |file: &GgufFile| {
        let (tq, tf) = (file.tensor(name).unwrap(), f.tensor(name).unwrap());
        let rows = (tq.dims[1] * tq.dims[2]) as usize;
        let (qb, fb) = (file.tensor_data(tq).unwrap(), f.tensor_data(tf).unwrap());
        let (qrow, frow) = (qb.len() / rows, fb.len() / rows);
        let (mut q, mut x) = (vec![0f32; cols], vec![0f32; cols]);
        let mut e = 0f64;
        for r in 0..rows {
            let ty = |t: QuantType| bitmoe_simd::GgmlType::from_id(t.id()).unwrap();
            kernels.dequantize(ty(tq.ty))(&qb[r * qrow..(r + 1) * qrow], &mut q);
            kernels.dequantize(ty(tf.ty))(&fb[r * frow..(r + 1) * frow], &mut x);
            e += q
                .iter()
                .zip(&x)
                .step_by(2)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>();
        }
        e
    };
    let (e_plain, e_weighted) = (err_even_cols(&a), err_even_cols(&b));
    assert!(e_weighted < 0.8 * e_plain, "{e_weighted} vs {e_plain}");
    let md = b.metadata();
    assert_eq!(
        md.get("quantize.imatrix.entries_count"),
        Some(&MetaValue::I32(1))
    );
    assert_eq!(
        md.get_str("quantize.imatrix.dataset").unwrap(),
        Some("test")
    );
}

#[test]
fn dry_run_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let src = f16_tiny(dir.path(), "legacy");
    let s = src.to_str().unwrap();
    let plan = ok(&bitmoe(&[
        "quantize",
        s,
        "--recipe",
        "ud-iq1_s",
        "--dry-run",
    ]));
    assert!(
        plan.contains("blk.1.ffn_down_exps.weight") && plan.contains("iq2_xxs"),
        "{plan}"
    );
    assert!(
        plan.contains("bits per weight") && plan.contains("read per decoded token"),
        "{plan}"
    );
    assert!(!dir.path().join("out.gguf").exists());
    // A quantized input is not quantized again without being asked.
    let q = dir.path().join("q.gguf");
    ok(&bitmoe(&[
        "quantize",
        s,
        q.to_str().unwrap(),
        "--recipe",
        "ud-iq1_s",
    ]));
    fails_with(
        &bitmoe(&[
            "quantize",
            q.to_str().unwrap(),
            "x.gguf",
            "--recipe",
            "ud-q2_k_xl",
        ]),
        "--allow-requantize",
    );
    fails_with(&bitmoe(&["quantize", s, "--recipe", "ud-iq0"]), "ud-iq1_s");
    fails_with(&bitmoe(&["quantize", s, "--recipe", "ud-iq1_s"]), "output");
    fails_with(
        &bitmoe(&["quantize", s, s, "--recipe", "ud-iq1_s"]),
        "is the input",
    );
    fails_with(
        &bitmoe(&[
            "quantize",
            s,
            "o.gguf",
            "--recipe",
            "ud-iq1_s",
            "--imatrix",
            "/nope.dat",
        ]),
        "/nope.dat",
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "default = \"q4_K\"\n[[rule]]\nlayers = \"9-3\"\ntype = \"q6_K\"\n",
    )
    .unwrap();
    fails_with(
        &bitmoe(&[
            "quantize",
            s,
            "--recipe",
            bad.to_str().unwrap(),
            "--dry-run",
        ]),
        "9 > 3",
    );
    fails_with(
        &bitmoe(&[
            "quantize",
            s,
            "o.gguf",
            "--recipe",
            "ud-iq1_s",
            "--split-max-size",
            "1K",
        ]),
        "--split-max-size",
    );
}

#[test]
fn layouts_are_reused_from_the_synthetic_writer() {
    // The legacy layout of r1-tiny has no attn_k_b; the split one gets Q8_0 there
    // (its rows of 64 are not whole 256-blocks for the K-quants).
    let spec = MoeSpec {
        layout: MlaLayout::Split,
        types: MoeTypes::uniform(QuantType::F16),
        ..MoeSpec::r1_tiny()
    };
    let (md, decls) = deepseek2_layout(&spec).unwrap();
    let plan = Plan::make(
        &decls,
        Hparams::from_metadata(&md).ok().as_ref(),
        &Recipe::load("ud-iq1_s").unwrap(),
        false,
    )
    .unwrap();
    let kb = plan
        .entries
        .iter()
        .find(|e| e.name == "blk.0.attn_k_b.weight")
        .unwrap();
    assert_eq!(kb.to, "q8_0");
}

/// `bitmoe imatrix` counts every token once per linear layer and, for routed experts,
/// once per expert it was routed to (llama-imatrix's bookkeeping), and sums x² per
/// input column.
#[test]
fn imatrix_counts_tokens_per_layer_and_per_expert() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("r1.gguf");
    bitmoe::synth::write_deepseek2(&model, &MoeSpec::r1_tiny()).unwrap();
    let text = dir.path().join("t.txt");
    std::fs::write(
        &text,
        "the quick brown fox jumps over the lazy dog. ".repeat(3),
    )
    .unwrap();
    let out = dir.path().join("m.gguf");
    let log = ok(&bitmoe(&[
        "imatrix",
        "-m",
        model.to_str().unwrap(),
        "-f",
        text.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-c",
        "32",
        "-t",
        "2",
    ]));
    assert!(log.is_empty(), "imatrix writes its report to stderr: {log}");
    let m = Imatrix::load(&out).unwrap();
    assert!(
        m.chunk_count >= 2 && m.chunk_size == 32,
        "{} chunks",
        m.chunk_count
    );
    let tokens = m.chunk_count as f32 * 32.0;
    let q_a = &m.entries["blk.1.attn_q_a.weight"];
    assert_eq!(q_a.counts, vec![tokens]);
    assert!(q_a.sums.iter().all(|&s| s > 0.0));
    let spec = MoeSpec::r1_tiny();
    for layer in 1..spec.n_layer {
        let e = &m.entries[&format!("blk.{layer}.ffn_down_exps.weight")];
        assert_eq!(e.n_mat(), spec.n_expert);
        assert_eq!(e.n_cols(), spec.n_ff_exp);
        let routed: f32 = e.counts.iter().sum();
        assert_eq!(routed, tokens * spec.n_expert_used as f32, "layer {layer}");
    }
    // Embeddings are a lookup, not a matmul; output is collected only when asked.
    assert!(!m.entries.contains_key("token_embd.weight"));
    assert!(!m.entries.contains_key("output.weight"));
    fails_with(
        &bitmoe(&["imatrix", "-m", model.to_str().unwrap(), "-f", "/nope.txt"]),
        "/nope.txt",
    );
}
