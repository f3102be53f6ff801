//! The expert-paging cache on synthetic R1-shaped files: a budget smaller than the
//! experts gives exactly the tokens and logits of the all-in-RAM run, counts its hits,
//! misses and evictions, and a budget too small for one layer's experts is a clear error
//! at load.

use std::path::{Path, PathBuf};

use bitmoe::engine::{ExpertsMode, LoadOptions, Session};
use bitmoe::gguf::GgufFile;
use bitmoe::schema::Hparams;
use bitmoe::synth::{write_deepseek2, MoeSpec};
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
