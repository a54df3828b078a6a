//! Where each source got to. IMAP keeps UIDVALIDITY and the last UID per mailbox
//! here; the Maildir source records when it last finished a scan.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Tx, ctx, from_ms, ms};

/// A source's position in one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub uidvalidity: Option<u32>,
    pub last_uid: Option<u32>,
    pub updated_at: Timestamp,
}

impl Tx<'_> {
    pub fn cursor(&self, source: &str, mailbox: &str) -> Result<Option<Cursor>> {
        self.conn
            .prepare_cached(
                "SELECT uidvalidity, last_uid, updated_at FROM source_cursors
                 WHERE source = ?1 AND mailbox = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![source, mailbox], |row| {
                    Ok(Cursor {
                        uidvalidity: row.get(0)?,
                        last_uid: row.get(1)?,
                        updated_at: from_ms(row.get(2)?),
                    })
                })
                .optional()
            })
            .map_err(ctx("reading a source cursor"))
    }

    pub fn set_cursor(&self, source: &str, mailbox: &str, cursor: &Cursor) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO source_cursors (source, mailbox, uidvalidity, last_uid, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source, mailbox) DO UPDATE SET
                     uidvalidity = excluded.uidvalidity,
                     last_uid = excluded.last_uid,
                     updated_at = excluded.updated_at",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    source,
                    mailbox,
                    cursor.uidvalidity,
                    cursor.last_uid,
                    ms(cursor.updated_at)
                ])
            })
            .map_err(ctx("saving a source cursor"))?;
        Ok(())
    }
}
