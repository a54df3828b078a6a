//! The authenticated command mails already applied, so a replayed one is not
//! applied twice.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Tx, ctx, ms};

impl Tx<'_> {
    /// Remembers that the authenticated mail known by `key` was applied. False if
    /// it was already: a replay.
    pub fn remember_applied(&self, key: &str, message: i64, at: Timestamp) -> Result<bool> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO applied_commands (key, message, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut stmt| stmt.execute(params![key, message, ms(at)]))
            .map_err(ctx("remembering an applied command mail"))?;
        Ok(inserted == 1)
    }

    /// The message that first applied the mail known by `key`.
    pub fn applied_by(&self, key: &str) -> Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT message FROM applied_commands WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
            .map_err(ctx("looking up an applied command mail"))
    }
}
