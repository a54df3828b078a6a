//! What an operator repairs by hand: the outbox as a list, failed mail queued
//! again, and the messages that joined no report, attached to one.
//!
//! Retrying touches only rows that no sender can be holding: a failed row
//! left the senders when it was marked failed, and the update checks the
//! status and the claim again in the same statement, so a row a sender took
//! meanwhile (or one already sent) is never changed, and never sent twice.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError, Tx, ctx, from_ms, ms};
use crate::report::ReportId;

/// One outbox row as `disclosed outbox` lists it: no mail bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub report_id: Option<ReportId>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: String,
    pub recipients: Vec<String>,
    /// `queued`, `sent`, `failed` or `needs-key`.
    pub status: String,
    pub attempts: u32,
    /// When a queued row is next tried.
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The sender holding it, while one does.
    pub claimed_by: Option<String>,
}

/// Which rows [`Tx::outbox_rows`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxFilter {
    All,
    /// Failed or held for a key: what needs a person.
    Failed,
}

/// What [`Tx::retry_outbox_row`] did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Retried {
    /// Failed, now queued and due at once.
    Queued,
    /// Sent already: never sent again.
    AlreadySent,
    /// Still queued; the senders try it when due.
    AlreadyQueued,
    /// Held until its recipient's key is known: queuing it would send in
    /// clear what may not go out so.
    NeedsKey,
    /// A sender took it meanwhile.
    Claimed,
    /// No such row.
    Missing,
}

impl Retried {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued again",
            Self::AlreadySent => "already sent, not sent again",
            Self::AlreadyQueued => "still queued, left as it is",
            Self::NeedsKey => "held until the recipient's key is known, left as it is",
            Self::Claimed => "being sent by a running sender, left as it is",
            Self::Missing => "no such outbox row",
        }
    }
}

/// A message that joined no report, as `messages --unattached` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnattachedMessage {
    pub id: i64,
    pub received_at: Timestamp,
    pub date: Option<Timestamp>,
    pub from: Option<String>,
    pub subject: String,
    /// How ingest classified it, e.g. `bounce` or `own-mail`.
    pub kind: String,
    pub problems: Vec<String>,
}

/// What [`Tx::attach_message`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attached {
    Attached,
    /// It belongs to a report already (this one or another): not moved.
    AlreadyIn(ReportId),
    NoMessage,
    NoReport,
}

const ROW: &str = "SELECT id, report_id, kind, recipients, status, attempts, next_attempt_at,
        last_error, created_at, sent_at, claimed_by
    FROM outbox";

fn outbox_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxRow, String)> {
    Ok((
        OutboxRow {
            id: row.get(0)?,
            report_id: row.get::<_, Option<String>>(1)?.map(ReportId::from_stored),
            kind: row.get(2)?,
            recipients: Vec::new(),
            status: row.get(4)?,
            attempts: row.get(5)?,
            next_attempt_at: from_ms(row.get(6)?),
            last_error: row.get(7)?,
            created_at: from_ms(row.get(8)?),
            sent_at: row.get::<_, Option<i64>>(9)?.map(from_ms),
            claimed_by: row.get(10)?,
        },
        row.get(3)?,
    ))
}

impl Tx<'_> {
    /// Outbox rows, oldest first.
    pub fn outbox_rows(&self, filter: OutboxFilter) -> Result<Vec<OutboxRow>> {
        let what = "listing the outbox";
        let condition = match filter {
            OutboxFilter::All => "",
            OutboxFilter::Failed => " WHERE status IN ('failed', 'needs-key')",
        };
        let mut stmt = self
            .conn
            .prepare(&format!("{ROW}{condition} ORDER BY created_at, id"))
            .map_err(ctx(what))?;
        let rows = stmt.query_map([], outbox_row).map_err(ctx(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (mut row, recipients) = row.map_err(ctx(what))?;
            row.recipients = recipients_of(row.id, &recipients)?;
            out.push(row);
        }
        Ok(out)
    }

    /// One outbox row.
    pub fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>> {
        let what = "reading an outbox row";
        let row = self
            .conn
            .prepare_cached(&format!("{ROW} WHERE id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id], outbox_row).optional())
            .map_err(ctx(what))?;
        let Some((mut row, recipients)) = row else {
            return Ok(None);
        };
        row.recipients = recipients_of(row.id, &recipients)?;
        Ok(Some(row))
    }

    /// The ids of `report`'s outbox rows, oldest first.
    pub fn outbox_ids_of(&self, report: &ReportId) -> Result<Vec<i64>> {
        let what = "listing a report's mail";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM outbox WHERE report_id = ?1 ORDER BY created_at, id")
            .map_err(ctx(what))?;
        let rows = stmt
            .query_map([report.as_str()], |row| row.get(0))
            .map_err(ctx(what))?;
        rows.collect::<rusqlite::Result<_>>().map_err(ctx(what))
    }

    /// Queues failed row `id` again, due at `now` with its attempts reset. Only
    /// a failed row that no sender holds (or whose holder's lease ended before
    /// `lease_now`) changes; everything else is left as it is and said why.
    pub fn retry_outbox_row(
        &self,
        id: i64,
        now: Timestamp,
        lease_now: Timestamp,
    ) -> Result<Retried> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?2,
                     last_error = NULL, claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND status = 'failed' AND sent_at IS NULL
                     AND (claimed_by IS NULL OR claimed_until < ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(now), ms(lease_now)]))
            .map_err(ctx("queueing failed mail again"))?;
        if changed == 1 {
            return Ok(Retried::Queued);
        }
        let Some(row) = self.outbox_row(id)? else {
            return Ok(Retried::Missing);
        };
        Ok(match row.status.as_str() {
            "sent" => Retried::AlreadySent,
            "needs-key" => Retried::NeedsKey,
            "queued" => Retried::AlreadyQueued,
            _ if row.sent_at.is_some() => Retried::AlreadySent,
            _ => Retried::Claimed,
        })
    }

    /// Messages in no report, oldest first.
    pub fn unattached_messages(&self) -> Result<Vec<UnattachedMessage>> {
        let what = "listing the messages in no report";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, received_at, date, from_addr, subject, kind, problems
                 FROM messages WHERE report_id IS NULL ORDER BY received_at, id",
            )
            .map_err(ctx(what))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(UnattachedMessage {
                    id: row.get(0)?,
                    received_at: from_ms(row.get(1)?),
                    date: row.get::<_, Option<i64>>(2)?.map(from_ms),
                    from: row.get(3)?,
                    subject: row.get(4)?,
                    kind: row.get(5)?,
                    problems: serde_json::from_str(&row.get::<_, String>(6)?).unwrap_or_default(),
                })
            })
            .map_err(ctx(what))?;
        rows.collect::<rusqlite::Result<_>>().map_err(ctx(what))
    }

    /// Whether message `id` exists and belongs to no report.
    pub fn is_unattached(&self, id: i64) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND report_id IS NULL)",
            )
            .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)))
            .map_err(ctx("looking up a message"))
    }

    /// A message's sender and subject, for the team's notice of an attach.
    pub fn message_headline(&self, id: i64) -> Result<Option<(Option<String>, String)>> {
        self.conn
            .prepare_cached("SELECT from_addr, subject FROM messages WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(ctx("reading a message"))
    }

    /// Attaches message `id` to `report` if it is in none; the update checks
    /// that again, so two attaches at once cannot both win.
    pub fn attach_message(&self, id: i64, report: &ReportId) -> Result<Attached> {
        if self.report_record(report)?.is_none() {
            return Ok(Attached::NoReport);
        }
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE messages SET report_id = ?2, threaded_by = 'attached'
                 WHERE id = ?1 AND report_id IS NULL",
            )
            .and_then(|mut stmt| stmt.execute(params![id, report.as_str()]))
            .map_err(ctx("attaching a message to a report"))?;
        if changed == 1 {
            return Ok(Attached::Attached);
        }
        let current = self
            .conn
            .prepare_cached("SELECT report_id FROM messages WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([id], |row| row.get::<_, Option<String>>(0))
                    .optional()
            })
            .map_err(ctx("reading a message's report"))?;
        Ok(match current {
            None => Attached::NoMessage,
            Some(Some(other)) => Attached::AlreadyIn(ReportId::from_stored(other)),
            // Attached by no one, yet unchanged: cannot happen in one
            // transaction; said as missing rather than guessed.
            Some(None) => Attached::NoMessage,
        })
    }
}

fn recipients_of(id: i64, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt {
        what: "outbox recipients",
        detail: format!("row {id}: {err}"),
    })
}

#[cfg(test)]
mod tests;
