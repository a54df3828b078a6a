//! Reporter mail reaches the team: the notification of a new report or a
//! follow-up (one encrypted mail per member), the reporter's `Credit:` answer,
//! the end of a `#waiting` pause, and bounces shown as delivery problems.
//!
//! A member without an OpenPGP key gets, in place of each, the metadata notice
//! ([`crate::respond::compose::metadata_notice`]): the report's id, state and
//! deadlines, nothing of the reporter (address, name, keys), the subject or
//! the text.

use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Actor, Auth, EventKind};
use crate::crypto::{Encryption, Opened, Signature};
use crate::parse::{self, ParseLimits, ParsedMessage};
use crate::report::{self, ReportId};
use crate::respond::queue::{Mailer, ToTeam};
use crate::respond::team::TeamMail;
use crate::respond::templates::{DeliveryProblemData, NotificationData};
use crate::sla;
use crate::store::{NewEvent, Recorder, SentMail, StoreError, Tx};
use crate::thread::bounce::{self, RecipientStatus};

/// One stored message, as the team's stages see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stored<'a> {
    pub message: i64,
    pub msg: &'a ParsedMessage,
    pub pgp: Option<&'a Opened>,
    pub raw: Option<&'a [u8]>,
    pub problems: &'a [String],
}

impl Stored<'_> {
    /// The readable entity: the decrypted or verified part, else the raw mail.
    pub fn readable(&self) -> Option<&[u8]> {
        self.pgp.and_then(|o| o.inner.as_deref()).or(self.raw)
    }
}

fn encryption_text(pgp: Option<&Opened>) -> String {
    match pgp.map(|o| &o.encryption) {
        None | Some(Encryption::None) => "none (it arrived in clear)".into(),
        Some(Encryption::Decrypted { key, algorithm }) => {
            format!("decrypted ({algorithm}, team key {key})")
        }
        Some(Encryption::Failed { detail, .. }) => format!("could not decrypt: {detail}"),
    }
}

fn signature_text(pgp: Option<&Opened>) -> String {
    let summary = match pgp.map(|o| &o.signature) {
        None | Some(Signature::None) => "none".into(),
        Some(Signature::Valid {
            signer,
            from_matches,
            ..
        }) => format!(
            "valid, by {signer}{}",
            if *from_matches {
                " (a user id matches From)"
            } else {
                " (NO user id matches From)"
            }
        ),
        Some(Signature::UnknownKey { issuer }) => format!("by a key we do not have ({issuer})"),
        Some(Signature::Bad { reason, .. }) => format!("BAD: {reason}"),
    };
    // A valid block among unsigned text must not read as a signed message.
    match pgp.and_then(|o| o.signed.as_ref()) {
        Some(signed) if signed.unsigned_rest => {
            format!("{summary}; ONLY PART of the mail is signed, the rest is not")
        }
        _ => summary,
    }
}

fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

/// The command that writes attachment `number` of `report` to a file.
pub(crate) fn fetch_command(report: &ReportId, number: usize) -> String {
    format!("disclosed attachment {report} {number} --output FILE")
}

/// Which of `s`'s attachments are mailed to each member (by position): see
/// [`mailed_by_size`], with what `s`'s report and sender already hold.
fn mailed_attachments(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    s: &Stored<'_>,
    now: Timestamp,
) -> Result<Vec<bool>, StoreError> {
    if s.msg.attachments.is_empty() {
        return Ok(Vec::new());
    }
    let limits = &m.config.limits;
    let sender_over = match s.msg.from.as_ref() {
        Some(from) => {
            let since = super::quota_day_start(now);
            // A decrypted entity not kept (the sender was past the quota)
            // counts as what it would have added.
            let inner = s.pgp.and_then(|o| o.inner.as_ref()).map_or(0, Vec::len) as u64;
            let unkept = if inner > 0 && !tx.has_decrypted(s.message)? {
                inner
            } else {
                0
            };
            tx.sender_bytes_since(&from.address, since)?
                .saturating_add(unkept)
                > limits.max_sender_bytes_per_day
        }
        None => false,
    };
    let report_before = tx.report_attachment_bytes(report, s.message)?;
    let sizes: Vec<u64> = s.msg.attachments.iter().map(|a| a.size).collect();
    Ok(mailed_by_size(&sizes, limits, report_before, sender_over))
}

/// Which attachments of a message, by their sizes in order, are mailed to
/// each member: none once the sender is past `max_sender_bytes_per_day`;
/// otherwise each one no larger than `max_mailed_attachment_size` while the
/// report's attachments up to it (`report_before` of its earlier messages,
/// then this message's, withheld ones included) stay within
/// `max_report_attachment_bytes`. The others are kept once, in the stored
/// message, and the team is told how to fetch them.
fn mailed_by_size(
    sizes: &[u64],
    limits: &crate::config::Limits,
    report_before: u64,
    sender_over: bool,
) -> Vec<bool> {
    let mut total = report_before;
    sizes
        .iter()
        .map(|&size| {
            total = total.saturating_add(size);
            !sender_over
                && size <= limits.max_mailed_attachment_size
                && total <= limits.max_report_attachment_bytes
        })
        .collect()
}

/// Sends the team the reporter's message `s` of `report`.
pub(super) fn notify_team(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    s: Stored<'_>,
    headline: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    if m.config.team.members.is_empty() {
        return Ok(());
    }
    let Some(record) = tx.report_record(report)? else {
        return Ok(());
    };
    let program = &m.config.program;
    let reply_address = program.address.with_tag(report.as_str());
    let internal_address = program.address.with_tag(&format!("{report}-internal"));
    let reporter = match s.msg.from.as_ref() {
        Some(m) => match &m.name {
            Some(name) => format!("{name} <{}>", m.address),
            None => m.address.clone(),
        },
        None => record.reporter.clone(),
    };
    let mailed = mailed_attachments(m, tx, report, &s, now)?;
    let attachments = match s.readable() {
        // Parsed again only for what is mailed: a withheld attachment's
        // bytes are never copied into the team's mail.
        Some(bytes) if mailed.contains(&true) => parse::attachment_contents_where(
            bytes,
            &ParseLimits::from_config(&m.config.limits),
            |i| mailed.get(i).copied().unwrap_or(false),
        ),
        _ => Vec::new(),
    };
    let numbers: Vec<usize> = tx
        .report_attachments(report)?
        .iter()
        .filter(|a| a.message == s.message)
        .map(|a| a.number)
        .collect();
    let subject_text = if s.msg.subject.is_empty() {
        "(no subject)"
    } else {
        s.msg.subject.as_str()
    };
    let ack_failed = tx.acknowledgement_failed(report)?;
    let help = crate::command::help(&crate::command::Scope::Report(
        crate::command::ReportFacts::of(&record, ack_failed, false),
    ));
    let deadlines = sla::deadline_lines(tx, m.config, report, now)?;
    let data = NotificationData {
        headline: format!("{headline}: {report}"),
        report_id: report.as_str(),
        state: record.state.as_str(),
        reporter,
        subject: subject_text,
        encryption: encryption_text(s.pgp),
        signature: signature_text(s.pgp),
        attachments: s
            .msg
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let line = format!(
                    "{} ({}, {})",
                    a.name.as_deref().unwrap_or("unnamed"),
                    a.content_type,
                    size(a.size)
                );
                match (mailed.get(i).copied().unwrap_or(false), numbers.get(i)) {
                    (true, _) | (false, None) => line,
                    (false, Some(n)) => format!(
                        "{line}: withheld (past the size or quota for mailing attachments to each member); write it to a file with `{}`",
                        fetch_command(report, *n)
                    ),
                }
            })
            .collect(),
        problems: s.problems.to_vec(),
        deadlines: deadlines.clone(),
        reply_address: &reply_address,
        internal_address: &internal_address,
        help: &help,
        text: Some(&s.msg.text),
        withheld: false,
        ack_failed,
    };
    let rec = Recorder {
        report: Some(report),
        at: now,
        actor: Actor::Daemon,
        auth: Auth::None,
        message: Some(s.message),
    };
    let rendered = m.bodies(
        "notification",
        &data,
        headline,
        Some(report),
        Some(record.state.as_str()),
        deadlines,
    );
    let (body, metadata) = match rendered {
        Ok(bodies) => bodies,
        Err(err) => {
            tracing::warn!(report = %report, stored = s.message, error = %err, "cannot render the team notification");
            rec.record(
                tx,
                EventKind::TeamNotificationFailed,
                json!({ "reason": err.to_string() }),
            )?;
            return Ok(());
        }
    };
    let mail = TeamMail {
        subject: format!("[{report}] {headline}: {subject_text}"),
        body,
        secret: true,
        metadata: Some(metadata),
        attachments: &attachments,
        reply_to: Some(internal_address.clone()),
        from_name: m.own_name(),
        references: Vec::new(),
        auto_submitted: Some("auto-generated"),
    };
    let to = ToTeam {
        report: Some(report),
        kind: "notification",
        except: None,
        message: s.message,
    };
    m.send_to_team(tx, &to, &mail, now)
}

/// A reporter (or another outside participant) wrote again: record the
/// reporter's `Credit:` answer and end a `#waiting` pause. Telling the team is
/// the caller's, as a flood limit may hold that back.
pub(super) fn reporter_wrote(
    tx: &Tx<'_>,
    report: &ReportId,
    s: Stored<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let sender = s.msg.from.as_ref().map(|m| m.address.as_str());
    let is_reporter = match sender {
        Some(address) => tx.participant_role(report, address)?.as_deref() == Some("reporter"),
        None => false,
    };
    let actor = sender.unwrap_or("unknown");
    let rec = Recorder {
        report: Some(report),
        at: now,
        actor: Actor::Named(actor),
        auth: Auth::None,
        message: Some(s.message),
    };
    if is_reporter && let Some(credit) = report::credit_line(&s.msg.text) {
        tx.set_credit(report, &credit)?;
        rec.record(tx, EventKind::CreditRecorded, json!(credit))?;
    }
    if tx.report_record(report)?.is_some_and(|r| r.waiting) {
        tx.set_waiting(report, false)?;
        rec.record(
            tx,
            EventKind::WaitingEnded,
            json!({ "reason": "the reporter wrote" }),
        )?;
    }
    Ok(())
}

/// A bounce that came back to the return path of `returned`, one of our
/// mails: recorded on `report` (the returned mail's), and the team sees a
/// delivery problem. The notice names the returned mail and quotes only the
/// bounce's delivery-status fields; a bounce of such a notice is recorded
/// but not announced again (that could loop). It never counts as the
/// reporter answering.
pub(super) fn delivery_problem(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: Option<&ReportId>,
    s: Stored<'_>,
    returned: &SentMail,
    now: Timestamp,
) -> Result<(), StoreError> {
    let statuses = s.raw.map(bounce::delivery_status).unwrap_or_default();
    let from = s
        .msg
        .from
        .as_ref()
        .map_or("(no sender)", |m| m.address.as_str());
    tx.append_event(&NewEvent {
        report_id: report,
        at: now,
        actor: Actor::Named(from),
        auth: Auth::None,
        kind: EventKind::DeliveryProblem,
        detail: json!({
            "returned": returned.message_id,
            "returned_kind": returned.kind,
            "recipients": returned.recipients,
            "status": statuses,
        }),
        message: Some(s.message),
    })?;
    let announced = [DELIVERY_PROBLEM, crate::respond::DELIVERY_FAILED];
    if m.config.team.members.is_empty() || announced.contains(&returned.kind.as_str()) {
        return Ok(());
    }
    let headline = "Delivery problem: a mail came back undeliverable";
    let state = match report {
        Some(id) => tx.report_record(id)?.map(|r| r.state),
        None => None,
    };
    let deadlines = match report {
        Some(id) => sla::deadline_lines(tx, m.config, id, now)?,
        None => Vec::new(),
    };
    let data = DeliveryProblemData {
        report_id: report.map(ReportId::as_str),
        kind: &returned.kind,
        message_id: &returned.message_id,
        recipients: returned.recipients.join(", "),
        statuses: statuses.iter().map(RecipientStatus::lines).collect(),
    };
    let state = state.map(|s| s.as_str());
    let bodies = match m.bodies(
        "delivery-problem",
        &data,
        headline,
        report,
        state,
        deadlines,
    ) {
        Ok(rendered) => rendered,
        Err(err) => {
            tracing::warn!(error = %err, "cannot render the delivery-problem notice");
            tx.append_event(&NewEvent {
                report_id: report,
                at: now,
                actor: Actor::Daemon,
                auth: Auth::None,
                kind: EventKind::TeamMailFailed,
                detail: json!({ "kind": DELIVERY_PROBLEM, "reason": err.to_string() }),
                message: Some(s.message),
            })?;
            return Ok(());
        }
    };
    let mail = m.notice(report, headline, bodies);
    let to = ToTeam {
        report,
        kind: DELIVERY_PROBLEM,
        except: None,
        message: s.message,
    };
    m.send_to_team(tx, &to, &mail, now)
}

/// The outbox kind of the team's notice of a bounce.
pub(super) const DELIVERY_PROBLEM: &str = "delivery-problem";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Signed;

    fn valid() -> Signature {
        Signature::Valid {
            signer: "ABCD".into(),
            from_matches: true,
            created: None,
            digest: "00".into(),
        }
    }

    fn limits() -> crate::config::Limits {
        crate::config::Limits {
            max_mailed_attachment_size: 10,
            max_report_attachment_bytes: 25,
            ..crate::config::Limits::default()
        }
    }

    #[test]
    fn attachments_under_the_quotas_are_mailed() {
        assert_eq!(mailed_by_size(&[5, 10, 10], &limits(), 0, false), [true; 3]);
    }

    #[test]
    fn an_attachment_over_the_mailed_size_is_withheld_alone() {
        assert_eq!(
            mailed_by_size(&[5, 11, 3], &limits(), 0, false),
            [true, false, true]
        );
    }

    #[test]
    fn past_the_report_quota_attachments_are_withheld() {
        // The report already holds 20 bytes: 5 more fit, then nothing.
        assert_eq!(
            mailed_by_size(&[5, 1, 1], &limits(), 20, false),
            [true, false, false]
        );
        assert_eq!(mailed_by_size(&[1], &limits(), u64::MAX, false), [false]);
    }

    #[test]
    fn past_the_sender_quota_no_attachment_is_mailed() {
        assert_eq!(mailed_by_size(&[1, 1], &limits(), 0, true), [false, false]);
    }

    #[test]
    fn a_partly_signed_mail_does_not_read_as_signed() {
        let mut opened = Opened::plain();
        opened.signature = valid();
        opened.signed = Some(Signed {
            signature: valid(),
            entity: Vec::new(),
            unsigned_rest: false,
        });
        let whole = signature_text(Some(&opened));
        assert!(whole.starts_with("valid, by ABCD"), "{whole}");
        assert!(!whole.contains("ONLY PART"), "{whole}");
        if let Some(signed) = opened.signed.as_mut() {
            signed.unsigned_rest = true;
        }
        let part = signature_text(Some(&opened));
        assert!(part.contains("ONLY PART"), "{part}");
    }
}
