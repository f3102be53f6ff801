//! A bench result row and its four output formats: a llama-bench-style markdown table,
//! JSON, JSON lines and CSV. Field names follow llama-bench's JSON where one exists
//! (`build_commit`, `cpu_info`, `model_type`, `avg_ts`, `samples_ns`, …); the columns no
//! peer has are the expert cache's hit rate, bytes read from storage per token, the
//! storage read rate, and the fraction of the machine's memory bandwidth a decode used.

use serde::Serialize;

/// One quant type's share of the model's tensor bytes.
#[derive(Debug, Clone, Serialize)]
pub struct QuantShare {
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub bytes: u64,
    pub fraction: f64,
}

/// The expert cache over a test's measured repetitions (warm-up excluded).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ExpertColumns {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub read_bytes_per_token: f64,
    pub stall_ms_per_token: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub build_commit: &'static str,
    pub bitmoe_version: &'static str,
    pub cpu_info: String,
    pub backend: &'static str,
    pub isa: &'static str,
    pub model_filename: String,
    /// "deepseek2 2.6B IQ1_S": architecture, parameters, the largest quant type.
    pub model_type: String,
    /// Built in by `bench` without `-m`: random weights, speed only.
    pub synthetic: bool,
    pub model_size: u64,
    pub model_n_params: u64,
    pub quant_mix: Vec<QuantShare>,
    pub n_batch: usize,
    pub n_threads: usize,
    /// Where routed experts came from: "cache", "mmap", or "none" for dense models.
    pub experts: &'static str,
    /// Model files evicted from the page cache (and the expert cache emptied) before
    /// each repetition.
    pub cold: bool,
    pub n_prompt: usize,
    pub n_gen: usize,
    pub n_depth: usize,
    pub test: String,
    pub test_time: String,
    pub avg_ns: u64,
    pub stddev_ns: u64,
    pub avg_ts: f64,
    pub stddev_ts: f64,
    pub samples_ns: Vec<u64>,
    pub samples_ts: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expert_cache: Option<ExpertColumns>,
    /// Bytes this process read from storage per timed token (page faults and direct
    /// reads; Linux only).
    pub storage_read_bytes_per_token: Option<f64>,
    pub storage_read_gbps: Option<f64>,
    /// Weight bytes one decoded token reads (resident weights + the used share of the
    /// routed experts; `bitmoe info`'s figure).
    pub touched_bytes_per_token: u64,
    /// The memory read bandwidth probe at this thread count.
    pub mem_bw_gbps: f64,
    /// touched bytes per token × tokens/s ÷ the probe; generation tests only (a prompt
    /// batch reuses each weight byte for many tokens).
    pub mem_bw_fraction: Option<f64>,
}

/// llama-bench's size column: MiB below 1 GiB, else GiB.
fn size_label(bytes: u64) -> String {
    let b = bytes as f64;
    if b < (1u64 << 30) as f64 {
        format!("{:.2} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    }
}

/// llama-bench's params column: M below a billion, else B.
pub fn params_label(n: u64) -> String {
    if n < 1_000_000_000 {
        format!("{:.2} M", n as f64 / 1e6)
    } else {
        format!("{:.2} B", n as f64 / 1e9)
    }
}

fn or_dash<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

/// The markdown table, then llama-bench's "build:" line and what the columns mean.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| model | size | params | backend | threads | test | t/s | experts | expert hits | disk read/token | disk read | mem BW |\n");
    out.push_str(
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let cold = if r.cold { " cold" } else { "" };
        out.push_str(&format!(
            "| {} | {} | {} | CPU {} | {} | {}{cold} | {:.2} ± {:.2} | {} | {} | {} | {} | {} |\n",
            r.model_type,
            size_label(r.model_size),
            params_label(r.model_n_params),
            r.isa,
            r.n_threads,
            r.test,
            r.avg_ts,
            r.stddev_ts,
            r.experts,
            or_dash(r.expert_cache, |e| format!("{:.1} %", 100.0 * e.hit_rate)),
            or_dash(r.storage_read_bytes_per_token, |b| format!(
                "{:.1} MB",
                b / 1e6
            )),
            or_dash(r.storage_read_gbps, |g| format!("{g:.2} GB/s")),
            or_dash(r.mem_bw_fraction, |f| format!(
                "{:.0} % of {:.1} GB/s",
                100.0 * f,
                r.mem_bw_gbps
            )),
        ));
    }
    if let Some(r) = rows.first() {
        let mix: Vec<String> = r
            .quant_mix
            .iter()
            .map(|q| format!("{} {:.1} %", q.ty, 100.0 * q.fraction))
            .collect();
        out.push_str(&format!(
            "\nbuild: {} (bitmoe {})\ncpu: {}\nmodel: {}{}\nquant mix (bytes): {}\n",
            r.build_commit,
            r.bitmoe_version,
            r.cpu_info,
            r.model_filename,
            if r.synthetic {
                " (synthetic, random weights: speed only, no text quality)"
            } else {
                ""
            },
            mix.join(", "),
        ));
    }
    out
}

/// CSV with a header; lists are `;`-separated inside one field.
pub fn csv(rows: &[Row]) -> String {
    const HEAD: &[&str] = &[
        "build_commit",
        "bitmoe_version",
        "cpu_info",
        "backend",
        "isa",
        "model_filename",
        "model_type",
        "synthetic",
        "model_size",
        "model_n_params",
        "quant_mix",
        "n_batch",
        "n_threads",
        "experts",
        "cold",
        "n_prompt",
        "n_gen",
        "n_depth",
        "test",
        "test_time",
        "avg_ns",
        "stddev_ns",
        "avg_ts",
        "stddev_ts",
        "samples_ns",
        "samples_ts",
        "expert_hit_rate",
        "expert_read_bytes_per_token",
        "expert_stall_ms_per_token",
        "storage_read_bytes_per_token",
        "storage_read_gbps",
        "touched_bytes_per_token",
        "mem_bw_gbps",
        "mem_bw_fraction",
    ];
    let mut out = HEAD.join(",");
    out.push('\n');
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    let join = |v: Vec<String>| v.join(";");
    for r in rows {
        let fields = [
            quote(r.build_commit),
            quote(r.bitmoe_version),
            quote(&r.cpu_info),
            quote(r.backend),
            quote(r.isa),
            quote(&r.model_filename),
            quote(&r.model_type),
            r.synthetic.to_string(),
            r.model_size.to_string(),
            r.model_n_params.to_string(),
            quote(&join(
                r.quant_mix
                    .iter()
                    .map(|q| format!("{}:{:.4}", q.ty, q.fraction))
                    .collect(),
            )),
            r.n_batch.to_string(),
            r.n_threads.to_string(),
            quote(r.experts),
            r.cold.to_string(),
            r.n_prompt.to_string(),
            r.n_gen.to_string(),
            r.n_depth.to_string(),
            quote(&r.test),
            quote(&r.test_time),
            r.avg_ns.to_string(),
            r.stddev_ns.to_string(),
            r.avg_ts.to_string(),
            r.stddev_ts.to_string(),
            quote(&join(r.samples_ns.iter().map(u64::to_string).collect())),
            quote(&join(r.samples_ts.iter().map(f64::to_string).collect())),
            opt(r.expert_cache.map(|e| e.hit_rate)),
            opt(r.expert_cache.map(|e| e.read_bytes_per_token)),
            opt(r.expert_cache.map(|e| e.stall_ms_per_token)),
            opt(r.storage_read_bytes_per_token),
            opt(r.storage_read_gbps),
            r.touched_bytes_per_token.to_string(),
            r.mem_bw_gbps.to_string(),
            opt(r.mem_bw_fraction),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field in double quotes, inner quotes doubled (RFC 4180).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn labels_follow_llama_bench() {
        assert_eq!(size_label(98_362_432), "93.81 MiB");
        assert_eq!(size_label(3 << 30), "3.00 GiB");
        assert_eq!(params_label(134_515_008), "134.52 M");
        assert_eq!(params_label(2_570_010_000), "2.57 B");
        assert_eq!(quote("a \"b\", c"), "\"a \"\"b\"\", c\"");
    }
}
