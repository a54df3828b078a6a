//! Raw messages (byte-exact, deduplicated by content hash), their parsed metadata
//! and attachments.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, ToSql, params};
use serde::Serialize;

use super::{Result, Tx, ctx, ms};
use crate::report::ReportId;

/// A message as it is recorded.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub sha256: &'a str,
    /// The bytes as received; `None` when the message was too large to load.
    pub raw: Option<&'a [u8]>,
    pub size: u64,
    /// Which source it came from, e.g. `maildir:/srv/mail/security`.
    pub source: &'a str,
    /// Where on that source (Maildir file name, later mailbox/UIDVALIDITY/UID).
    pub location: &'a str,
    pub message_id: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub from_addr: Option<&'a str>,
    pub from_name: Option<&'a str>,
    pub to_addrs: &'a [String],
    pub subject: &'a str,
    pub date: Option<Timestamp>,
    pub kind: &'a str,
    pub report_id: Option<&'a ReportId>,
    pub threaded_by: ThreadedBy,
    pub problems: &'a [String],
    pub received_at: Timestamp,
}

/// How a message came to its report, stored as its kebab-case name in
/// `messages.threaded_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThreadedBy {
    /// The report's plus address (`security+SEC-…@`).
    PlusAddress,
    /// The report's tag in the subject.
    SubjectTag,
    /// `In-Reply-To`/`References` naming a message of the report.
    References,
    /// A copy of our own mail: the report of the outbox row.
    Outbox,
    /// Automatic mail to the return path of a mail we sent.
    ReturnPath,
    /// It opened the report.
    NewReport,
    /// It joined no report.
    None,
    /// An operator or a member attached it to a report by hand, after it
    /// joined none.
    Attached,
}

impl ThreadedBy {
    const ALL: [Self; 8] = [
        Self::PlusAddress,
        Self::SubjectTag,
        Self::References,
        Self::Outbox,
        Self::ReturnPath,
        Self::NewReport,
        Self::None,
        Self::Attached,
    ];

    /// The stored name, e.g. `plus-address` or `new-report`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlusAddress => "plus-address",
            Self::SubjectTag => "subject-tag",
            Self::References => "references",
            Self::Outbox => "outbox",
            Self::ReturnPath => "return-path",
            Self::NewReport => "new-report",
            Self::None => "none",
            Self::Attached => "attached",
        }
    }
}

impl fmt::Display for ThreadedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored `threaded_by` this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown way a message joined its report `{0}` (known: plus-address, subject-tag, references, outbox, return-path, new-report, none, attached)"
)]
pub struct UnknownThreadedBy(pub String);

impl FromStr for ThreadedBy {
    type Err = UnknownThreadedBy;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| UnknownThreadedBy(text.to_owned()))
    }
}

impl ToSql for ThreadedBy {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for ThreadedBy {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|err: UnknownThreadedBy| FromSqlError::Other(err.into()))
    }
}

#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
}

/// What is already known about a content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub report_id: Option<ReportId>,
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

impl Tx<'_> {
    /// The message with this content, if it was stored before.
    pub fn message_by_hash(&self, sha256: &str) -> Result<Option<StoredMessage>> {
        self.conn
            .prepare_cached("SELECT id, report_id FROM messages WHERE sha256 = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([sha256], |row| {
                    Ok(StoredMessage {
                        id: row.get(0)?,
                        report_id: row.get::<_, Option<String>>(1)?.map(ReportId::from_stored),
                    })
                })
                .optional()
            })
            .map_err(ctx("looking up a message by content hash"))
    }

    /// The first stored message that carries `message_id` (for duplicate detection).
    pub fn first_message_with_id(&self, message_id: &str) -> Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT MIN(id) FROM messages WHERE message_id = ?1")
            .and_then(|mut stmt| stmt.query_row([message_id], |row| row.get(0)))
            .map_err(ctx("looking up a Message-ID"))
    }

    /// The report that a Message-ID we stored or sent belongs to. A message
    /// attached by hand does not count: its sender was never threaded, so
    /// mail that refers to it joins no report by that alone.
    pub fn report_for_message_id(&self, message_id: &str) -> Result<Option<ReportId>> {
        self.conn
            .prepare_cached(
                "SELECT report_id FROM messages WHERE message_id = ?1 AND report_id IS NOT NULL
                     AND threaded_by <> 'attached'
                 UNION ALL
                 SELECT report_id FROM outbox WHERE message_id = ?1 AND report_id IS NOT NULL
                 LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([message_id], |row| row.get::<_, String>(0))
                    .optional()
            })
            .map(|id| id.map(ReportId::from_stored))
            .map_err(ctx("looking up the report of a Message-ID"))
    }

    /// The Message-ID of the newest message in `report` from `address`, to
    /// thread an answer under it; not one attached by hand, whose From may
    /// be forged.
    pub fn latest_message_id_from(
        &self,
        report: &ReportId,
        address: &str,
    ) -> Result<Option<String>> {
        self.conn
            .prepare_cached(
                "SELECT message_id FROM messages
                 WHERE report_id = ?1 AND from_addr = ?2 AND message_id IS NOT NULL
                     AND threaded_by <> 'attached'
                 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([report.as_str(), address], |row| row.get(0))
                    .optional()
            })
            .map_err(ctx("looking up the reporter's latest message"))
    }

    /// Records a message; its raw bytes too when they were loaded.
    pub fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO messages (sha256, size, source, location, message_id, in_reply_to,
                     refs, from_addr, from_name, to_addrs, subject, date, kind, report_id,
                     threaded_by, problems, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    m.sha256,
                    m.size as i64,
                    m.source,
                    m.location,
                    m.message_id,
                    m.in_reply_to,
                    json(m.references),
                    m.from_addr,
                    m.from_name,
                    json(m.to_addrs),
                    m.subject,
                    m.date.map(ms),
                    m.kind,
                    m.report_id.map(ReportId::as_str),
                    m.threaded_by,
                    json(m.problems),
                    ms(m.received_at),
                ])
            })
            .map_err(ctx("storing message metadata"))?;
        let id = self.conn.last_insert_rowid();
        if let Some(raw) = m.raw {
            self.insert_blob("raw_messages", id, raw)
                .map_err(ctx("storing raw message bytes"))?;
        }
        self.index_message(id, m.raw)?;
        Ok(id)
    }

    pub fn insert_attachment(&self, message: i64, a: &NewAttachment<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO attachments (message, name, content_type, size, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    message,
                    a.name,
                    a.content_type,
                    a.size as i64,
                    a.sha256
                ])
            })
            .map_err(ctx("storing attachment metadata"))?;
        Ok(())
    }

    /// The raw bytes of a stored message.
    pub fn raw_message(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached(
                "SELECT r.data FROM raw_messages r JOIN messages m ON m.id = r.message
                 WHERE m.sha256 = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([sha256], |row| row.get(0)).optional())
            .map_err(ctx("reading raw message bytes"))
    }
}
