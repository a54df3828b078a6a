//! What the daemon's watch on itself reads and records: the alerts raised and
//! not cleared yet, the oldest mail waiting in the outbox and the last mail
//! that arrived.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Tx, ctx, from_ms, ms};

impl Tx<'_> {
    /// The conditions alerted on and not cleared since.
    pub fn monitor_alerts(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT condition FROM monitor_alerts ORDER BY condition")
            .map_err(ctx("reading the monitor alerts"))?;
        let rows = stmt
            .query_map([], |row| row.get(0))
            .map_err(ctx("reading the monitor alerts"))?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
            .map_err(ctx("reading the monitor alerts"))
    }

    /// Records that `condition` was alerted on; `false` if it already was
    /// (and has not cleared since).
    pub fn raise_monitor_alert(&self, condition: &str, now: Timestamp) -> Result<bool> {
        let inserted = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO monitor_alerts (condition, raised_at) VALUES (?1, ?2)",
                params![condition, ms(now)],
            )
            .map_err(ctx("recording a monitor alert"))?;
        Ok(inserted == 1)
    }

    /// Forgets the alert on `condition`, which has cleared: it alerts again
    /// when it comes back.
    pub fn clear_monitor_alert(&self, condition: &str) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM monitor_alerts WHERE condition = ?1",
                params![condition],
            )
            .map_err(ctx("clearing a monitor alert"))?;
        Ok(())
    }

    /// The oldest mail with `status` (`queued` or `failed`) and how many
    /// such mails there are. Mail held for a reporter's key is neither.
    pub fn oldest_unsent(&self, status: &str) -> Result<Option<(Timestamp, u64)>> {
        self.conn
            .query_row(
                "SELECT min(created_at), count(*) FROM outbox WHERE status = ?1",
                params![status],
                |row| Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, i64>(1)?)),
            )
            .map(|(oldest, n)| oldest.map(|t| (from_ms(t), u64::try_from(n).unwrap_or(0))))
            .map_err(ctx("reading the oldest unsent mail"))
    }

    /// When the last mail was stored, whatever it was.
    pub fn last_arrival(&self) -> Result<Option<Timestamp>> {
        self.conn
            .query_row("SELECT max(received_at) FROM messages", [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .optional()
            .map(|t| t.flatten().map(from_ms))
            .map_err(ctx("reading the last arrival"))
    }

    /// Records a canary sent at `now`.
    pub fn record_canary(&self, token: &str, now: Timestamp) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO monitor_canaries (token, sent_at) VALUES (?1, ?2)",
                params![token, ms(now)],
            )
            .map_err(ctx("recording a canary"))?;
        Ok(())
    }

    /// The latest canary: its token and when it was sent.
    pub fn latest_canary(&self) -> Result<Option<(String, Timestamp)>> {
        self.conn
            .query_row(
                "SELECT token, sent_at FROM monitor_canaries ORDER BY sent_at DESC LIMIT 1",
                [],
                |row| Ok((row.get::<_, String>(0)?, from_ms(row.get(1)?))),
            )
            .optional()
            .map_err(ctx("reading the latest canary"))
    }

    /// The latest canary sent at or before `by`: whether it came back, and
    /// when it was sent.
    pub fn latest_canary_sent_by(&self, by: Timestamp) -> Result<Option<(bool, Timestamp)>> {
        self.conn
            .query_row(
                "SELECT returned_at IS NOT NULL, sent_at FROM monitor_canaries
                 WHERE sent_at <= ?1 ORDER BY sent_at DESC LIMIT 1",
                params![ms(by)],
                |row| Ok((row.get::<_, bool>(0)?, from_ms(row.get(1)?))),
            )
            .optional()
            .map_err(ctx("reading the canaries"))
    }

    /// Records that the canary `token` came back; `false` if it had already
    /// (or is unknown).
    pub fn mark_canary_returned(&self, token: &str, now: Timestamp) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "UPDATE monitor_canaries SET returned_at = ?2
                 WHERE token = ?1 AND returned_at IS NULL",
                params![token, ms(now)],
            )
            .map_err(ctx("recording a canary's return"))?;
        Ok(changed == 1)
    }
}
