//! Replays a recorded routing trace through expert caches of several capacities under
//! each eviction policy, and prints hit rates as a markdown table: how the cache's
//! policy was chosen, rerunnable on any profile.
//!
//! ```text
//! bitmoe run -m MODEL -p PROMPT -n 160 --save-expert-profile a.json
//! bitmoe run -m MODEL -p OTHER  -n 160 --save-expert-profile b.json
//! cargo run --release --example expert_replay -- b.json [--pin-from a.json] [--capacity 64,128,..]
//! ```
//!
//! Columns: LRU, LFU, LRFU at several half-lives (in decoded tokens), the cache's
//! policy with half the slots pinned from another run's profile (`--pin-from`; pinning from the replayed
//! trace itself would be foresight), and Belady's optimum (the bound for any policy).
//! Capacities default to 10..75% of all experts.

use std::path::PathBuf;
use std::process::ExitCode;

use bitmoe::weights::experts::policy::{simulate, simulate_opt, EvictionPolicy, SimResult};
use bitmoe::weights::experts::ExpertProfile;

struct Args {
    trace: PathBuf,
    pin_from: Option<PathBuf>,
    capacities: Option<Vec<usize>>,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut trace, mut pin_from, mut capacities) = (None, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--pin-from" => pin_from = Some(PathBuf::from(it.next().ok_or("--pin-from FILE")?)),
            "--capacity" => {
                let list = it.next().ok_or("--capacity N,N,..")?;
                capacities = Some(
                    list.split(',')
                        .map(|n| n.trim().parse().map_err(|_| format!("bad capacity {n:?}")))
                        .collect::<Result<Vec<usize>, String>>()?,
                );
            }
            _ if trace.is_none() && !a.starts_with('-') => trace = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    Ok(Args {
        trace: trace
            .ok_or("usage: expert_replay PROFILE [--pin-from PROFILE] [--capacity N,..]")?,
        pin_from,
        capacities,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse()?;
    let p = ExpertProfile::load(&args.trace).map_err(|e| e.to_string())?;
    let moe_layers = p.layers.len();
    let experts = moe_layers * p.n_expert;
    let pin_from = args
        .pin_from
        .as_ref()
        .map(|f| {
            let q = ExpertProfile::load(f).map_err(|e| e.to_string())?;
            let layers: Vec<usize> = p.layers.iter().map(|l| l.layer).collect();
            q.check_model(f, &layers, p.n_expert)
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(q)
        })
        .transpose()?;
    let uses: u64 = p.layers.iter().flat_map(|l| &l.uses).sum();
    let touched = p
        .layers
        .iter()
        .flat_map(|l| &l.uses)
        .filter(|&&u| u > 0)
        .count();
    println!(
        "{}: {} routing records over {} MoE layers × {} experts ({} used per token); {} uses, \
         {} distinct experts touched; top 10% of experts take {:.1}% of uses, top 25% take \
         {:.1}% (uniform: 10%, 25%)\n",
        args.trace.display(),
        p.trace.len(),
        moe_layers,
        p.n_expert,
        p.n_used,
        uses,
        touched,
        100.0 * p.top_share(0.10),
        100.0 * p.top_share(0.25),
    );
    let capacities = args.capacities.unwrap_or_else(|| {
        [0.10, 0.17, 0.25, 0.36, 0.50, 0.75]
            .iter()
            .map(|f| (experts as f64 * f).round() as usize)
            .collect()
    });
    let policies = [
        EvictionPolicy::Lru,
        EvictionPolicy::Lfu,
        EvictionPolicy::lrfu_tokens(1.0, moe_layers),
        EvictionPolicy::lrfu_tokens(4.0, moe_layers),
        EvictionPolicy::lrfu_tokens(16.0, moe_layers),
        EvictionPolicy::lrfu_tokens(64.0, moe_layers),
    ];
    let mut header: Vec<String> = vec!["capacity".into()];
    header.extend(policies.iter().map(|p| p.name(moe_layers)));
    if let (Some(_), Some(f)) = (&pin_from, &args.pin_from) {
        header.push(format!(
            "{} + ½ pinned from {}",
            EvictionPolicy::default_for(moe_layers).name(moe_layers),
            f.display()
        ));
    }
    header.push("optimum".into());
    println!("| {} |", header.join(" | "));
    println!("|{}", "---:|".repeat(header.len()));
    let pct = |r: SimResult| format!("{:.1}%", 100.0 * r.hit_rate());
    for &cap in &capacities {
        if cap < p.n_used {
            return Err(format!(
                "capacity {cap} is below one layer's {} experts",
                p.n_used
            ));
        }
        let mut row = vec![format!(
            "{cap} ({:.0}%)",
            100.0 * cap as f64 / experts as f64
        )];
        row.extend(
            policies
                .iter()
                .map(|&pol| pct(simulate(&p.trace, cap, pol, &[]))),
        );
        if let Some(q) = &pin_from {
            let pins = q.most_used((cap / 2).min(cap - p.n_used));
            let pol = EvictionPolicy::default_for(moe_layers);
            row.push(pct(simulate(&p.trace, cap, pol, &pins)));
        }
        row.push(pct(simulate_opt(&p.trace, cap)));
        println!("| {} |", row.join(" | "));
    }
    Ok(())
}
