//! What a sender or a report has added to the store, for the quotas in
//! `[limits]`, and the stored attachments of a report, in the order the team
//! numbers them (`disclosed attachment REPORT N`).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Tx, ctx, ms};
use crate::report::ReportId;

/// One attachment of a report as stored: its message and what the parser
/// recorded of it. The bytes stay in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAttachment {
    /// 1-based, in the order the report's attachments were stored.
    pub number: usize,
    pub message: i64,
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// The bytes kept for one stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBytes {
    /// As received; `None` when it was too large to load.
    pub raw: Option<Vec<u8>>,
    /// The decrypted entity, when one was kept.
    pub decrypted: Option<Vec<u8>>,
}

/// Tables of one blob per message: `(message INTEGER PRIMARY KEY, data BLOB)`.
const BLOB_TABLES: [&str; 2] = ["raw_messages", "decrypted_messages"];

impl Tx<'_> {
    /// Stores `data` as `table`'s row for `message`, written through an
    /// incremental blob handle: binding it as a parameter would copy the
    /// whole of it twice (the bound value, then the record), and a message
    /// may be tens of megabytes.
    pub(super) fn insert_blob(
        &self,
        table: &'static str,
        message: i64,
        data: &[u8],
    ) -> rusqlite::Result<()> {
        debug_assert!(BLOB_TABLES.contains(&table));
        let sql = if table == BLOB_TABLES[0] {
            "INSERT INTO raw_messages (message, data) VALUES (?1, zeroblob(?2))"
        } else {
            "INSERT INTO decrypted_messages (message, data) VALUES (?1, zeroblob(?2))"
        };
        let len = i64::try_from(data.len()).map_err(|_| rusqlite::Error::BlobSizeError)?;
        self.conn
            .prepare_cached(sql)?
            .execute(params![message, len])?;
        if data.is_empty() {
            return Ok(());
        }
        let mut blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, table, "data", message, false)?;
        // Whole pages at a time; the handle writes through the page cache.
        for (i, chunk) in data.chunks(1 << 20).enumerate() {
            blob.write_at(chunk, i << 20)?;
        }
        blob.close()
    }

    /// Bytes `address` added to the store from `since` on: its messages as
    /// received, and the decrypted entities kept beside them.
    pub fn sender_bytes_since(&self, address: &str, since: Timestamp) -> Result<u64> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(m.size + COALESCE(length(d.data), 0)), 0)
                 FROM messages m LEFT JOIN decrypted_messages d ON d.message = m.id
                 WHERE m.from_addr = ?1 AND m.received_at >= ?2",
            )
            .and_then(|mut stmt| stmt.query_row(params![address, ms(since)], |row| row.get(0)))
            .map(|total: i64| u64::try_from(total).unwrap_or(0))
            .map_err(ctx("summing what a sender stored"))
    }

    /// The size of the attachments of `report`'s messages other than `except`.
    pub fn report_attachment_bytes(&self, report: &ReportId, except: i64) -> Result<u64> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(a.size), 0)
                 FROM attachments a JOIN messages m ON m.id = a.message
                 WHERE m.report_id = ?1 AND m.id != ?2",
            )
            .and_then(|mut stmt| stmt.query_row(params![report.as_str(), except], |row| row.get(0)))
            .map(|total: i64| u64::try_from(total).unwrap_or(0))
            .map_err(ctx("summing a report's attachments"))
    }

    /// The attachments of `report`, numbered from 1 in the order they were
    /// stored.
    pub fn report_attachments(&self, report: &ReportId) -> Result<Vec<ReportAttachment>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.message, a.name, a.content_type, a.size, a.sha256
                 FROM attachments a JOIN messages m ON m.id = a.message
                 WHERE m.report_id = ?1 ORDER BY a.id",
            )
            .map_err(ctx("listing a report's attachments"))?;
        let rows = stmt
            .query_map([report.as_str()], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(ctx("listing a report's attachments"))?;
        Ok(rows
            .into_iter()
            .enumerate()
            .map(
                |(i, (message, name, content_type, size, sha256))| ReportAttachment {
                    number: i + 1,
                    message,
                    name,
                    content_type,
                    size: u64::try_from(size).unwrap_or(0),
                    sha256,
                },
            )
            .collect())
    }

    /// Whether a decrypted entity is kept for `message`.
    pub fn has_decrypted(&self, message: i64) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM decrypted_messages WHERE message = ?1)")
            .and_then(|mut stmt| stmt.query_row([message], |row| row.get(0)))
            .map_err(ctx("looking up a decrypted message"))
    }

    /// The bytes kept for message `message`: as received, and decrypted.
    pub fn stored_bytes(&self, message: i64) -> Result<StoredBytes> {
        let raw = self
            .conn
            .prepare_cached("SELECT data FROM raw_messages WHERE message = ?1")
            .and_then(|mut stmt| stmt.query_row([message], |row| row.get(0)).optional())
            .map_err(ctx("reading raw message bytes"))?;
        let decrypted = self.decrypted_message(message)?;
        Ok(StoredBytes { raw, decrypted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewAttachment, NewMessage, Store, ThreadedBy};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn insert(tx: &Tx<'_>, n: u32, from: &str, size: u64, when: Timestamp) -> i64 {
        let sha = format!("{n:064}");
        tx.insert_message(&NewMessage {
            sha256: &sha,
            raw: Some(b"x"),
            size,
            source: "test",
            location: "m",
            message_id: None,
            in_reply_to: None,
            references: &[],
            from_addr: Some(from),
            from_name: None,
            to_addrs: &[],
            subject: "",
            date: None,
            kind: "report",
            report_id: None,
            threaded_by: ThreadedBy::None,
            problems: &[],
            received_at: when,
        })
        .expect("insert")
    }

    #[test]
    fn a_senders_bytes_are_summed_over_the_window_only() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .write(|w| {
                let tx = w.tx();
                insert(&tx, 1, "m@x.example", 100, at("2026-11-22T11:00:00Z"));
                insert(&tx, 2, "m@x.example", 200, at("2026-11-23T11:00:00Z"));
                insert(&tx, 3, "other@x.example", 400, at("2026-11-23T11:00:00Z"));
                let id = insert(&tx, 4, "m@x.example", 300, at("2026-11-23T11:30:00Z"));
                tx.insert_attachment(
                    id,
                    &NewAttachment {
                        name: Some("a.bin"),
                        content_type: "application/octet-stream",
                        size: 250,
                        sha256: "ab",
                    },
                )?;
                let since = at("2026-11-22T12:00:00Z");
                assert_eq!(tx.sender_bytes_since("m@x.example", since)?, 500);
                assert_eq!(tx.sender_bytes_since("nobody@x.example", since)?, 0);
                Ok::<_, crate::store::StoreError>(())
            })
            .expect("write");
    }
}
