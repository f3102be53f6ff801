//! Which cached expert to evict, and a replay of recorded routing that measures a policy
//! offline.
//!
//! Every expert the model has (cached or not) carries a [`Usage`]: the tick of its last
//! request, how often it was asked for, and LRFU's combined recency-frequency value.
//! A tick is one request, i.e. one MoE layer's routing of one batch, so during decoding
//! a token is `n_moe_layers` ticks. History survives eviction, so a frequently used
//! expert that was pushed out is recognized when it comes back.
//!
//! The policies, each a ranking of the evictable experts (lowest goes first):
//! - [`EvictionPolicy::Lru`]: the least recently requested.
//! - [`EvictionPolicy::Lfu`]: the least often requested over the whole run; ties by
//!   recency.
//! - [`EvictionPolicy::Lrfu`] (Lee et al., "LRFU: a spectrum of policies that subsumes
//!   the least recently used and least frequently used policies", 2001): every past
//!   request counts `2^(-age / half_life)`, so one value weighs recency against
//!   frequency; a short half-life tends to LRU, a long one to LFU.
//!
//! One rule is common to all: experts of the request being served (touched at the
//! current tick) go only when nothing else can, so a layer's own misses do not evict
//! its hits before they run.
//!
//! [`simulate`] replays a routing trace through a cache of a given capacity with the
//! same ranking the cache uses; [`simulate_opt`] gives Belady's optimum (evict the
//! expert needed farthest in the future), the bound no online policy beats.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// What the cache remembers about one expert.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Tick of the last request (0: never requested).
    pub last: u64,
    /// Requests ever.
    pub count: u64,
    /// LRFU's combined recency-frequency value as of tick `last`.
    crf: f64,
}

/// How the cache picks the expert to evict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum EvictionPolicy {
    Lru,
    Lfu,
    /// LRFU; `half_life` in ticks (requests).
    Lrfu {
        half_life: f64,
    },
}

/// The half-life of the cache's LRFU, in decoded tokens.
pub const DEFAULT_HALF_LIFE_TOKENS: f64 = 64.0;

impl EvictionPolicy {
    /// The cache's policy for a model with `moe_layers` MoE layers: LRFU with a
    /// half-life of [`DEFAULT_HALF_LIFE_TOKENS`]. On routing recorded from synthetic
    /// R1-shaped runs (`examples/expert_replay.rs`) it hit 6-10 points more often than
    /// LRU at caches of 10-36% of the experts, as often as LFU, and unlike LFU it
    /// forgets experts a text stopped using.
    pub fn default_for(moe_layers: usize) -> EvictionPolicy {
        EvictionPolicy::lrfu_tokens(DEFAULT_HALF_LIFE_TOKENS, moe_layers)
    }

    /// LRFU with a half-life of `tokens` decoded tokens of a model with `moe_layers`
    /// MoE layers.
    pub fn lrfu_tokens(tokens: f64, moe_layers: usize) -> EvictionPolicy {
        EvictionPolicy::Lrfu {
            half_life: (tokens * moe_layers.max(1) as f64).max(1e-3),
        }
    }

    /// A short name for tables.
    pub fn name(&self, moe_layers: usize) -> String {
        match self {
            EvictionPolicy::Lru => "LRU".into(),
            EvictionPolicy::Lfu => "LFU".into(),
            EvictionPolicy::Lrfu { half_life } => {
                format!("LRFU h={}tok", half_life / moe_layers.max(1) as f64)
            }
        }
    }

    /// Records a request of the expert at `tick` (ticks never decrease).
    pub fn touch(&self, u: &mut Usage, tick: u64) {
        let decay = match self {
            EvictionPolicy::Lrfu { half_life } => {
                (-((tick.saturating_sub(u.last)) as f64) / half_life).exp2()
            }
            _ => 1.0,
        };
        u.crf = 1.0 + u.crf * decay;
        u.count += 1;
        u.last = tick;
    }

    /// The ranking key: lower is evicted first. Valid for comparing experts at one
    /// moment (every key ages alike).
    fn key(&self, u: &Usage) -> (f64, u64) {
        match self {
            EvictionPolicy::Lru => (u.last as f64, u.last),
            EvictionPolicy::Lfu => (u.count as f64, u.last),
            // crf now = crf_last · 2^-(now - last)/h; its log2 plus now/h:
            EvictionPolicy::Lrfu { half_life } => (
                u.crf.max(f64::MIN_POSITIVE).log2() + u.last as f64 / half_life,
                u.last,
            ),
        }
    }

    /// The expert to evict among `candidates` (each with its usage), or `None` when
    /// there are none. Those touched at `current` (the request being served) go last.
    pub fn victim<K>(
        &self,
        candidates: impl IntoIterator<Item = (K, Usage)>,
        current: u64,
    ) -> Option<K> {
        let mut best: Option<((bool, f64, u64), K)> = None;
        for (k, u) in candidates {
            let (a, b) = self.key(&u);
            let key = (u.last >= current, a, b);
            if best
                .as_ref()
                .is_none_or(|(bk, _)| key.partial_cmp(bk) == Some(std::cmp::Ordering::Less))
            {
                best = Some((key, k));
            }
        }
        best.map(|(_, k)| k)
    }
}

/// Usage of every expert of every layer.
#[derive(Debug, Clone, Default)]
pub struct UsageTable {
    layers: Vec<Vec<Usage>>, // [layer][expert]; empty for dense layers
}

impl UsageTable {
    /// `n_expert[layer]`: experts of each layer (0 for dense ones).
    pub fn new(n_expert: impl IntoIterator<Item = usize>) -> UsageTable {
        UsageTable {
            layers: n_expert
                .into_iter()
                .map(|n| vec![Usage::default(); n])
                .collect(),
        }
    }

    /// The usage of (layer, expert); default for one out of range.
    pub fn get(&self, layer: usize, expert: usize) -> Usage {
        self.layers
            .get(layer)
            .and_then(|l| l.get(expert))
            .copied()
            .unwrap_or_default()
    }

    pub fn touch(&mut self, policy: &EvictionPolicy, layer: usize, expert: usize, tick: u64) {
        if let Some(u) = self.layers.get_mut(layer).and_then(|l| l.get_mut(expert)) {
            policy.touch(u, tick);
        }
    }
}

/// One MoE layer's expert choice for one token, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub layer: usize,
    pub pos: usize,
    pub experts: Vec<usize>,
}

/// What a replay counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimResult {
    pub hits: u64,
    pub misses: u64,
}

impl SimResult {
    pub fn hit_rate(&self) -> f64 {
        self.hits as f64 / (self.hits + self.misses).max(1) as f64
    }
}

/// Replays `trace` (one request per record, in order) through a cache of `capacity`
/// experts that starts with `pinned` loaded (never evicted, not counted as misses) and
/// otherwise empty, evicting by `policy` exactly as the cache does.
pub fn simulate(
    trace: &[Request],
    capacity: usize,
    policy: EvictionPolicy,
    pinned: &[(usize, usize)],
) -> SimResult {
    let pinned: HashSet<(usize, usize)> = pinned.iter().copied().collect();
    let mut usage: HashMap<(usize, usize), Usage> = HashMap::new();
    let mut resident: HashSet<(usize, usize)> = HashSet::new();
    let mut r = SimResult::default();
    for (tick, req) in (1u64..).zip(trace) {
        for &e in &req.experts {
            policy.touch(usage.entry((req.layer, e)).or_default(), tick);
        }
        for &e in &req.experts {
            let k = (req.layer, e);
            if pinned.contains(&k) || resident.contains(&k) {
                r.hits += 1;
                continue;
            }
            r.misses += 1;
            if resident.len() + pinned.len() >= capacity {
                let v = policy.victim(resident.iter().map(|k| (*k, usage[k])), tick);
                match v {
                    Some(v) => {
                        resident.remove(&v);
                    }
                    None => continue, // no room at all: read, used, dropped
                }
            }
            resident.insert(k);
        }
    }
    r
}

/// Belady's optimum on `trace`: on a miss with the cache full, evict the resident
/// expert (not of the current request) whose next request is farthest away.
pub fn simulate_opt(trace: &[Request], capacity: usize) -> SimResult {
    // Per expert, the steps that request it, consumed front to back.
    let mut uses: HashMap<(usize, usize), std::collections::VecDeque<usize>> = HashMap::new();
    for (i, req) in trace.iter().enumerate() {
        for &e in &req.experts {
            uses.entry((req.layer, e)).or_default().push_back(i);
        }
    }
    let mut resident: HashSet<(usize, usize)> = HashSet::new();
    let mut r = SimResult::default();
    for (i, req) in trace.iter().enumerate() {
        for &e in &req.experts {
            if let Some(q) = uses.get_mut(&(req.layer, e)) {
                while q.front().is_some_and(|&s| s <= i) {
                    q.pop_front();
                }
            }
        }
        let current: Vec<(usize, usize)> = req.experts.iter().map(|&e| (req.layer, e)).collect();
        for &k in &current {
            if resident.contains(&k) {
                r.hits += 1;
                continue;
            }
            r.misses += 1;
            if resident.len() >= capacity {
                let v = resident
                    .iter()
                    .filter(|k| !current.contains(k))
                    .max_by_key(|k| {
                        uses.get(k)
                            .and_then(|q| q.front())
                            .copied()
                            .unwrap_or(usize::MAX)
                    })
                    .copied();
                match v {
                    Some(v) => {
                        resident.remove(&v);
                    }
                    None => continue,
                }
            }
            resident.insert(k);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(layer: usize, experts: &[usize]) -> Request {
        Request {
            layer,
            pos: 0,
            experts: experts.to_vec(),
        }
    }

    #[test]
    fn lru_and_lfu_evict_what_they_say() {
        // Capacity 2: A A B C → LRU evicts A (older), LFU evicts B (fewer uses).
        let t = [
            req(0, &[0]),
            req(0, &[0]),
            req(0, &[1]),
            req(0, &[2]),
            req(0, &[0]),
        ];
        assert_eq!(
            simulate(&t, 2, EvictionPolicy::Lru, &[]),
            SimResult { hits: 1, misses: 4 }
        );
        assert_eq!(
            simulate(&t, 2, EvictionPolicy::Lfu, &[]),
            SimResult { hits: 2, misses: 3 }
        );
    }

    #[test]
    fn lrfu_spans_lru_to_lfu() {
        let t = [
            req(0, &[0]),
            req(0, &[0]),
            req(0, &[1]),
            req(0, &[2]),
            req(0, &[0]),
        ];
        let short = EvictionPolicy::Lrfu { half_life: 0.01 };
        let long = EvictionPolicy::Lrfu { half_life: 1e6 };
        assert_eq!(
            simulate(&t, 2, short, &[]),
            simulate(&t, 2, EvictionPolicy::Lru, &[])
        );
        assert_eq!(
            simulate(&t, 2, long, &[]),
            simulate(&t, 2, EvictionPolicy::Lfu, &[])
        );
    }

    #[test]
    fn the_current_request_is_never_its_own_victim() {
        // Capacity 2, a request of two: the second miss must not evict the first.
        let t = [req(0, &[5, 6]), req(0, &[5, 6])];
        for p in [EvictionPolicy::Lru, EvictionPolicy::Lfu] {
            assert_eq!(simulate(&t, 2, p, &[]), SimResult { hits: 2, misses: 2 });
        }
    }

    #[test]
    fn pinned_experts_are_hits_and_optimum_bounds_every_policy() {
        let t: Vec<Request> = (0..200)
            .map(|i| req(i % 2, &[(i * 7) % 11, (i * 3) % 5 + 11]))
            .collect();
        let pinned = simulate(&t, 6, EvictionPolicy::Lru, &[(0, 11), (1, 11)]);
        assert_eq!(pinned.hits + pinned.misses, 400);
        let opt = simulate_opt(&t, 6);
        for p in [
            EvictionPolicy::Lru,
            EvictionPolicy::Lfu,
            EvictionPolicy::lrfu_tokens(4.0, 2),
        ] {
            assert!(opt.hits >= simulate(&t, 6, p, &[]).hits, "{p:?}");
        }
    }
}
