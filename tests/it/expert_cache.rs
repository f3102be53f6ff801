//! The expert-paging cache on synthetic R1-shaped files: a budget smaller than the
//! experts gives exactly the tokens and logits of the all-in-RAM run, counts its hits,
//! misses and evictions, and a budget too small for one layer's experts is a clear error
//! at load. Pins from a saved profile change no logit and are hits; a split model reads
//! its experts from every part.

use std::path::{Path, PathBuf};
use std::process::Command;

use bitmoe::engine::{ExpertsMode, LoadOptions, Session};
use bitmoe::gguf::{keys, split::part_path, GgufFile, GgufWriter, MetaValue, TensorDecl};
use bitmoe::schema::Hparams;
use bitmoe::synth::{write_deepseek2, MoeSpec};
use bitmoe::weights::experts::ExpertProfile;
use bitmoe::weights::placement::MemoryPlan;

const CTX: usize = 64;

fn tiny(dir: &Path) -> PathBuf {
    let p = dir.join("r1-tiny.gguf");
    write_deepseek2(&p, &MoeSpec::r1_tiny()).unwrap();
    p
}

fn load(path: &Path, experts: ExpertsMode, ram_budget: Option<u64>) -> Result<Session, String> {
    Session::load(&LoadOptions {
        model: path.to_path_buf(),
        threads: Some(2),
        ctx_size: CTX,
        experts,
        ram_budget,
        ..LoadOptions::default()
    })
    .map_err(|e| e.to_string())
}

/// Bytes that must stay resident for this file at the test's context.
fn resident(path: &Path) -> u64 {
    let f = GgufFile::open(path).unwrap();
    let h = Hparams::from_metadata(f.metadata()).unwrap();
    MemoryPlan::of(&f, &h, u64::MAX, CTX as u64, 512).resident_total()
}

const PROMPT: [u32; 12] = [83, 104, 101, 32, 115, 97, 105, 100, 32, 104, 101, 108];

#[test]
fn a_small_cache_computes_exactly_what_the_mapped_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    // Batched and token-by-token runs may differ in summation order (GEMM vs GEMV
    // kernels), so each is compared with its own reference.
    let mut mapped = load(&path, ExpertsMode::Mmap, None).unwrap();
    assert!(mapped.expert_cache_stats().is_none());
    let reference = mapped.eval_all_logits(&PROMPT).unwrap();
    mapped.reset();
    let mut reference_stepwise = Vec::new();
    for &t in &PROMPT {
        reference_stepwise.extend(mapped.eval(&[t]).unwrap());
    }
    // Learn the slot size from a roomy cache, then give it 6 slots for 32 experts
    // (r1-tiny: 2 MoE layers × 16, 4 used per token).
    let roomy = load(
        &path,
        ExpertsMode::Cache,
        Some(resident(&path) + (64 << 20)),
    )
    .unwrap();
    let slot = roomy.expert_cache_stats().unwrap().slot_bytes as u64;
    for slots in [6u64, 32] {
        let mut s = load(
            &path,
            ExpertsMode::Cache,
            Some(resident(&path) + slots * slot),
        )
        .unwrap();
        assert_eq!(s.expert_cache_stats().unwrap().capacity, slots as usize);
        // Token by token (decode) and as one batch (prefill).
        let mut stepwise = Vec::new();
        for &t in &PROMPT {
            stepwise.extend(s.eval(&[t]).unwrap());
        }
        assert_eq!(
            stepwise, reference_stepwise,
            "{slots} slots, token by token"
        );
        s.reset();
        assert_eq!(
            s.eval_all_logits(&PROMPT).unwrap(),
            reference,
            "{slots} slots, batch"
        );
        let st = s.expert_cache_stats().unwrap();
        assert!(
            st.misses > 0 && st.bytes_read >= st.misses * 3 * 4096,
            "{st:?}"
        );
        // 12 + 12 tokens × 2 layers × 4 experts asked for.
        assert!(st.hits + st.misses >= 2 * 12 * 4, "{st:?}");
        if slots == 6 {
            assert!(st.evictions > 0, "{st:?}");
        } else {
            // Everything fits: each expert is read at most once.
            assert!(st.misses <= 32 && st.evictions == 0, "{st:?}");
        }
    }
}

#[test]
fn a_budget_below_one_layers_experts_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let err = load(&path, ExpertsMode::Cache, Some(resident(&path) + 4096))
        .err()
        .unwrap();
    assert!(
        err.contains("room for 0 experts") && err.contains("one layer needs 4"),
        "{err}"
    );
    let err = load(&path, ExpertsMode::Cache, Some(1 << 20))
        .err()
        .unwrap();
    assert!(err.contains("below what must stay resident"), "{err}");
    // Auto picks the mapped file when everything fits.
    let s = load(&path, ExpertsMode::Auto, Some(1 << 30)).unwrap();
    assert!(s.expert_cache_stats().is_none());
}

#[test]
fn prefetching_next_layer_guesses_changes_nothing_but_the_counters() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let opts = |experts, ram_budget, expert_prefetch| LoadOptions {
        model: path.clone(),
        threads: Some(2),
        ctx_size: CTX,
        experts,
        ram_budget,
        expert_prefetch,
        ..LoadOptions::default()
    };
    let run = |o: &LoadOptions| {
        let mut s = Session::load(o).unwrap();
        let mut out = Vec::new();
        for &t in &PROMPT {
            out.extend(s.eval(&[t]).unwrap());
        }
        (out, s.expert_cache_stats())
    };
    let (reference, _) = run(&opts(ExpertsMode::Mmap, None, false));
    let budget = resident(&path) + (1 << 20);
    let (logits, stats) = run(&opts(ExpertsMode::Cache, Some(budget), true));
    assert_eq!(logits, reference);
    let st = stats.unwrap();
    // r1-tiny has 2 MoE layers: the first guesses for the second at every token.
    assert!(st.prefetches > 0, "{st:?}");
    assert!(
        st.prefetch_hits + st.prefetch_waste <= st.prefetches,
        "{st:?}"
    );
}

/// Bytes of one cache slot for this file (learned from a roomy cache).
fn slot_bytes(path: &Path) -> u64 {
    let roomy = load(path, ExpertsMode::Cache, Some(resident(path) + (64 << 20))).unwrap();
    roomy.expert_cache_stats().unwrap().slot_bytes as u64
}

/// Logits after each prompt token, fed one at a time.
fn stepwise(s: &mut Session) -> Vec<f32> {
    let mut out = Vec::new();
    for &t in &PROMPT {
        out.extend(s.eval(&[t]).unwrap());
    }
    out
}

#[test]
fn pinned_experts_change_no_logit_and_are_hits() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let mut rec = load(&path, ExpertsMode::Mmap, None).unwrap();
    rec.trace_routing(true);
    let reference = stepwise(&mut rec);
    let profile = rec.take_expert_profile("r1-tiny.gguf");
    // 12 tokens × 2 MoE layers, 4 experts each.
    assert_eq!(profile.trace.len(), 24);
    assert_eq!(profile.layers.iter().flat_map(|l| &l.uses).sum::<u64>(), 96);
    let file = dir.path().join("profile.json");
    profile.save(&file).unwrap();

    // 10 slots: half (5) pinned, the rest for what each layer asks.
    let budget = resident(&path) + 10 * slot_bytes(&path);
    let mut s = Session::load(&LoadOptions {
        model: path.clone(),
        threads: Some(2),
        ctx_size: CTX,
        experts: ExpertsMode::Cache,
        ram_budget: Some(budget),
        pin_experts: Some(file.clone()),
        ..LoadOptions::default()
    })
    .unwrap();
    let at_load = s.expert_cache_stats().unwrap();
    assert_eq!((at_load.capacity, at_load.pinned), (10, 5), "{at_load:?}");
    assert!(
        at_load.pinned_bytes > 0 && at_load.misses == 0,
        "{at_load:?}"
    );
    assert_eq!(stepwise(&mut s), reference);
    let st = s.expert_cache_stats().unwrap();
    // The 5 most used experts were asked for at least this often.
    let pinned_uses: u64 = {
        let mut u: Vec<u64> = profile.layers.iter().flat_map(|l| l.uses.clone()).collect();
        u.sort_unstable_by_key(|&n| std::cmp::Reverse(n));
        u[..5].iter().sum()
    };
    assert_eq!(st.pinned_hits, pinned_uses, "{st:?}");
    assert!(st.hits >= st.pinned_hits && st.evictions > 0, "{st:?}");
}

#[test]
fn a_missing_garbled_or_foreign_profile_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let budget = Some(resident(&path) + (64 << 20));
    let try_pin = |file: &Path, experts| {
        Session::load(&LoadOptions {
            model: path.clone(),
            threads: Some(2),
            ctx_size: CTX,
            experts,
            ram_budget: budget,
            pin_experts: Some(file.to_path_buf()),
            ..LoadOptions::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    let missing = dir.path().join("missing.json");
    let err = try_pin(&missing, ExpertsMode::Cache);
    assert!(err.contains("missing.json"), "{err}");
    let garbled = dir.path().join("garbled.json");
    std::fs::write(&garbled, "{\"format\": \"bitmoe-expert-profile-v1\", \"n_").unwrap();
    let err = try_pin(&garbled, ExpertsMode::Cache);
    assert!(
        err.contains("garbled.json") && err.contains("not valid JSON"),
        "{err}"
    );
    // r1-tiny's MoE layers are 1 and 2.
    let foreign = dir.path().join("foreign.json");
    ExpertProfile::from_trace("other.gguf", &[1, 2, 3], 16, 4, Vec::new())
        .save(&foreign)
        .unwrap();
    let err = try_pin(&foreign, ExpertsMode::Cache);
    assert!(
        err.contains("foreign.json") && err.contains("not on this model"),
        "{err}"
    );
    let fine = dir.path().join("fine.json");
    ExpertProfile::from_trace("r1-tiny.gguf", &[1, 2], 16, 4, Vec::new())
        .save(&fine)
        .unwrap();
    let err = try_pin(&fine, ExpertsMode::Mmap);
    assert!(err.contains("needs the expert cache"), "{err}");
    assert_eq!(try_pin(&fine, ExpertsMode::Cache), "");
}

#[test]
fn run_saves_a_profile_that_a_later_run_pins_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let file = dir.path().join("p.json");
    let budget = (resident(&path) + 10 * slot_bytes(&path)).to_string();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bitmoe"))
            .args([
                "run",
                "-m",
                path.to_str().unwrap(),
                "-p",
                "Once upon",
                "-n",
                "8",
            ])
            .args([
                "--temp",
                "0",
                "--json",
                "-c",
                "64",
                "-t",
                "2",
                "--experts",
                "cache",
            ])
            .args(["--ram-budget", &budget])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["tokens"].clone(), v["expert_cache"].clone())
    };
    let (tokens, _) = run(&["--save-expert-profile", file.to_str().unwrap()]);
    let profile = ExpertProfile::load(&file).unwrap();
    assert!(profile.trace.len() >= 2 * 8, "{}", profile.trace.len());
    let (pinned_tokens, stats) = run(&["--pin-experts", file.to_str().unwrap()]);
    assert_eq!(pinned_tokens, tokens);
    assert_eq!(stats["pinned"], 5, "{stats}");
    assert!(stats["pinned_hits"].as_u64().unwrap() > 0, "{stats}");
}

/// Rewrites `src` as `count` parts `<prefix>-0000N-of-0000M.gguf`, tensors dealt out
/// round-robin (so one layer's expert tensors land in different parts); returns the
/// first part.
fn write_split(src: &Path, prefix: &Path, count: u16) -> PathBuf {
    let file = GgufFile::open(src).unwrap();
    let n = file.tensors().len();
    for no in 0..count {
        let mut md = if no == 0 {
            file.metadata().clone()
        } else {
            Default::default()
        };
        md.set(keys::SPLIT_NO, MetaValue::U16(no));
        md.set(keys::SPLIT_COUNT, MetaValue::U16(count));
        md.set(keys::SPLIT_TENSORS_COUNT, MetaValue::I32(n as i32));
        let mine: Vec<_> = file
            .tensors()
            .iter()
            .enumerate()
            .filter(|(i, _)| i % count as usize == no as usize)
            .map(|(_, t)| t)
            .collect();
        let decls: Vec<TensorDecl> = mine.iter().map(|t| TensorDecl::from(*t)).collect();
        let out = part_path(prefix, u32::from(no) + 1, u32::from(count));
        let mut w = GgufWriter::create(&out, &md, &decls).unwrap();
        for t in mine {
            w.write_data(file.tensor_data(t).unwrap()).unwrap();
        }
        w.finish().unwrap();
    }
    part_path(prefix, 1, u32::from(count))
}

#[test]
fn a_split_model_reads_its_experts_from_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny(dir.path());
    let first = write_split(&path, &dir.path().join("r1-tiny"), 3);
    let mut single = load(&path, ExpertsMode::Mmap, None).unwrap();
    let reference = stepwise(&mut single);
    let slots = 6;
    let budget = resident(&first) + slots * slot_bytes(&first);
    let mut s = load(&first, ExpertsMode::Cache, Some(budget)).unwrap();
    assert_eq!(s.weights().file().parts().len(), 3);
    assert_eq!(stepwise(&mut s), reference);
    let st = s.expert_cache_stats().unwrap();
    assert_eq!(st.capacity, slots as usize);
    assert!(st.misses > 0 && st.evictions > 0, "{st:?}");
}
