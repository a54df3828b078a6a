//! What publishing reads and records beyond the reports: a cheap marker of
//! change, and the expiry warnings already sent.

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, Tx, ctx, ms};

impl Tx<'_> {
    /// A number that grows with every event (a state change, a credit, any
    /// command): the site is out of date when it differs from the one it was
    /// published at. The event log is append-only, so its largest id is it.
    pub fn publication_marker(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |row| {
                row.get(0)
            })
            .map_err(ctx("reading the latest event"))
    }

    /// Whether the warning `kind` about the expiry at `expires` was sent.
    pub fn publication_notice_recorded(&self, kind: &str, expires: Timestamp) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM publication_notices WHERE kind = ?1 AND expires = ?2",
                params![kind, ms(expires)],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(ctx("reading the expiry warnings sent"))
    }

    /// Records that the warning `kind` about the expiry at `expires` was sent;
    /// `false` if it had been already.
    pub fn record_publication_notice(
        &self,
        kind: &str,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let inserted = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO publication_notices (kind, expires, at) VALUES (?1, ?2, ?3)",
                params![kind, ms(expires), ms(now)],
            )
            .map_err(ctx("recording an expiry warning"))?;
        Ok(inserted == 1)
    }
}
