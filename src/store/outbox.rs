//! The outbox: every mail we send is a row first, rendered and with its Message-ID
//! fixed, in the same transaction as the change that caused it. It is also how
//! we know our own mail when it comes back (by Message-ID) and which mail a
//! bounce returns (by the token of its return path).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{LineFingerprint, Result, StoreError, Tx, ctx, from_ms, ms};
use crate::report::ReportId;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    pub report_id: Option<&'a ReportId>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: &'a str,
    /// Without angle brackets.
    pub message_id: &'a str,
    pub envelope_from: &'a str,
    /// The token of `envelope_from` when it is a per-message return path.
    pub return_token: Option<&'a str>,
    pub recipients: &'a [String],
    /// Set for automatic replies: the address they are rate-limited by.
    pub rate_key: Option<&'a str>,
    pub raw: &'a [u8],
    /// Held as `needs-key` instead of queued: it may not go out in clear and
    /// no key for its recipient is known yet.
    pub held: bool,
    /// For mail to the team: the fingerprints of its lines, recorded with the
    /// row so that no relay can carry them to a reporter.
    pub team_lines: &'a [LineFingerprint],
}

/// A mail we queued (in any state), as a returned copy or a bounce finds it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub id: i64,
    pub report_id: Option<ReportId>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: String,
    pub message_id: String,
    pub recipients: Vec<String>,
    /// The mail as rendered (sealed, when it was).
    pub raw: Vec<u8>,
}

/// A queued mail that is due.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub report_id: Option<String>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: String,
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: u32,
    pub created_at: Timestamp,
}

impl Tx<'_> {
    pub fn enqueue(&self, mail: &NewMail<'_>, at: Timestamp) -> Result<i64> {
        let recipients =
            serde_json::to_string(mail.recipients).map_err(|err| StoreError::Corrupt {
                what: "outbox recipients",
                detail: err.to_string(),
            })?;
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (report_id, kind, message_id, envelope_from, recipients,
                     rate_key, status, attempts, next_attempt_at, created_at, return_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, 0, ?7, ?7, ?9)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    mail.report_id.map(ReportId::as_str),
                    mail.kind,
                    mail.message_id,
                    mail.envelope_from,
                    recipients,
                    mail.rate_key,
                    ms(at),
                    if mail.held { "needs-key" } else { "queued" },
                    mail.return_token,
                ])
            })
            .map_err(ctx("queueing a mail"))?;
        let id = self.conn.last_insert_rowid();
        self.conn
            .prepare_cached("INSERT INTO outbox_raw (outbox, raw) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![id, mail.raw]))
            .map_err(ctx("queueing a mail"))?;
        self.record_team_lines(mail.report_id, mail.team_lines, at)?;
        Ok(id)
    }

    /// The mail we queued with `message_id` (without brackets).
    pub fn sent_by_message_id(&self, message_id: &str) -> Result<Option<SentMail>> {
        self.sent_where("o.message_id = ?1", message_id)
    }

    /// The mail whose return path holds `token` (lower-case hex).
    pub fn sent_by_return_token(&self, token: &str) -> Result<Option<SentMail>> {
        self.sent_where("o.return_token = ?1", token)
    }

    fn sent_where(&self, condition: &str, value: &str) -> Result<Option<SentMail>> {
        let what = "looking up a mail we sent";
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT o.id, o.report_id, o.kind, o.message_id, o.recipients, r.raw
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE {condition}"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([value], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, Vec<u8>>(5)?,
                    ))
                })
                .optional()
            })
            .map_err(ctx(what))?;
        let Some((id, report_id, kind, message_id, recipients, raw)) = row else {
            return Ok(None);
        };
        let recipients = serde_json::from_str(&recipients).map_err(|err| StoreError::Corrupt {
            what: "outbox recipients",
            detail: format!("row {id}: {err}"),
        })?;
        Ok(Some(SentMail {
            id,
            report_id: report_id.map(ReportId::from_stored),
            kind,
            message_id,
            recipients,
            raw,
        }))
    }

    /// Automatic replies queued for `rate_key` since `since`.
    pub fn auto_replies_since(&self, rate_key: &str, since: Timestamp) -> Result<u32> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM outbox WHERE rate_key = ?1 AND created_at > ?2")
            .and_then(|mut stmt| stmt.query_row(params![rate_key, ms(since)], |row| row.get(0)))
            .map_err(ctx("counting automatic replies"))
    }

    /// Queued mail whose next attempt is due at `now`, with ids above `after`, in
    /// id order (callers walk the queue by passing the last id they saw).
    pub fn due_mail(&self, now: Timestamp, after: i64, limit: usize) -> Result<Vec<QueuedMail>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT o.id, o.message_id, o.envelope_from, o.recipients, r.raw, o.attempts,
                     o.created_at, o.report_id, o.kind
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE o.status = 'queued' AND o.next_attempt_at <= ?1 AND o.id > ?2
                 ORDER BY o.id LIMIT ?3",
            )
            .map_err(ctx("reading due mail"))?;
        let rows = stmt
            .query_map(params![ms(now), after, limit as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                    row.get::<_, u32>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, String>(8)?,
                ))
            })
            .map_err(ctx("reading due mail"))?;
        let mut due = Vec::new();
        for row in rows {
            let (
                id,
                message_id,
                envelope_from,
                recipients,
                raw,
                attempts,
                created,
                report_id,
                kind,
            ) = row.map_err(ctx("reading due mail"))?;
            let recipients =
                serde_json::from_str(&recipients).map_err(|err| StoreError::Corrupt {
                    what: "outbox recipients",
                    detail: format!("row {id}: {err}"),
                })?;
            due.push(QueuedMail {
                id,
                report_id,
                kind,
                message_id,
                envelope_from,
                recipients,
                raw,
                attempts,
                created_at: from_ms(created),
            });
        }
        Ok(due)
    }

    /// When the earliest queued mail is next due (it may be already), or `None`
    /// if nothing is queued. The same rows as [`Tx::due_mail`] reads.
    pub fn next_attempt_at(&self) -> Result<Option<Timestamp>> {
        self.conn
            .prepare_cached(
                "SELECT MIN(o.next_attempt_at)
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE o.status = 'queued'",
            )
            .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, Option<i64>>(0)))
            .map(|next| next.map(from_ms))
            .map_err(ctx("reading when mail is next due"))
    }

    /// Records a delivery. Only a queued row can become sent, so a row is never
    /// recorded as sent twice; returns whether this call did it.
    pub fn mark_sent(&self, id: i64, at: Timestamp) -> Result<bool> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                     last_error = NULL
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(at)]))
            .map(|n| n == 1)
            .map_err(ctx("recording a delivery"))
    }

    /// Records a failed attempt and when to try again.
    pub fn mark_retry(&self, id: i64, next: Timestamp, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(next), error]))
            .map_err(ctx("recording a failed delivery"))?;
        Ok(())
    }

    /// Gives up on a mail.
    pub fn mark_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, error]))
            .map_err(ctx("recording an undeliverable mail"))?;
        Ok(())
    }
}
