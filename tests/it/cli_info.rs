//! `bitmoe info` as a user runs it.

use crate::support::bitmoe;
use crate::support::{small_valid, smollm2, write};

#[test]
fn info_json_on_smollm2() {
    let Some(path) = smollm2() else { return };
    let out = bitmoe(&["info", "-m", path.to_str().unwrap(), "--json", "--tensors"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["architecture"], "llama");
    assert_eq!(v["hparams"]["Ok"]["n_layer"], 30);
    assert_eq!(v["hparams"]["Ok"]["n_embd"], 576);
    assert_eq!(v["hparams"]["Ok"]["n_head"], 9);
    assert_eq!(v["hparams"]["Ok"]["n_head_kv"], 3);
    assert_eq!(v["hparams"]["Ok"]["vocab_size"], 49152);
    assert_eq!(v["total"]["tensors"], 272);
    assert_eq!(v["by_type"]["q4_1"]["tensors"], 210);
    assert_eq!(v["tensors"].as_array().unwrap().len(), 272);
    assert_eq!(v["tokenizer"]["model"], "gpt2");
}

#[test]
fn info_text_mentions_the_essentials() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = small_valid();
    let p = write(dir.path(), "small.gguf", &bytes);
    let out = bitmoe(&["info", "-m", p.to_str().unwrap(), "--tensors", "--metadata"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "architecture: llama",
        "blk.0.attn_q.weight",
        "q8_0",
        "by role:",
        "tokenizer.ggml.tokens",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // The hyper-parameters are incomplete: one line lists every missing key.
    assert!(text.contains("llama.embedding_length"), "{text}");
    assert!(
        text.contains("llama.attention.layer_norm_rms_epsilon"),
        "{text}"
    );
}

#[test]
fn errors_are_clear_and_exit_nonzero() {
    let out = bitmoe(&["info", "-m", "/nonexistent/x.gguf"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/x.gguf") && err.contains("cannot open"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = small_valid();
    let p = write(dir.path(), "cut.gguf", &bytes[..50]);
    let out = bitmoe(&["info", "-m", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("truncated at offset"),
        "{err}"
    );
}
