//! `bitmoe run` / `chat` as a user runs them: output on synthetic models, and one clear
//! message with a non-zero exit (never a panic) for each kind of bad input.

use std::process::Command;

use bitmoe::schema::Arch;
use bitmoe::synth::{write_dense, DenseSpec};

use crate::support::{bitmoe, fails_with};
use crate::support::{write, Raw};

#[test]
fn run_json_on_a_synthetic_model() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("q.gguf");
    write_dense(&m, &DenseSpec::tiny(Arch::Qwen2)).unwrap();
    let out = bitmoe(&[
        "run",
        "-m",
        m.to_str().unwrap(),
        "-p",
        "the cat",
        "-n",
        "8",
        "--temp",
        "0",
        "--json",
        "-t",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tokens"].as_array().unwrap().len(), 8);
    assert!(v["prompt_tokens"].as_array().unwrap().len() >= 2);
    assert!(v["timings"]["gen_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_input_gives_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails_with(
        &bitmoe(&["run", "-m", "/nonexistent/m.gguf", "-p", "x"]),
        "cannot open",
    );
    let text = write(d, "notes.gguf", b"hello, this is not a model");
    fails_with(
        &bitmoe(&["run", "-m", text.to_str().unwrap(), "-p", "x"]),
        "not a GGUF file",
    );
    let mut r = Raw::header(3, 0, 1);
    r.kv_str("general.architecture", "mamba");
    let mamba = write(d, "mamba.gguf", &r.bytes);
    fails_with(
        &bitmoe(&["run", "-m", mamba.to_str().unwrap(), "-p", "x"]),
        "\"mamba\" is not supported",
    );
    let m = d.join("l.gguf");
    write_dense(&m, &DenseSpec::tiny(Arch::Llama)).unwrap();
    let m = m.to_str().unwrap();
    let long = "word ".repeat(100);
    fails_with(
        &bitmoe(&["run", "-m", m, "-p", &long, "-c", "32"]),
        "context holds 32",
    );
    fails_with(
        &bitmoe(&["run", "-m", m, "-p", "x", "--temp", "warm"]),
        "invalid value 'warm'",
    );
    fails_with(
        &bitmoe(&["run", "-m", m, "-p", "x", "--top-p", "1.5"]),
        "--top-p",
    );
    fails_with(&bitmoe(&["run", "-m", m]), "no prompt");
    fails_with(
        &bitmoe(&["bench", "-m", m, "-o", "xml"]),
        "invalid value 'xml'",
    );
    fails_with(&bitmoe(&["bench", "-m", m, "-p", "12,x"]), "-p");
}

/// Runs `bitmoe chat` on `model` with `input` on stdin; (stdout, stderr).
fn chat(model: &str, input: &[u8]) -> (String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitmoe"))
        .args([
            "chat", "-m", model, "--temp", "0", "-n", "6", "-t", "1", "--system", "be brief",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

#[test]
fn chat_keeps_history_resets_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("q.gguf");
    write_dense(&m, &DenseSpec::tiny(Arch::Qwen2)).unwrap();
    let m = m.to_str().unwrap();
    let (one_turn, _) = chat(m, b"hello there\n/exit\n");
    let (three_turns, err) = chat(m, b"hello there\nand again\n/reset\nhello there\n/exit\n");
    assert!(err.contains("(conversation cleared)"), "{err}");
    // The first reply, then a second one that depends on the history, then after /reset
    // the first reply again: greedy decoding from a really empty conversation.
    assert!(!one_turn.trim().is_empty());
    assert!(
        three_turns.starts_with(&one_turn),
        "{three_turns:?} vs {one_turn:?}"
    );
    assert!(
        three_turns.ends_with(&one_turn),
        "{three_turns:?} vs {one_turn:?}"
    );
    assert!(three_turns.len() > 2 * one_turn.len(), "{three_turns:?}");
}
