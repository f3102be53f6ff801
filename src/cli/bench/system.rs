//! What a bench row says about the machine: CPU model, the memory read bandwidth every
//! decode is bounded by (probed once per thread count), and bytes this process really
//! read from storage (Linux `/proc/self/io`, which counts page faults on the mapped
//! model as well as the expert cache's direct reads).

use crate::bandwidth;

/// The CPU's brand string, e.g. "AMD EPYC 9R14 96-Core Processor".
pub fn cpu_model() -> String {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    sys.cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The commit bitmoe was built from (`build.rs`), or "unknown" outside a git checkout.
pub fn build_commit() -> &'static str {
    env!("BITMOE_BUILD_COMMIT")
}

/// Bytes this process has caused to be read from storage so far (`read_bytes` of
/// `/proc/self/io`); `None` where the kernel does not say.
pub fn storage_read_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("read_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Memory read bandwidth in bytes/s with `pool`'s threads: best of 3 passes over a
/// buffer far larger than the caches (1 GiB, less when memory is short).
pub fn memory_bandwidth(pool: &rayon::ThreadPool) -> f64 {
    let avail = crate::engine::available_memory();
    let bytes = (1usize << 30).min((avail / 8) as usize).max(64 << 20);
    let buf = pool.install(|| bandwidth::probe_buffer(bytes));
    bandwidth::measure(pool, &buf, 3)
}

/// Seconds since the Unix epoch as RFC 3339 UTC ("2026-11-28T23:45:01Z"), llama-bench's
/// `test_time`.
pub fn utc_timestamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_912_345), "2026-11-29T00:32:25Z");
    }
}
