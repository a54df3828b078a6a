//! The answer to the reporter of a new report: the acknowledgement (or a
//! triage rule's template, or the notice that we could not read it),
//! protected for the reporter and queued within the rate limit of automatic
//! mail. Ingest answers with it; `disclosed ack resend` calls it again once a
//! template that failed is fixed.

use jiff::Timestamp;
use serde_json::json;

use super::Unreadable;
use super::compose::Original;
use super::protect::Protection;
use super::queue::{self, Mailer, ToReporter};
use crate::audit::{Actor, Auth, EventKind};
use crate::parse::ParsedMessage;
use crate::report::ReportId;
use crate::store::{Recorder, StoreError, Tx};
use crate::thread;

/// How a new report is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The acknowledgement template.
    Acknowledgement,
    /// The acknowledgement of a report we could not read.
    Undecryptable(Unreadable),
    /// A triage rule's template.
    Rule {
        template: &'static str,
        rule: &'a str,
    },
}

/// Queues the answer to a new report, unless the sender's automatic
/// replies are used up: encrypted to the reporter's key when one is
/// known, held when they wrote encrypted and none is. An unreadable report
/// is answered with only that; a triage rule's template replaces the
/// acknowledgement when the plan says so.
pub fn acknowledge(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    msg: &ParsedMessage,
    answer: Answer<'_>,
    message: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(from) = &msg.from else {
        return Ok(false);
    };
    let refused = queue::reply_refused(tx, &m.config.limits, &from.address, now)?;
    let rec = Recorder {
        report: Some(report),
        at: now,
        actor: Actor::Daemon,
        auth: Auth::None,
        message: Some(message),
    };
    if let Some(refused) = refused {
        rec.record(
            tx,
            EventKind::AcknowledgementSkipped,
            json!({ "reason": refused.reason, "sent_in_window": refused.sent_in_window,
                    "limit": refused.limit }),
        )?;
        return Ok(false);
    }
    let mailbox = thread::mailbox(&from.address);
    let original = Original {
        report,
        reporter: &from.address,
        reporter_name: from.name.as_deref(),
        subject: &msg.subject,
        message_id: msg.message_id.as_deref(),
        references: &msg.references,
    };
    let team = m.crypto.team.as_deref();
    let unreadable = match answer {
        Answer::Undecryptable(why) => Some(why),
        Answer::Acknowledgement | Answer::Rule { .. } => None,
    };
    let composed = match (answer, team) {
        (Answer::Rule { template, rule }, _) => super::compose::reporter_reply(
            m.config,
            m.templates,
            template,
            original,
            Some(rule),
            now,
        ),
        (Answer::Undecryptable(why), Some(team)) => super::undecryptable_acknowledgement(
            m.config,
            m.templates,
            original,
            why,
            &team.current().fingerprint().to_hex(),
            now,
        ),
        // Without a team key there is no key to point the reporter to.
        (Answer::Undecryptable(_) | Answer::Acknowledgement, _) => {
            super::acknowledgement(m.config, m.templates, original, now)
        }
    };
    let mail = match composed {
        Ok(mail) => mail,
        Err(err) => {
            tracing::warn!(report = %report, stored = rec.message, message_id = crate::ingest::loggable(original.message_id), error = %err, "cannot compose the acknowledgement");
            rec.record(
                tx,
                EventKind::AcknowledgementFailed,
                json!({ "reason": err.to_string() }),
            )?;
            return Ok(false);
        }
    };
    let sent = m.to_reporter(
        tx,
        report,
        mail,
        &ToReporter {
            kind: "acknowledgement",
            to: &from.address,
            rate_key: Some(&mailbox),
            content_free: unreadable.is_some(),
            actor: Actor::Daemon,
            auth: Auth::None,
            message,
        },
        now,
    )?;
    if sent.is_some() {
        queue::count_reply(tx, now)?;
    }
    match sent {
        Some((protection, message_id)) if protection != Protection::Hold => {
            rec.record(
                    tx,
                    EventKind::AcknowledgementQueued,
                    json!({ "message_id": message_id, "to": from.address, "protection": protection.as_str(),
                            "unreadable": unreadable.is_some() }),
                )?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// What asking for a failed acknowledgement again came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resent {
    /// Composed and queued.
    Queued,
    /// Not queued: composing failed again, or the reporter's automatic
    /// replies are used up; the report's events say which.
    NotQueued,
    /// An acknowledgement is queued (or sent) already.
    AlreadyQueued,
    /// No acknowledgement of the report failed.
    DidNotFail,
    /// The message that failed is not stored whole (past the raw size
    /// limit), so it cannot be answered again automatically.
    NotStored,
}

impl std::fmt::Display for Resent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Queued => "acknowledgement queued",
            Self::NotQueued => {
                "the acknowledgement was not queued: it failed again, or the reporter's automatic replies are used up; the report's events say which"
            }
            Self::AlreadyQueued => "an acknowledgement is queued already; nothing to resend",
            Self::DidNotFail => "the acknowledgement did not fail; nothing to resend",
            Self::NotStored => {
                "the message that failed is too large to be stored whole; answer it by hand"
            }
        })
    }
}

/// Composes and queues the acknowledgement of `report` again after
/// composing it failed (a template that failed on the report's data, since
/// fixed): from the stored message whose acknowledgement failed, once.
pub fn resend(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    now: Timestamp,
) -> Result<Resent, StoreError> {
    let Some(detail) = tx.report_detail(report)? else {
        return Ok(Resent::DidNotFail);
    };
    if detail
        .outbox
        .iter()
        .any(|row| row.kind == "acknowledgement")
    {
        return Ok(Resent::AlreadyQueued);
    }
    let Some(message) = detail
        .events
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::AcknowledgementFailed.as_str())
        .and_then(|e| e.message)
    else {
        return Ok(Resent::DidNotFail);
    };
    let Some(sha256) = detail
        .messages
        .iter()
        .find(|msg| msg.id == message)
        .map(|msg| msg.sha256.as_str())
    else {
        return Ok(Resent::NotStored);
    };
    let Some(raw) = tx.raw_message(sha256)? else {
        return Ok(Resent::NotStored);
    };
    let parsed = crate::parse::parse(
        &raw,
        &crate::parse::ParseLimits::from_config(&m.config.limits),
    );
    let queued = acknowledge(
        m,
        tx,
        report,
        &parsed,
        Answer::Acknowledgement,
        message,
        now,
    )?;
    Ok(if queued {
        Resent::Queued
    } else {
        Resent::NotQueued
    })
}
