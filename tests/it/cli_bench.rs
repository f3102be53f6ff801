//! `bitmoe bench` as a user runs it: llama-bench's tests and output formats, the
//! columns about storage, memory bandwidth and the expert cache, `--cold`, `--plot`,
//! the built-in synthetic model, and clear errors for bad flags.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{bitmoe, fails_with, ok};
use bitmoe::schema::Arch;
use bitmoe::synth::{write_deepseek2, write_dense, DenseSpec, MoeSpec};

fn json_rows(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(out)).unwrap()
}

fn dense(dir: &Path) -> String {
    let m = dir.join("l.gguf");
    write_dense(&m, &DenseSpec::tiny(Arch::Llama)).unwrap();
    m.to_str().unwrap().to_string()
}

#[test]
fn json_rows_follow_llama_bench() {
    let dir = tempfile::tempdir().unwrap();
    let m = dense(dir.path());
    let out = bitmoe(&[
        "bench", "-m", &m, "-p", "16", "-n", "4", "-pg", "8,2", "-d", "0,8", "-r", "2", "-t",
        "1,2", "-o", "json",
    ]);
    let rows = json_rows(&out);
    // Machine-readable output keeps stderr free of progress.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tests: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["test"].as_str().unwrap().to_string(),
                r["n_threads"].as_u64().unwrap(),
            )
        })
        .collect();
    let names = [
        "pp16",
        "tg4",
        "pp8+tg2",
        "pp16 @ d8",
        "tg4 @ d8",
        "pp8+tg2 @ d8",
    ];
    let want: Vec<(String, u64)> = [1, 2]
        .iter()
        .flat_map(|&t| names.iter().map(move |n| (n.to_string(), t)))
        .collect();
    assert_eq!(tests, want);
    for r in &rows {
        let samples = r["samples_ts"].as_array().unwrap();
        assert_eq!(samples.len(), 2);
        let mean = samples.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / 2.0;
        assert!((r["avg_ts"].as_f64().unwrap() - mean).abs() < 1e-6 * mean);
        assert!(r["avg_ns"].as_u64().unwrap() > 0);
        for key in ["build_commit", "cpu_info", "isa", "model_type", "test_time"] {
            assert!(!r[key].as_str().unwrap().is_empty(), "{key}");
        }
        assert_eq!(r["experts"], "none");
        assert_eq!(r["synthetic"], false);
        assert!(r["model_type"].as_str().unwrap().starts_with("llama "));
        let mix: f64 = r["quant_mix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["fraction"].as_f64().unwrap())
            .sum();
        assert!((mix - 1.0).abs() < 1e-9, "{mix}");
        assert!(r["mem_bw_gbps"].as_f64().unwrap() > 0.0);
        // The bandwidth share is a decode figure: generation tests only.
        let is_tg = r["n_prompt"].as_u64() == Some(0);
        assert_eq!(r["mem_bw_fraction"].is_f64(), is_tg, "{}", r["test"]);
        assert_eq!(
            r["n_depth"].as_u64().unwrap() > 0,
            r["test"].as_str().unwrap().contains(" @ d")
        );
    }
}

#[test]
fn markdown_and_csv_carry_the_extra_columns() {
    let dir = tempfile::tempdir().unwrap();
    let m = dense(dir.path());
    let md = ok(&bitmoe(&[
        "bench", "-m", &m, "-p", "8", "-n", "2", "-r", "1", "-t", "1",
    ]));
    let header = md.lines().next().unwrap();
    for col in [
        "| model |",
        "| t/s |",
        "expert hits",
        "disk read/token",
        "mem BW",
    ] {
        assert!(header.contains(col), "{col} missing in {header}");
    }
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| llama ")).count(),
        2,
        "{md}"
    );
    assert!(
        md.contains("\nbuild: ") && md.contains("\nquant mix (bytes): "),
        "{md}"
    );
    let csv = ok(&bitmoe(&[
        "bench", "-m", &m, "-p", "8", "-n", "2", "-r", "1", "-t", "1", "-o", "csv",
    ]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    let n_fields = lines[0].split(',').count();
    assert!(lines[0].starts_with("build_commit,") && n_fields > 30);
    assert!(lines[1].contains("\"pp8\"") && lines[2].contains("\"tg2\""));
}

#[test]
fn expert_cache_columns_and_cold_runs() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("r1-tiny.gguf");
    write_deepseek2(&m, &MoeSpec::r1_tiny()).unwrap();
    let m = m.to_str().unwrap();
    let rows = json_rows(&bitmoe(&[
        "bench",
        "-m",
        m,
        "-p",
        "8",
        "-n",
        "4",
        "-r",
        "2",
        "-t",
        "1",
        "--experts",
        "cache",
        "-o",
        "json",
    ]));
    for r in &rows {
        assert_eq!(r["experts"], "cache");
        let e = &r["expert_cache"];
        assert!(e["hits"].as_u64().unwrap() + e["misses"].as_u64().unwrap() > 0);
    }
    // Warm: after the warm-up every expert is cached (the cache holds them all).
    assert_eq!(rows[1]["expert_cache"]["misses"], 0, "{}", rows[1]);
    let out = bitmoe(&[
        "bench",
        "-m",
        m,
        "-p",
        "8",
        "-n",
        "4",
        "-r",
        "2",
        "-t",
        "1",
        "--experts",
        "cache",
        "--cold",
        "-o",
        "json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    for r in json_rows(&out) {
        // Cold: every repetition starts with an empty expert cache…
        assert!(r["expert_cache"]["misses"].as_u64().unwrap() > 0, "{r}");
        // …and the file evicted from the page cache, so reading it touches storage —
        // unless bench said it could not evict (e.g. a tmpfs).
        if cfg!(target_os = "linux") && !err.contains("--cold") {
            assert_eq!(r["cold"], true);
            assert!(
                r["storage_read_bytes_per_token"].as_f64().unwrap() > 0.0,
                "{r}"
            );
        }
    }
}

#[test]
fn plot_writes_an_svg_bar_per_test() {
    let dir = tempfile::tempdir().unwrap();
    let m = dense(dir.path());
    let svg = dir.path().join("b.svg");
    ok(&bitmoe(&[
        "bench",
        "-m",
        &m,
        "-p",
        "8",
        "-n",
        "2",
        "-r",
        "1",
        "-t",
        "1",
        "--plot",
        svg.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(200)]);
    assert!(text.contains("pp8 · 1 t") && text.contains("tg2 · 1 t"));
}

#[test]
fn without_a_model_it_builds_and_benches_the_synthetic_r1() {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitmoe"))
        .args(["bench", "-p", "4", "-n", "1", "-r", "1", "-t", "2"])
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    let md = ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("synthetic"), "{err}");
    assert!(
        md.lines()
            .any(|l| l.starts_with("| deepseek2 ") && l.contains("| pp4 |")),
        "{md}"
    );
    assert!(md.contains("synthetic, random weights"), "{md}");
    let built: Vec<_> = std::fs::read_dir(cache.path().join("bitmoe"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(built.len() == 1 && built[0].ends_with(".gguf"), "{built:?}");
}

#[test]
fn bad_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let m = dense(dir.path());
    fails_with(
        &bitmoe(&["bench", "-m", &m, "-o", "xml"]),
        "invalid value 'xml'",
    );
    fails_with(&bitmoe(&["bench", "-m", &m, "-p", "12,x"]), "-p");
    fails_with(&bitmoe(&["bench", "-m", &m, "-pg", "512"]), "-pg");
    fails_with(&bitmoe(&["bench", "-m", &m, "-d", "x"]), "-d");
    fails_with(&bitmoe(&["bench", "-m", &m, "-r", "0"]), "-r");
    fails_with(&bitmoe(&["bench", "-m", &m, "-t", "0"]), "-t");
    fails_with(
        &bitmoe(&["bench", "-m", &m, "-p", "0", "-n", "0"]),
        "nothing to run",
    );
    fails_with(
        &bitmoe(&["bench", "-m", "/nonexistent.gguf"]),
        "/nonexistent.gguf",
    );
}
