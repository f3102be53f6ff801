//! The expert cache's counters: atomics the readers and the forward pass bump while
//! the model runs, the union of the readers' busy time, and [`CacheStats`], the
//! snapshot `run` and `bench` report.

use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Counters, readable while the model runs.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) prefetches: AtomicU64,
    pub(super) prefetch_hits: AtomicU64,
    pub(super) prefetch_waste: AtomicU64,
    pub(super) pinned: AtomicU64,
    pub(super) pinned_hits: AtomicU64,
    pub(super) pinned_bytes: AtomicU64,
    pub(super) bytes_read: AtomicU64,
    pub(super) read_ns: AtomicU64,
    pub(super) stall_ns: AtomicU64,
    pub(super) evictions: AtomicU64,
}

/// Wall time during which at least one reader was reading: the union of the readers'
/// busy intervals.
#[derive(Debug, Default)]
pub(super) struct Busy {
    active: usize,
    since: Option<Instant>,
    total: Duration,
}

impl Busy {
    pub(super) fn start(m: &Mutex<Busy>) {
        let mut b = m.lock().unwrap_or_else(|e| e.into_inner());
        if b.active == 0 {
            b.since = Some(Instant::now());
        }
        b.active += 1;
    }

    pub(super) fn end(m: &Mutex<Busy>) {
        let mut b = m.lock().unwrap_or_else(|e| e.into_inner());
        b.active = b.active.saturating_sub(1);
        if b.active == 0 {
            if let Some(t) = b.since.take() {
                b.total += t.elapsed();
            }
        }
    }

    /// Busy seconds so far, the interval in progress included.
    pub(super) fn seconds(m: &Mutex<Busy>) -> f64 {
        let b = m.lock().unwrap_or_else(|e| e.into_inner());
        (b.total + b.since.map_or(Duration::ZERO, |t| t.elapsed())).as_secs_f64()
    }
}

/// A snapshot of the cache's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// Experts a layer asked for that were already cached.
    pub hits: u64,
    /// Experts read because a layer asked for them.
    pub misses: u64,
    /// Experts read ahead of being asked for (next layer's guessed choice), those later
    /// asked for, and those evicted unused.
    pub prefetches: u64,
    pub prefetch_hits: u64,
    pub prefetch_waste: u64,
    /// Experts pinned at load (read up front, never evicted), requests they served,
    /// and the bytes read to pin them (part of `bytes_read`).
    pub pinned: u64,
    pub pinned_hits: u64,
    pub pinned_bytes: u64,
    pub evictions: u64,
    /// Bytes read from the model files (pins, misses and prefetches).
    pub bytes_read: u64,
    /// Seconds reader threads spent reading (summed over threads).
    pub read_s: f64,
    /// Wall seconds during which at least one read was in flight.
    pub busy_s: f64,
    /// Seconds the forward pass waited for reads.
    pub stall_s: f64,
    /// Experts the cache can hold, and the bytes of one slot.
    pub capacity: usize,
    pub slot_bytes: usize,
    /// Reads bypass the page cache (O_DIRECT / F_NOCACHE).
    pub direct: bool,
}

impl CacheStats {
    pub fn hit_rate(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 {
            0.0
        } else {
            self.hits as f64 / n as f64
        }
    }

    /// Read rate while missing: bytes over the wall time with a read in flight.
    pub fn busy_gbps(&self) -> f64 {
        if self.busy_s > 0.0 {
            self.bytes_read as f64 / 1e9 / self.busy_s
        } else {
            0.0
        }
    }

    /// The counters moved since `earlier` (capacity and slot size as now).
    pub fn since(&self, earlier: &CacheStats) -> CacheStats {
        CacheStats {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
            prefetches: self.prefetches - earlier.prefetches,
            prefetch_hits: self.prefetch_hits - earlier.prefetch_hits,
            prefetch_waste: self.prefetch_waste - earlier.prefetch_waste,
            pinned: self.pinned - earlier.pinned,
            pinned_hits: self.pinned_hits - earlier.pinned_hits,
            pinned_bytes: self.pinned_bytes - earlier.pinned_bytes,
            evictions: self.evictions - earlier.evictions,
            bytes_read: self.bytes_read - earlier.bytes_read,
            read_s: self.read_s - earlier.read_s,
            busy_s: self.busy_s - earlier.busy_s,
            stall_s: self.stall_s - earlier.stall_s,
            ..*self
        }
    }

    /// Lines for stderr after a run of `tokens` tokens in `run_s` seconds (prompt and
    /// generation; pins happened at load and are left out of the per-token numbers).
    pub fn report(&self, tokens: usize, run_s: f64) -> String {
        let n = tokens.max(1) as f64;
        let run_bytes = (self.bytes_read - self.pinned_bytes) as f64;
        format!(
            "expert cache: {} slots of {:.1} MiB ({} pinned), {} hits ({} on pinned) / {} misses \
             ({:.1}% hits), {} evictions, {} prefetched ({} used, {} wasted)\n\
             expert reads: {:.2} GB{} ({:.1} MB per token), {:.2} GB/s while reading \
             ({:.2} s with reads in flight), {:.2} GB/s over the run; stalled {:.1} ms per token",
            self.capacity,
            self.slot_bytes as f64 / (1 << 20) as f64,
            self.pinned,
            self.hits,
            self.pinned_hits,
            self.misses,
            100.0 * self.hit_rate(),
            self.evictions,
            self.prefetches,
            self.prefetch_hits,
            self.prefetch_waste,
            self.bytes_read as f64 / 1e9,
            if self.direct { " direct" } else { " buffered" },
            run_bytes / 1e6 / n,
            self.busy_gbps(),
            self.busy_s,
            if run_s > 0.0 {
                run_bytes / 1e9 / run_s
            } else {
                0.0
            },
            1e3 * self.stall_s / n,
        )
    }
}
