//! The expert-paging cache: routed experts live in a fixed number of page-aligned
//! slabs (the RAM budget left after resident weights, KV cache and scratch), filled by
//! direct reads from the model files on reader threads.
//!
//! - Unit: one expert of one layer — its gate, up and down slices, each read as the
//!   4 KiB-aligned span around it into its own aligned region of the slab.
//! - Reads are split into requests of at most [`READ_CHUNK`] bytes, so several
//!   readers fill one expert at once and experts complete in the order issued.
//! - [`ExpertSource::request`] (the router's choice for a layer) issues every miss at
//!   once, as long as slots can be freed without waiting; [`ExpertSource::with_expert`]
//!   computes on a cached expert at once and waits only for one still being read. A
//!   request already in flight is joined, never issued twice. Demand reads go before
//!   prefetches (two channels, `select!` with priority).
//! - Eviction: by [`EvictionPolicy::default_for`] among experts not in use and not pinned,
//!   ranked on the usage history of every expert ([`UsageTable`]). Slabs are allocated
//!   on first need and recycled, never more than the capacity fixed at load.
//! - Pinning ([`ExpertSource::pin`]): experts read up front and never evicted (from a
//!   saved usage profile); they count as hits when asked for.
//! - Stats: hits, misses, prefetches, pins, bytes, reader time, the wall time during
//!   which at least one read was in flight (bytes over it: the read rate while
//!   missing), and the time the forward pass stalled.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{select_biased, unbounded, Receiver, Sender};

use super::io::{aligned_span, AlignedBuf, ExpertFile, ALIGN};
use super::policy::{EvictionPolicy, Usage, UsageTable};
use super::stats::{Busy, CacheStats, Counters};
use super::{moe_layer, ExpertError, ExpertMats, ExpertSource, ExpertTensors};
use crate::model::ops::QMatrix;
use crate::weights::{WeightRef, Weights};

/// One of an expert's three matrices inside its slab.
#[derive(Debug, Clone, Copy)]
struct Piece {
    part: usize,
    /// Aligned file offset of the span read.
    file_start: u64,
    span: usize,
    /// Where the span goes in the slab, and where the matrix starts inside the span.
    slab_offset: usize,
    inner: usize,
    len: usize,
}

/// Where each layer's experts are and what they are.
#[derive(Debug)]
struct LayerLayout {
    tensors: ExpertTensors,
    /// (first expert's absolute file offset, bytes per expert) of gate, up, down.
    bases: [(usize, u64, usize); 3],
    /// Slab offsets of the three spans (each span at most `max_span`).
    max_spans: [usize; 3],
}

impl LayerLayout {
    fn new(tensors: ExpertTensors) -> LayerLayout {
        let base = |t: &WeightRef| {
            let (part, range) = t.location();
            (part, range.start as u64, range.len() / tensors.n_expert)
        };
        let bases = [base(&tensors.gate), base(&tensors.up), base(&tensors.down)];
        // Worst-case aligned span of `per` bytes at any 32-byte-aligned offset.
        let max_spans =
            bases.map(|(_, _, per)| (per.div_ceil(ALIGN as usize) + 1) * ALIGN as usize);
        LayerLayout {
            tensors,
            bases,
            max_spans,
        }
    }

    fn slab_bytes(&self) -> usize {
        self.max_spans.iter().sum()
    }

    fn pieces(&self, e: usize) -> [Piece; 3] {
        let mut slab_offset = 0;
        std::array::from_fn(|i| {
            let (part, first, per) = self.bases[i];
            let offset = first + (e * per) as u64;
            let (start, end, inner) = aligned_span(offset, per as u64);
            let p = Piece {
                part,
                file_start: start,
                span: (end - start) as usize,
                slab_offset,
                inner,
                len: per,
            };
            slab_offset += self.max_spans[i];
            p
        })
    }
}

/// Why a read is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadKind {
    /// A layer asked for the expert.
    Demand,
    /// A guess at the next layer's choice.
    Prefetch,
    /// Pinned at load.
    Pin,
}

enum Entry {
    Loading {
        prefetched: bool,
        slab: Arc<Slab>,
        /// Read jobs not yet finished, and the first failure among them.
        remaining: usize,
        error: Option<String>,
    },
    Ready {
        slab: Arc<Slab>,
        /// Read ahead and not yet asked for.
        prefetched: bool,
    },
    Failed(String),
}

struct State {
    map: HashMap<(usize, usize), Entry>,
    /// Never evicted.
    pinned: HashSet<(usize, usize)>,
    /// Request history of every expert, cached or not.
    usage: UsageTable,
    free: Vec<AlignedBuf>,
    allocated: usize,
    /// Requests so far (one per layer per batch).
    tick: u64,
    /// Prefetches may not evict experts used at or after this tick (the current
    /// layer's).
    protect_from: u64,
}

struct Shared {
    layers: Vec<Option<LayerLayout>>,
    files: Vec<ExpertFile>,
    state: Mutex<State>,
    ready: Condvar,
    counters: Counters,
    busy: Mutex<Busy>,
    policy: EvictionPolicy,
    capacity: usize,
    /// Experts one layer uses at once: the room pins must leave.
    min_experts: usize,
    slot_bytes: usize,
}

/// Bytes one read job reads at most: an expert's pieces are split into requests of
/// this size, so several readers fill one expert at once and, taking jobs in the order
/// they were issued, finish experts in the order the layer computes them.
const READ_CHUNK: usize = 1 << 20;

/// One read: `len` bytes at `file_start` of part `part` into `slab` at `slab_offset`.
struct Job {
    layer: usize,
    expert: usize,
    kind: ReadKind,
    slab: Arc<Slab>,
    part: usize,
    file_start: u64,
    slab_offset: usize,
    len: usize,
}

/// A slab being filled by several reader threads at once. Each read job writes its own
/// byte range, disjoint from every other job's; nothing reads the slab before the last
/// job of its expert has finished (the entry turns `Ready` under the state lock, which
/// orders every write before every later read), and a slab is refilled only after it
/// was recycled, which takes the last reference to it.
struct Slab {
    buf: AlignedBuf,
    /// `buf`'s memory, taken once, so writers never form overlapping `&mut` borrows of
    /// the whole buffer.
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `ptr` points into `buf`'s anonymous mapping, which the slab owns and which
// neither moves nor is unmapped while the slab lives. Shared access goes through
// `range_mut` (disjoint ranges, by its contract) and `bytes` (only after every write),
// so sending or sharing the slab between threads creates no data race.
unsafe impl Send for Slab {}
// SAFETY: as for Send.
unsafe impl Sync for Slab {}

impl Slab {
    fn new(mut buf: AlignedBuf) -> Slab {
        let ptr = buf.as_mut_slice().as_mut_ptr();
        let len = buf.len();
        Slab { buf, ptr, len }
    }

    /// The bytes `start..start + len`, to write.
    ///
    /// # Safety
    /// No other thread reads or writes any of these bytes while the borrow lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn range_mut(&self, start: usize, len: usize) -> &mut [u8] {
        assert!(
            start <= self.len && len <= self.len - start,
            "range inside the slab"
        );
        // SAFETY: in bounds (asserted) of the live mapping; exclusive by the contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }

    /// The whole slab, to read.
    ///
    /// # Safety
    /// Every write to the slab has finished, and none starts while the borrow lives.
    unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: the live mapping of `len` bytes; no writer by the contract.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn into_buf(self) -> AlignedBuf {
        self.buf
    }
}

/// Why the cache cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot open {path} for expert reads: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the RAM budget leaves room for {capacity} experts of {slot_mib:.1} MiB, but one layer \
         needs {needed} at once (raise --ram-budget by at least {short_mib:.0} MiB, or use \
         --experts mmap)"
    )]
    BudgetTooSmall {
        capacity: usize,
        needed: usize,
        slot_mib: f64,
        short_mib: f64,
    },
}

pub struct ExpertCache {
    prefetch_on: bool,
    /// Bytes per read request ([`READ_CHUNK`]).
    read_chunk: usize,
    shared: Arc<Shared>,
    demand: Option<Sender<Job>>,
    prefetch: Option<Sender<Job>>,
    readers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ExpertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpertCache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl ExpertCache {
    /// A cache over `layers` (per layer, `None` for dense ones) of the files `paths`
    /// (split parts in order), holding at most `budget` bytes of slabs, with `readers`
    /// I/O threads. `min_experts`: experts one layer uses at once (the smallest
    /// workable capacity). `prefetch`: accept next-layer guesses.
    pub fn new(
        paths: &[&Path],
        layers: Vec<Option<ExpertTensors>>,
        budget: u64,
        min_experts: usize,
        readers: usize,
        prefetch: bool,
    ) -> Result<ExpertCache, CacheError> {
        let layers: Vec<Option<LayerLayout>> = layers
            .into_iter()
            .map(|l| l.map(LayerLayout::new))
            .collect();
        // One slot holds the largest expert of any layer (aligned spans).
        let slot_bytes = layers
            .iter()
            .flatten()
            .map(LayerLayout::slab_bytes)
            .max()
            .unwrap_or(0)
            .max(1);
        let capacity = (budget / slot_bytes as u64) as usize;
        if capacity < min_experts {
            let mib = |b: f64| b / (1 << 20) as f64;
            return Err(CacheError::BudgetTooSmall {
                capacity,
                needed: min_experts,
                slot_mib: mib(slot_bytes as f64),
                short_mib: mib((min_experts * slot_bytes) as f64 - budget as f64).max(1.0),
            });
        }
        let files = paths
            .iter()
            .map(|p| {
                ExpertFile::open(p).map_err(|source| CacheError::Open {
                    path: p.display().to_string(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let usage = UsageTable::new(
            layers
                .iter()
                .map(|l| l.as_ref().map_or(0, |l| l.tensors.n_expert)),
        );
        let policy = EvictionPolicy::default_for(layers.iter().flatten().count());
        let shared = Arc::new(Shared {
            layers,
            files,
            state: Mutex::new(State {
                map: HashMap::new(),
                pinned: HashSet::new(),
                usage,
                free: Vec::new(),
                allocated: 0,
                tick: 0,
                protect_from: 0,
            }),
            ready: Condvar::new(),
            counters: Counters::default(),
            busy: Mutex::new(Busy::default()),
            policy,
            capacity,
            min_experts,
            slot_bytes,
        });
        let (demand_tx, demand_rx) = unbounded::<Job>();
        let (prefetch_tx, prefetch_rx) = unbounded::<Job>();
        let readers = (0..readers.max(1))
            .map(|i| {
                let (shared, demand, prefetch) =
                    (shared.clone(), demand_rx.clone(), prefetch_rx.clone());
                std::thread::Builder::new()
                    .name(format!("bitmoe-io-{i}"))
                    .spawn(move || reader(&shared, &demand, &prefetch))
                    .expect("spawning an I/O thread")
            })
            .collect();
        Ok(ExpertCache {
            prefetch_on: prefetch,
            read_chunk: READ_CHUNK,
            shared,
            demand: Some(demand_tx),
            prefetch: Some(prefetch_tx),
            readers,
        })
    }

    /// Splits reads into requests of `bytes` (rounded up to the direct-I/O alignment)
    /// instead of [`READ_CHUNK`].
    pub fn with_read_chunk(mut self, bytes: usize) -> ExpertCache {
        self.read_chunk = bytes.max(1).next_multiple_of(ALIGN as usize);
        self
    }

    pub fn stats(&self) -> CacheStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&c.hits),
            misses: get(&c.misses),
            prefetches: get(&c.prefetches),
            prefetch_hits: get(&c.prefetch_hits),
            prefetch_waste: get(&c.prefetch_waste),
            pinned: get(&c.pinned),
            pinned_hits: get(&c.pinned_hits),
            pinned_bytes: get(&c.pinned_bytes),
            evictions: get(&c.evictions),
            bytes_read: get(&c.bytes_read),
            read_s: get(&c.read_ns) as f64 * 1e-9,
            busy_s: Busy::seconds(&self.shared.busy),
            stall_s: get(&c.stall_ns) as f64 * 1e-9,
            capacity: self.shared.capacity,
            slot_bytes: self.shared.slot_bytes,
            direct: self.shared.files.iter().all(|f| f.direct),
        }
    }

    /// Issues a read of (layer, expert) unless it is cached or in flight, if a slab can
    /// be had — at once, or (`wait`) after other reads complete or experts are released.
    /// Returns the guard and whether the expert is now cached or on its way.
    fn issue<'s>(
        &'s self,
        mut st: MutexGuard<'s, State>,
        layer: usize,
        expert: usize,
        kind: ReadKind,
        wait: bool,
    ) -> (MutexGuard<'s, State>, bool) {
        if st.map.contains_key(&(layer, expert)) {
            return (st, true);
        }
        let prefetch = kind == ReadKind::Prefetch;
        let layout = self.shared.layers[layer]
            .as_ref()
            .expect("reads are issued for MoE layers only");
        let buf = loop {
            if let Some(b) = take_slab(&self.shared, &mut st, prefetch) {
                break b;
            }
            if !wait {
                return (st, false);
            }
            st = self
                .shared
                .ready
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
            if st.map.contains_key(&(layer, expert)) {
                return (st, true);
            }
        };
        let slab = Arc::new(Slab::new(buf));
        let mut jobs = Vec::new();
        for p in layout.pieces(expert) {
            for at in (0..p.span).step_by(self.read_chunk) {
                jobs.push(Job {
                    layer,
                    expert,
                    kind,
                    slab: slab.clone(),
                    part: p.part,
                    file_start: p.file_start + at as u64,
                    slab_offset: p.slab_offset + at,
                    len: self.read_chunk.min(p.span - at),
                });
            }
        }
        st.map.insert(
            (layer, expert),
            Entry::Loading {
                prefetched: prefetch,
                slab,
                remaining: jobs.len(),
                error: None,
            },
        );
        let c = &self.shared.counters;
        let (counter, tx) = match kind {
            ReadKind::Demand => (Some(&c.misses), &self.demand),
            ReadKind::Prefetch => (Some(&c.prefetches), &self.prefetch),
            ReadKind::Pin => (None, &self.demand),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let tx = tx.as_ref().expect("senders live as long as the cache");
        for job in jobs {
            let sent = tx.send(job);
            debug_assert!(sent.is_ok(), "reader threads outlive the cache's senders");
        }
        (st, true)
    }
}

/// A free slab: from the free list, newly allocated under the capacity, or the slab of
/// the expert the policy ranks lowest among those nobody is using and nobody pinned
/// (for a prefetch: not one of the current layer's).
fn take_slab(shared: &Shared, st: &mut State, prefetch: bool) -> Option<AlignedBuf> {
    let protect = if prefetch { st.protect_from } else { u64::MAX };
    if let Some(b) = st.free.pop() {
        return Some(b);
    }
    if st.allocated < shared.capacity {
        if let Ok(b) = AlignedBuf::new(shared.slot_bytes) {
            st.allocated += 1;
            return Some(b);
        }
    }
    let candidates = st.map.iter().filter_map(|(k, e)| match e {
        Entry::Ready { slab, prefetched } if Arc::strong_count(slab) == 1 => {
            let u = st.usage.get(k.0, k.1);
            if u.last >= protect || st.pinned.contains(k) {
                return None;
            }
            // Read ahead and never asked for since: ranks as never used.
            Some((*k, if *prefetched { Usage::default() } else { u }))
        }
        _ => None,
    });
    let victim = shared.policy.victim(candidates, st.tick)?;
    match st.map.remove(&victim) {
        Some(Entry::Ready {
            slab, prefetched, ..
        }) => {
            shared.counters.evictions.fetch_add(1, Ordering::Relaxed);
            if prefetched {
                shared
                    .counters
                    .prefetch_waste
                    .fetch_add(1, Ordering::Relaxed);
            }
            Arc::try_unwrap(slab).ok().map(Slab::into_buf)
        }
        _ => None,
    }
}

fn reader(shared: &Shared, demand: &Receiver<Job>, prefetch: &Receiver<Job>) {
    loop {
        let job = select_biased! {
            recv(demand) -> j => j,
            recv(prefetch) -> j => j,
        };
        let Ok(job) = job else { return };
        Busy::start(&shared.busy);
        let t = Instant::now();
        let result = {
            // SAFETY: jobs of one slab cover disjoint ranges (chunks of the expert's
            // non-overlapping pieces), and the slab is read only once its entry is
            // `Ready`, after this job has finished (see `Slab`).
            let dst = unsafe { job.slab.range_mut(job.slab_offset, job.len) };
            shared.files[job.part]
                .read_at(dst, job.file_start)
                .map_err(|e| {
                    format!(
                        "reading expert {} of layer {} ({} bytes at {}): {e}",
                        job.expert, job.layer, job.len, job.file_start
                    )
                })
        };
        let c = &shared.counters;
        if result.is_ok() {
            c.bytes_read.fetch_add(job.len as u64, Ordering::Relaxed);
            if job.kind == ReadKind::Pin {
                c.pinned_bytes.fetch_add(job.len as u64, Ordering::Relaxed);
            }
        }
        c.read_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Busy::end(&shared.busy);
        let key = (job.layer, job.expert);
        // Our reference goes before the count does, so the last job leaves the entry
        // holding the only one.
        drop(job);
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        match st.map.get_mut(&key) {
            Some(Entry::Loading {
                remaining, error, ..
            }) => {
                *remaining -= 1;
                if let Err(msg) = result {
                    error.get_or_insert(msg);
                }
                if *remaining > 0 {
                    continue;
                }
            }
            _ => continue,
        }
        let Some(Entry::Loading {
            prefetched,
            slab,
            error,
            ..
        }) = st.map.remove(&key)
        else {
            continue;
        };
        let entry = match error {
            None => Entry::Ready { slab, prefetched },
            Some(msg) => {
                match Arc::try_unwrap(slab) {
                    Ok(slab) => st.free.push(slab.into_buf()),
                    // Not expected; the slab is freed with its last reference.
                    Err(_) => st.allocated -= 1,
                }
                Entry::Failed(msg)
            }
        };
        st.map.insert(key, entry);
        drop(st);
        shared.ready.notify_all();
    }
}

impl Drop for ExpertCache {
    fn drop(&mut self) {
        // Closing the channels ends the reader loops.
        self.demand.take();
        self.prefetch.take();
        for h in self.readers.drain(..) {
            let _ = h.join();
        }
    }
}

impl ExpertSource for ExpertCache {
    fn cache_stats(&self) -> Option<CacheStats> {
        Some(self.stats())
    }

    fn pin(&self, experts: &[(usize, usize)]) -> Result<usize, ExpertError> {
        let layers = &self.shared.layers;
        for &(layer, expert) in experts {
            moe_layer(layers, |l| l.tensors.n_expert, layer, expert)?;
        }
        // Pins leave room for one layer's experts.
        let room = self.shared.capacity - self.shared.min_experts;
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut wanted = Vec::new();
        for &k in experts {
            if st.pinned.len() >= room {
                break;
            }
            if st.pinned.insert(k) {
                wanted.push(k);
                st = self.issue(st, k.0, k.1, ReadKind::Pin, true).0;
            }
        }
        // Wait for every read; a failed one is unpinned and reported.
        loop {
            let mut pending = false;
            for k in &wanted {
                match st.map.get(k) {
                    Some(Entry::Ready { .. }) => {}
                    Some(Entry::Failed(msg)) => {
                        let msg = msg.clone();
                        st.map.remove(k);
                        st.pinned.remove(k);
                        return Err(ExpertError::Read(msg));
                    }
                    Some(Entry::Loading { .. }) | None => pending = true,
                }
            }
            if !pending {
                break;
            }
            st = self
                .shared
                .ready
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        }
        let n = st.pinned.len();
        self.shared
            .counters
            .pinned
            .store(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn drop_cached(&self) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let drop: Vec<(usize, usize)> = st
            .map
            .iter()
            .filter(|(k, e)| match e {
                Entry::Ready { slab, .. } => Arc::strong_count(slab) == 1 && !st.pinned.contains(k),
                Entry::Failed(_) => true,
                Entry::Loading { .. } => false,
            })
            .map(|(k, _)| *k)
            .collect();
        for k in drop {
            if let Some(Entry::Ready { slab, .. }) = st.map.remove(&k) {
                if let Ok(slab) = Arc::try_unwrap(slab) {
                    st.free.push(slab.into_buf());
                }
            }
        }
    }

    fn request(&self, layer: usize, experts: &[usize]) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.tick += 1;
        let tick = st.tick;
        st.protect_from = tick;
        // Every expert of this request counts as just used, so issuing the misses does
        // not evict the hits; prefetched ones (read or in flight) were good guesses.
        let c = &self.shared.counters;
        let policy = self.shared.policy;
        for &e in experts {
            st.usage.touch(&policy, layer, e, tick);
            let pinned = st.pinned.contains(&(layer, e));
            match st.map.get_mut(&(layer, e)) {
                Some(Entry::Ready { prefetched, .. }) => {
                    c.hits.fetch_add(1, Ordering::Relaxed);
                    if pinned {
                        c.pinned_hits.fetch_add(1, Ordering::Relaxed);
                    }
                    if std::mem::take(prefetched) {
                        c.prefetch_hits.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(Entry::Loading { prefetched, .. }) if *prefetched => {
                    *prefetched = false;
                    c.prefetch_hits.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        for &e in experts {
            let (g, issued) = self.issue(st, layer, e, ReadKind::Demand, false);
            st = g;
            if !issued {
                break;
            }
        }
    }

    fn prefetches(&self) -> bool {
        self.prefetch_on
    }

    fn prefetch(&self, layer: usize, experts: &[usize]) {
        if self.shared.layers.get(layer).is_none_or(Option::is_none) {
            return;
        }
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        for &e in experts {
            let (g, issued) = self.issue(st, layer, e, ReadKind::Prefetch, false);
            st = g;
            if !issued {
                break;
            }
        }
    }

    fn compute_order(&self, layer: usize, experts: &[usize]) -> Vec<usize> {
        let st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let ready = |e: usize| matches!(st.map.get(&(layer, e)), Some(Entry::Ready { .. }));
        // Ready ones first; the rest in request order, which is the order their reads
        // were issued (and so tend to finish).
        let (mut first, rest): (Vec<usize>, Vec<usize>) =
            (0..experts.len()).partition(|&i| ready(experts[i]));
        first.extend(rest);
        first
    }

    fn with_expert(
        &self,
        _weights: &Weights,
        layer: usize,
        expert: usize,
        f: &mut dyn FnMut(ExpertMats<'_>),
    ) -> Result<(), ExpertError> {
        let layout = moe_layer(&self.shared.layers, |l| l.tensors.n_expert, layer, expert)?;
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut waited = None;
        let slab = loop {
            match st.map.get(&(layer, expert)) {
                Some(Entry::Ready { slab, .. }) => break slab.clone(),
                Some(Entry::Failed(msg)) => {
                    let msg = msg.clone();
                    st.map.remove(&(layer, expert));
                    return Err(ExpertError::Read(msg));
                }
                Some(Entry::Loading { .. }) => {}
                None => {
                    st = self.issue(st, layer, expert, ReadKind::Demand, true).0;
                    continue;
                }
            }
            waited.get_or_insert_with(Instant::now);
            st = self
                .shared
                .ready
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        };
        drop(st);
        if let Some(t) = waited {
            self.shared
                .counters
                .stall_ns
                .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        let pieces = layout.pieces(expert);
        let t = &layout.tensors;
        // SAFETY: `slab` came from a `Ready` entry, so every read job into it has
        // finished; it is written again only after recycling, which needs the
        // reference held here to be gone.
        let bytes = unsafe { slab.bytes() };
        let mat = |p: &Piece, w: &WeightRef| {
            let start = p.slab_offset + p.inner;
            QMatrix::new(w.ty, w.dims[0], w.dims[1], &bytes[start..start + p.len])
                .expect("shapes checked at bind")
        };
        f(ExpertMats {
            gate: mat(&pieces[0], &t.gate),
            up: mat(&pieces[1], &t.up),
            down: mat(&pieces[2], &t.down),
        });
        drop(slab);
        // A slab may have become evictable for a waiting issuer.
        self.shared.ready.notify_all();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::GgufFile;
    use crate::synth::{write_deepseek2, MoeSpec};

    /// Every expert of r1-tiny read through a cache of `slots` slots in requests of
    /// `chunk` bytes holds exactly the file's bytes.
    fn check(slots: u64, chunk: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        let spec = MoeSpec::r1_tiny();
        write_deepseek2(&path, &spec).unwrap();
        let w = Weights::new(GgufFile::open(&path).unwrap());
        let layers: Vec<Option<ExpertTensors>> = (0..spec.n_layer)
            .map(|l| {
                (l >= spec.n_dense_lead).then(|| {
                    ExpertTensors::bind(&w, l, spec.n_embd, spec.n_ff_exp, spec.n_expert).unwrap()
                })
            })
            .collect();
        let probe = ExpertCache::new(&[&path], layers.clone(), 1 << 30, 4, 1, false).unwrap();
        let budget = slots * probe.stats().slot_bytes as u64;
        let cache = ExpertCache::new(&[&path], layers.clone(), budget, 4, 3, false)
            .unwrap()
            .with_read_chunk(chunk);
        for (l, t) in layers.iter().enumerate() {
            let Some(t) = t else { continue };
            for e in 0..t.n_expert {
                cache.request(l, &[e]);
                cache.with_expert(&w, l, e, &mut |_| {}).unwrap();
                let st = cache.shared.state.lock().unwrap();
                let Some(Entry::Ready { slab, .. }) = st.map.get(&(l, e)) else {
                    panic!("expert {e} of layer {l} is not ready after use");
                };
                // SAFETY: a `Ready` entry's reads have all finished; the state lock
                // held here keeps it from being recycled.
                let bytes = unsafe { slab.bytes() };
                let layout = cache.shared.layers[l].as_ref().unwrap();
                for (p, tensor) in layout.pieces(e).iter().zip([&t.gate, &t.up, &t.down]) {
                    let file = w.bytes(tensor);
                    let per = file.len() / t.n_expert;
                    let got = &bytes[p.slab_offset + p.inner..][..p.len];
                    assert_eq!(got, &file[e * per..(e + 1) * per], "layer {l} expert {e}");
                }
            }
        }
        let st = cache.stats();
        assert_eq!(st.misses, 2 * 16, "{st:?}");
        assert!(st.busy_s > 0.0 && st.busy_s <= st.read_s + 1e-3, "{st:?}");
    }

    #[test]
    fn reads_split_into_many_requests_fill_experts_exactly() {
        check(6, 4096);
        check(40, 8192);
        check(6, 1 << 20);
    }
}
