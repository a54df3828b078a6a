//! Read models for the CLI and tests: reports, their messages, participants, events
//! and mail, ready to print or serialize.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::messages::ThreadedBy;
use super::report_row::{self, RECORD_COLUMNS, ReportRecord};
use super::{Result, Tx, ctx, from_ms};
use crate::report::{ReportId, ReportState};

/// A line of the report list: the report row's headline and its message count.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    pub id: ReportId,
    pub state: ReportState,
    pub reporter: String,
    pub subject: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub messages: u32,
    /// The acknowledgement could not be composed and none was queued since:
    /// `disclosed ack resend` sends it once the template is fixed.
    pub ack_failed: bool,
}

impl ReportSummary {
    fn new(record: &ReportRecord, (messages, ack_failed): (u32, bool)) -> Self {
        Self {
            id: record.id.clone(),
            state: record.state,
            reporter: record.reporter.clone(),
            subject: record.subject.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            messages,
            ack_failed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportDetail {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub participants: Vec<ParticipantView>,
    pub messages: Vec<MessageView>,
    pub events: Vec<EventView>,
    pub outbox: Vec<OutboxView>,
    /// The OpenPGP keys stored for the report's participants.
    pub keys: Vec<KeyView>,
    /// What the team's commands and the triage rules set.
    pub team: Option<ReportRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub address: String,
    pub fingerprint: String,
    pub source: String,
    /// `current` (used to encrypt), `pending` (arrived later, not trusted yet)
    /// or `replaced`.
    pub status: String,
    /// `keyring` or `confirmed` (proven), or an unproven origin: `signed`,
    /// `encrypted`, `attached`, `autocrypt`.
    pub trust: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParticipantView {
    pub address: String,
    pub name: Option<String>,
    pub role: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub sha256: String,
    pub size: u64,
    /// Which source it came from, e.g. `imap://user@host:993`.
    pub source: String,
    /// Where on that source: a Maildir file name, or `mailbox;UIDVALIDITY=…;UID=…`.
    pub location: String,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: String,
    pub date: Option<Timestamp>,
    pub received_at: Timestamp,
    pub kind: String,
    pub report_id: Option<ReportId>,
    pub threaded_by: ThreadedBy,
    pub problems: Vec<String>,
    /// The readable text (plain, or HTML turned into text); empty until filled
    /// from the raw bytes by [`crate::cli::fill_text`].
    pub text: String,
    pub raw_stored: bool,
    pub attachments: Vec<AttachmentView>,
    /// How it came: `plain`, `pgp-mime`, `signed` or `inline`.
    pub openpgp: String,
    /// `none`, `decrypted` or `undecryptable`.
    pub encryption: String,
    /// The key and algorithm, or why it could not be read.
    pub encryption_detail: Option<serde_json::Value>,
    /// `none`, `valid`, `unknown-key` or `bad`.
    pub signature: String,
    /// The signer's fingerprint (or the issuer's, for an unknown key).
    pub signer: Option<String>,
    /// Whether the signing key has a user id with the From address.
    pub signer_matches_from: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub at: Timestamp,
    pub actor: String,
    pub auth: String,
    pub kind: String,
    pub detail: serde_json::Value,
    pub message: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxView {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub recipients: Vec<String>,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// Row counts, for `check`, tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub messages: u64,
    pub raw_messages: u64,
    pub reports: u64,
    pub events: u64,
    pub outbox_queued: u64,
    pub outbox_sent: u64,
    pub outbox_failed: u64,
}

fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

/// Whether a report's acknowledgement failed and none was queued since, as
/// an SQL expression over `reports`.
const ACK_FAILED: &str = "EXISTS (SELECT 1 FROM events e
        WHERE e.report_id = reports.id AND e.kind = 'acknowledgement-failed')
    AND NOT EXISTS (SELECT 1 FROM outbox o
        WHERE o.report_id = reports.id AND o.kind = 'acknowledgement')";

/// The report row and, in the two columns after it, how many messages it has
/// and whether its acknowledgement failed with none queued since.
fn summary_query(filter: &str) -> String {
    format!(
        "SELECT {RECORD_COLUMNS}, (SELECT COUNT(*) FROM messages m WHERE m.report_id = reports.id),
            {ACK_FAILED}
         FROM reports {filter}"
    )
}

type SummaryRow = ((ReportRecord, report_row::Stored), (u32, bool));

fn summary_row(row: &Row<'_>) -> rusqlite::Result<SummaryRow> {
    let last = row.as_ref().column_count() - 1;
    Ok((
        report_row::record(row)?,
        (row.get(last - 1)?, row.get(last)?),
    ))
}

fn finish_summary((record, tail): SummaryRow) -> Result<(ReportRecord, (u32, bool))> {
    Ok((report_row::finish(record)?, tail))
}

const MESSAGE: &str = "SELECT id, sha256, size, location, message_id, from_addr, subject, date,
        received_at, kind, report_id, threaded_by, problems,
        EXISTS (SELECT 1 FROM raw_messages r WHERE r.message = messages.id), source,
        crypto_form, encryption, encryption_detail, signature, signer, signer_matches_from
     FROM messages";

fn message(row: &Row<'_>) -> rusqlite::Result<MessageView> {
    Ok(MessageView {
        id: row.get(0)?,
        sha256: row.get(1)?,
        size: row.get::<_, i64>(2)? as u64,
        source: row.get(14)?,
        location: row.get(3)?,
        message_id: row.get(4)?,
        from: row.get(5)?,
        subject: row.get(6)?,
        date: row.get::<_, Option<i64>>(7)?.map(from_ms),
        received_at: from_ms(row.get(8)?),
        kind: row.get(9)?,
        report_id: row.get::<_, Option<String>>(10)?.map(ReportId::from_stored),
        threaded_by: row.get(11)?,
        problems: json_list(row.get(12)?),
        text: String::new(),
        raw_stored: row.get(13)?,
        attachments: Vec::new(),
        openpgp: row.get(15)?,
        encryption: row.get(16)?,
        encryption_detail: row
            .get::<_, Option<String>>(17)?
            .and_then(|d| serde_json::from_str(&d).ok()),
        signature: row.get(18)?,
        signer: row.get(19)?,
        signer_matches_from: row.get(20)?,
    })
}

impl Tx<'_> {
    /// Reports, newest first, optionally only those in `state`.
    pub fn reports(&self, state: Option<ReportState>) -> Result<Vec<ReportSummary>> {
        self.reports_tagged(state, None)
    }

    /// Like [`Self::reports`], and only those carrying `tag` when given.
    pub fn reports_tagged(
        &self,
        state: Option<ReportState>,
        tag: Option<&str>,
    ) -> Result<Vec<ReportSummary>> {
        let what = "listing reports";
        let sql = summary_query(
            "WHERE (?1 IS NULL OR state = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(reports.tags) WHERE value = ?2))
             ORDER BY created_at DESC, id DESC",
        );
        let mut stmt = self.conn.prepare(&sql).map_err(ctx(what))?;
        let rows = stmt
            .query_map(params![state.map(ReportState::as_str), tag], summary_row)
            .map_err(ctx(what))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(ctx(what))?;
        rows.into_iter()
            .map(|row| {
                let (record, tail) = finish_summary(row)?;
                Ok(ReportSummary::new(&record, tail))
            })
            .collect()
    }

    /// Whether `id`'s acknowledgement could not be composed and none was
    /// queued since.
    pub fn acknowledgement_failed(&self, id: &ReportId) -> Result<bool> {
        self.conn
            .query_row(
                &format!("SELECT {ACK_FAILED} FROM reports WHERE id = ?1"),
                [id.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(ctx("reading whether the acknowledgement failed"))
    }

    /// Everything about one report.
    pub fn report_detail(&self, id: &ReportId) -> Result<Option<ReportDetail>> {
        let what = "reading a report";
        let Some(row) = self
            .conn
            .query_row(&summary_query("WHERE id = ?1"), [id.as_str()], summary_row)
            .optional()
            .map_err(ctx(what))?
        else {
            return Ok(None);
        };
        let (record, tail) = finish_summary(row)?;
        let summary = ReportSummary::new(&record, tail);
        let participants = self.query_list(
            "SELECT address, name, role, first_seen, last_seen FROM participants
             WHERE report_id = ?1 ORDER BY first_seen, address",
            id,
            |row| {
                Ok(ParticipantView {
                    address: row.get(0)?,
                    name: row.get(1)?,
                    role: row.get(2)?,
                    first_seen: from_ms(row.get(3)?),
                    last_seen: from_ms(row.get(4)?),
                })
            },
        )?;
        let mut messages = self.query_list(
            &format!("{MESSAGE} WHERE report_id = ?1 ORDER BY received_at, id"),
            id,
            message,
        )?;
        for m in &mut messages {
            m.attachments = self.attachments(m.id)?;
        }
        let events = self.query_list(
            "SELECT at, actor, auth, kind, detail, message FROM events
             WHERE report_id = ?1 ORDER BY id",
            id,
            |row| {
                Ok(EventView {
                    at: from_ms(row.get(0)?),
                    actor: row.get(1)?,
                    auth: row.get(2)?,
                    kind: row.get(3)?,
                    detail: serde_json::from_str(&row.get::<_, String>(4)?)
                        .unwrap_or(serde_json::Value::Null),
                    message: row.get(5)?,
                })
            },
        )?;
        let outbox = self.query_list(
            "SELECT id, kind, message_id, recipients, status, attempts, last_error, created_at,
                 sent_at
             FROM outbox WHERE report_id = ?1 ORDER BY id",
            id,
            |row| {
                Ok(OutboxView {
                    id: row.get(0)?,
                    kind: row.get(1)?,
                    message_id: row.get(2)?,
                    recipients: json_list(row.get(3)?),
                    status: row.get(4)?,
                    attempts: row.get(5)?,
                    last_error: row.get(6)?,
                    created_at: from_ms(row.get(7)?),
                    sent_at: row.get::<_, Option<i64>>(8)?.map(from_ms),
                })
            },
        )?;
        let keys = self.query_list(
            "SELECT k.address, k.fingerprint, k.source, k.status, k.first_seen, k.last_seen,
                 k.trust
             FROM participant_keys k
             WHERE k.address IN (SELECT address FROM participants WHERE report_id = ?1)
             ORDER BY k.address, k.first_seen, k.id",
            id,
            |row| {
                Ok(KeyView {
                    address: row.get(0)?,
                    fingerprint: row.get(1)?,
                    source: row.get(2)?,
                    status: row.get(3)?,
                    first_seen: from_ms(row.get(4)?),
                    last_seen: from_ms(row.get(5)?),
                    trust: row.get(6)?,
                })
            },
        )?;
        Ok(Some(ReportDetail {
            summary,
            participants,
            messages,
            events,
            outbox,
            keys,
            team: Some(record),
        }))
    }

    /// Every stored message, oldest first (including those in no report).
    pub fn all_messages(&self) -> Result<Vec<MessageView>> {
        let what = "listing messages";
        let mut stmt = self
            .conn
            .prepare(&format!("{MESSAGE} ORDER BY id"))
            .map_err(ctx(what))?;
        let mut messages = stmt
            .query_map([], message)
            .map_err(ctx(what))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(ctx(what))?;
        for m in &mut messages {
            m.attachments = self.attachments(m.id)?;
        }
        Ok(messages)
    }

    fn attachments(&self, message: i64) -> Result<Vec<AttachmentView>> {
        let what = "listing attachments";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, content_type, size, sha256 FROM attachments
                 WHERE message = ?1 ORDER BY id",
            )
            .map_err(ctx(what))?;
        let rows = stmt
            .query_map([message], |row| {
                Ok(AttachmentView {
                    name: row.get(0)?,
                    content_type: row.get(1)?,
                    size: row.get::<_, i64>(2)? as u64,
                    sha256: row.get(3)?,
                })
            })
            .map_err(ctx(what))?;
        rows.collect::<rusqlite::Result<_>>().map_err(ctx(what))
    }

    fn query_list<T>(
        &self,
        sql: &str,
        id: &ReportId,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let what = "reading a report";
        let mut stmt = self.conn.prepare(sql).map_err(ctx(what))?;
        let rows = stmt
            .query_map(params![id.as_str()], map)
            .map_err(ctx(what))?;
        rows.collect::<rusqlite::Result<_>>().map_err(ctx(what))
    }

    pub fn counts(&self) -> Result<Counts> {
        self.conn
            .query_row(
                "SELECT
                    (SELECT COUNT(*) FROM messages),
                    (SELECT COUNT(*) FROM raw_messages),
                    (SELECT COUNT(*) FROM reports),
                    (SELECT COUNT(*) FROM events),
                    (SELECT COUNT(*) FROM outbox WHERE status = 'queued'),
                    (SELECT COUNT(*) FROM outbox WHERE status = 'sent'),
                    (SELECT COUNT(*) FROM outbox WHERE status = 'failed')",
                [],
                |row| {
                    Ok(Counts {
                        messages: row.get::<_, i64>(0)? as u64,
                        raw_messages: row.get::<_, i64>(1)? as u64,
                        reports: row.get::<_, i64>(2)? as u64,
                        events: row.get::<_, i64>(3)? as u64,
                        outbox_queued: row.get::<_, i64>(4)? as u64,
                        outbox_sent: row.get::<_, i64>(5)? as u64,
                        outbox_failed: row.get::<_, i64>(6)? as u64,
                    })
                },
            )
            .map_err(ctx("counting rows"))
    }
}
