//! Counters behind the flood limits: per key (a sender's mailbox, or a name for
//! everyone), how many of something happened in each minute. A limit over a
//! window is then a sum over at most the window's minutes, however large the
//! flood.

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, Tx, ctx};

/// Counters older than this are dropped as new ones are written.
const KEEP_MINUTES: i64 = 2 * 24 * 60;

fn minute(at: Timestamp) -> i64 {
    at.as_second().div_euclid(60)
}

impl Tx<'_> {
    /// Counts one occurrence of `key` at `at`.
    pub fn count_rate(&self, key: &str, at: Timestamp) -> Result<()> {
        let what = "counting toward a flood limit";
        self.conn
            .prepare_cached(
                "INSERT INTO rate_counts (key, minute, n) VALUES (?1, ?2, 1)
                 ON CONFLICT (key, minute) DO UPDATE SET n = n + 1",
            )
            .and_then(|mut stmt| stmt.execute(params![key, minute(at)]))
            .map_err(ctx(what))?;
        self.conn
            .prepare_cached("DELETE FROM rate_counts WHERE minute < ?1")
            .and_then(|mut stmt| stmt.execute([minute(at) - KEEP_MINUTES]))
            .map_err(ctx(what))?;
        Ok(())
    }

    /// How often `key` was counted in the minutes after `since`'s minute, up
    /// to and including `now`'s: the window `(since, now]` to the minute.
    pub fn rate_since(&self, key: &str, since: Timestamp) -> Result<u64> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0) FROM rate_counts WHERE key = ?1 AND minute > ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![key, minute(since)], |row| row.get::<_, i64>(0))
            })
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(ctx("reading a flood counter"))
    }
}
