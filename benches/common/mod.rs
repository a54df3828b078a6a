//! What the store benches (`search`, `metrics`) share: each includes this
//! with `mod common;`.

use std::time::Duration;

use jiff::Timestamp;

/// `DISCLOSED_BENCH_REPORTS`, else `default`.
pub fn report_count(default: usize) -> usize {
    std::env::var("DISCLOSED_BENCH_REPORTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// `s` seconds after a fixed instant in 2023.
pub fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The `p` quantile (0 to 1) of `sorted`, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}
