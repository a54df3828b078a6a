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
            tracing::warn!(report = %report, error = %err, "cannot compose the acknowledgement");
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
