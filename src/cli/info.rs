//! `bitmoe info`: render a `ModelSummary` as text or JSON.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Context;

use super::InfoArgs;
use crate::gguf::GgufFile;
use crate::inspect::{ModelSummary, Tally};
use crate::schema::TensorRole;
use crate::weights::placement::{MemoryPlan, R1_KV_BYTES_PER_TOKEN};

pub fn run(args: &InfoArgs) -> anyhow::Result<()> {
    let file = GgufFile::open(&args.model)?;
    let summary = ModelSummary::of(&file, args.tensors);
    let plan = if args.plan {
        let h = summary
            .hparams
            .as_ref()
            .map_err(|e| anyhow::anyhow!("no plan without hyper-parameters: {e}"))?;
        let budget = args
            .ram_budget
            .unwrap_or_else(crate::engine::available_memory);
        Some(MemoryPlan::of(&file, h, budget, args.ctx_size, 512))
    } else {
        None
    };
    let text = if args.json {
        let mut v = serde_json::to_value(&summary).context("serializing the summary")?;
        if let Some(p) = &plan {
            v["plan"] = serde_json::to_value(p)?;
        }
        if args.metadata {
            let md: serde_json::Map<String, serde_json::Value> = file
                .metadata()
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.summary(200))))
                .collect();
            v["metadata"] = serde_json::Value::Object(md);
        }
        serde_json::to_string_pretty(&v)? + "\n"
    } else {
        let mut s = render(&summary);
        if let Some(p) = &plan {
            s.push_str(&render_plan(p, summary.architecture.as_deref()));
        }
        if args.metadata {
            s.push_str("\nmetadata:\n");
            for (k, v) in file.metadata().iter() {
                let _ = writeln!(s, "  {k:<48} {}", v.summary(80));
            }
        }
        s
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`bitmoe info … | head`) is not an error worth a message.
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn gib(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b >= K * K * K {
        format!("{:.2} GiB", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.2} MiB", b / (K * K))
    } else if b >= K {
        format!("{:.1} KiB", b / K)
    } else {
        format!("{bytes} B")
    }
}

fn tally_line(label: &str, t: &Tally, total: u64) -> String {
    let pct = if total > 0 {
        100.0 * t.bytes as f64 / total as f64
    } else {
        0.0
    };
    let bpw = if t.elements > 0 {
        t.bytes as f64 * 8.0 / t.elements as f64
    } else {
        0.0
    };
    format!(
        "  {label:<16} {:>5} tensors {:>12} {:>14} B {pct:>6.2}% {bpw:>6.3} bpw\n",
        t.tensors,
        gib(t.bytes),
        t.bytes
    )
}

fn render_plan(p: &MemoryPlan, arch: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nplan for a {}-token context under a RAM budget of {}:",
        p.n_ctx,
        gib(p.ram_budget)
    );
    let _ = writeln!(
        o,
        "  resident weights  {:>12}",
        gib(p.resident_weight_bytes)
    );
    if p.derived_bytes > 0 {
        let _ = writeln!(
            o,
            "  derived k_b       {:>12}  (absorbed MLA from the legacy attn_kv_b, Q8_0)",
            gib(p.derived_bytes)
        );
    }
    let _ = writeln!(
        o,
        "  KV cache          {:>12}  ({} B per token)",
        gib(p.kv_bytes),
        p.kv_bytes_per_token
    );
    let _ = writeln!(
        o,
        "  scratch           {:>12}  (estimate, batch {})",
        gib(p.scratch_bytes),
        p.n_batch
    );
    let _ = writeln!(o, "  = must be in RAM  {:>12}", gib(p.resident_total()));
    if p.experts > 0 {
        let _ = writeln!(
            o,
            "  routed experts    {:>12}  ({} experts of {}); room for {} ({:.1}%)",
            gib(p.routed_expert_bytes),
            p.experts,
            gib(p.expert_bytes),
            p.cacheable_experts,
            100.0 * p.cacheable_experts as f64 / p.experts as f64
        );
    }
    let verdict = if p.fits_entirely {
        "everything fits in RAM"
    } else if p.fits && p.experts > 0 {
        "fits; routed experts are paged from disk"
    } else if p.fits {
        "fits only partly: the OS will page weights from disk"
    } else {
        "does NOT fit: the resident part alone exceeds the budget"
    };
    let _ = writeln!(o, "  verdict: {verdict}");
    if arch == Some("deepseek2") {
        let _ = writeln!(
            o,
            "  (full DeepSeek-R1: {} B per token = 61 layers × (512 + 64) × 2 B; 32k context {})",
            R1_KV_BYTES_PER_TOKEN,
            gib(R1_KV_BYTES_PER_TOKEN * 32768)
        );
    }
    o
}

fn render(s: &ModelSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "model: {}   architecture: {}",
        s.name.as_deref().unwrap_or("(unnamed)"),
        s.architecture.as_deref().unwrap_or("(none)")
    );
    match &s.hparams {
        Ok(h) => {
            let c = &h.common;
            let _ = writeln!(
                o,
                "  blocks {}  embedding {}  ffn {}  heads {}  kv heads {}  head dim k/v {}/{}  rope dims {}  vocab {}",
                c.n_layer, c.n_embd, c.n_ff, c.n_head, c.n_head_kv, c.key_length, c.value_length, c.n_rot, c.vocab_size
            );
            let _ = writeln!(
                o,
                "  context {}  rms eps {:e}  rope base {}  rope scaling {:?} x{}",
                c.context_length,
                c.rms_eps,
                c.rope_freq_base,
                c.rope_scaling.kind,
                c.rope_scaling.factor
            );
            if let Some(d) = &h.deepseek2 {
                let _ = writeln!(
                    o,
                    "  experts {} (used {}, shared {}, width {})  dense lead blocks {}  gating {:?}  scale {}  norm {}  groups {}",
                    d.expert_count,
                    d.expert_used_count,
                    d.expert_shared_count,
                    d.expert_ff,
                    d.leading_dense_blocks,
                    d.gating,
                    d.expert_weights_scale,
                    d.expert_weights_norm,
                    match (d.expert_group_count, d.expert_group_used_count) {
                        (Some(g), Some(u)) => format!("{u} of {g}"),
                        _ => "none".to_string(),
                    }
                );
                let _ = writeln!(
                    o,
                    "  MLA: q_lora {}  kv_lora {}  layout {}",
                    d.q_lora_rank.map_or("none".to_string(), |r| r.to_string()),
                    d.kv_lora_rank,
                    if d.has_mla_split_kv_b() {
                        "attn_k_b/attn_v_b"
                    } else {
                        "legacy attn_kv_b"
                    }
                );
            }
        }
        Err(e) => {
            let _ = writeln!(o, "  hyper-parameters: {e}");
        }
    }
    let t = &s.tokenizer;
    let _ = writeln!(
        o,
        "tokenizer: {} (pre {})  vocab {}  merges {}  bos {}  eos {}  chat template {}",
        t.model.as_deref().unwrap_or("none"),
        t.pre.as_deref().unwrap_or("none"),
        t.vocab_size.map_or("-".into(), |v| v.to_string()),
        t.merges.map_or("-".into(), |v| v.to_string()),
        t.bos_token_id.map_or("-".into(), |v| v.to_string()),
        t.eos_token_id.map_or("-".into(), |v| v.to_string()),
        if t.has_chat_template { "yes" } else { "no" }
    );
    let _ = writeln!(
        o,
        "files: {}   metadata keys: {}",
        s.files.len(),
        s.metadata_keys
    );
    for f in &s.files {
        let _ = writeln!(
            o,
            "  {}  v{}  {} ({} B)  {} tensors  data section {} B from offset {}  tensor bytes {} B  padding {} B",
            f.path.display(),
            f.version,
            gib(f.file_bytes),
            f.file_bytes,
            f.tensors,
            f.data_section_bytes,
            f.data_start,
            f.tensor_bytes,
            f.data_section_bytes.saturating_sub(f.tensor_bytes)
        );
    }
    let total = s.total.bytes;
    let _ = writeln!(
        o,
        "tensors: {}   {} ({} B)   {:.2} B parameters",
        s.total.tensors,
        gib(total),
        total,
        s.total.elements as f64 / 1e9
    );
    let fp = &s.footprint;
    let _ = writeln!(
        o,
        "footprint: resident (all but routed experts) {}   routed experts {}   read per token ≈ {}",
        gib(fp.resident_bytes),
        gib(fp.routed_expert_bytes),
        gib(fp.touched_per_token_bytes)
    );
    o.push_str("by type:\n");
    let mut types: Vec<_> = s.by_type.iter().collect();
    types.sort_by_key(|t| std::cmp::Reverse(t.1.bytes));
    for (name, tally) in types {
        o.push_str(&tally_line(name, tally, total));
    }
    o.push_str("by role:\n");
    for (role, tally) in &s.by_role {
        o.push_str(&tally_line(role.name(), tally, total));
    }
    if !s.by_role.contains_key(&TensorRole::Output)
        && s.by_role.contains_key(&TensorRole::Embeddings)
    {
        o.push_str("  (no output.weight: the output head is tied to token_embd)\n");
    }
    o.push_str("by layer:\n");
    o.push_str(&tally_line("global", &s.global, total));
    for (layer, tally) in &s.by_layer {
        o.push_str(&tally_line(
            &crate::schema::block_label(*layer),
            tally,
            total,
        ));
    }
    if let Some(rows) = &s.tensors {
        let _ = writeln!(o, "tensors ({}):", rows.len());
        for r in rows {
            let shape: Vec<String> = r.shape.iter().map(u64::to_string).collect();
            let _ = writeln!(
                o,
                "  {:<40} {:<8} {:<22} {:>14} B  {:<15} file {}",
                r.name,
                r.ty,
                format!("[{}]", shape.join(", ")),
                r.bytes,
                r.role.name(),
                r.file
            );
        }
    }
    o
}
