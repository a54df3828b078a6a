//! Reporter mail reaches the team: the notification of a new report or a
//! follow-up (one encrypted mail per member), the reporter's `Credit:` answer,
//! the end of a `#waiting` pause, and bounces shown as delivery problems.

use jiff::Timestamp;
use serde_json::json;

use super::Pipeline;
use crate::crypto::{Encryption, Opened, Signature};
use crate::parse::{self, ParseLimits, ParsedMessage};
use crate::report::{self, ReportId};
use crate::respond::team::{self, TeamMail};
use crate::respond::templates::NotificationData;
use crate::sla;
use crate::store::{NewEvent, StoreError, Tx};

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
    match pgp.map(|o| &o.signature) {
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
    }
}

fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

impl Pipeline<'_> {
    /// Sends the team the reporter's message `s` of `report`.
    pub(super) fn notify_team(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        s: Stored<'_>,
        headline: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if self.config.team.members.is_empty() {
            return Ok(());
        }
        let Some(record) = tx.report_record(report)? else {
            return Ok(());
        };
        let program = &self.config.program;
        let reply_address = program.address.with_tag(report.as_str());
        let internal_address = program.address.with_tag(&format!("{report}-internal"));
        let reporter = match s.msg.from.as_ref() {
            Some(m) => match &m.name {
                Some(name) => format!("{name} <{}>", m.address),
                None => m.address.clone(),
            },
            None => record.reporter.clone(),
        };
        let attachments = s
            .readable()
            .map(|bytes| {
                parse::attachment_contents(bytes, &ParseLimits::from_config(&self.config.limits))
            })
            .unwrap_or_default();
        let subject_text = if s.msg.subject.is_empty() {
            "(no subject)"
        } else {
            s.msg.subject.as_str()
        };
        let help = crate::command::help(&crate::command::Scope::Report(
            crate::command::ReportFacts {
                id: record.id.clone(),
                state: record.state,
                extension_days: record.fix_extension_days,
                waiting: record.waiting,
            },
        ));
        let mut data = NotificationData {
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
                .map(|a| {
                    format!(
                        "{} ({}, {})",
                        a.name.as_deref().unwrap_or("unnamed"),
                        a.content_type,
                        size(a.size)
                    )
                })
                .collect(),
            problems: s.problems.to_vec(),
            deadlines: sla::deadline_lines(tx, self.config, report, now)?,
            reply_address: &reply_address,
            internal_address: &internal_address,
            help: &help,
            text: Some(&s.msg.text),
            withheld: false,
        };
        let event = |kind: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor: "disclosed",
            auth: "none",
            kind,
            detail,
            message: Some(s.message),
        };
        let rendered = self
            .templates
            .render("notification", &data)
            .and_then(|body| {
                data.text = None;
                data.withheld = true;
                data.attachments.clear();
                Ok((body, self.templates.render("notification", &data)?))
            });
        let (body, metadata_body) = match rendered {
            Ok(bodies) => bodies,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, "cannot render the team notification");
                tx.append_event(&event(
                    "team-notification-failed",
                    json!({ "reason": err.to_string() }),
                ))?;
                return Ok(());
            }
        };
        let mail = TeamMail {
            subject: format!("[{report}] {headline}: {subject_text}"),
            body,
            secret: true,
            metadata: Some((format!("[{report}] {headline}"), metadata_body)),
            attachments: &attachments,
            reply_to: Some(internal_address.clone()),
            from_name: format!("{} disclosed", program.name),
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
        };
        self.send_to_team(
            tx,
            Some(report),
            "notification",
            &mail,
            None,
            s.message,
            now,
        )
    }

    /// Queues `mail` for every member but `except`, and records who got what.
    #[expect(clippy::too_many_arguments, reason = "the outbox row's facts")]
    pub(super) fn send_to_team(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &'static str,
        mail: &TeamMail<'_>,
        except: Option<&crate::config::Address>,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let event = |name: &'static str, detail| NewEvent {
            report_id: report,
            at: now,
            actor: "disclosed",
            auth: "none",
            kind: name,
            detail,
            message: Some(message),
        };
        match team::to_members(self.config, self.crypto, mail, except, now) {
            Ok((mails, skipped)) => {
                let mut sent = Vec::new();
                for m in &mails {
                    self.enqueue(tx, report, kind, &m.mail, None, false, now)?;
                    sent.push(
                        json!({ "to": m.member.to_string(), "message_id": m.mail.message_id,
                                      "protection": m.protection.as_str() }),
                    );
                }
                let skipped: Vec<String> = skipped.iter().map(ToString::to_string).collect();
                tx.append_event(&event(
                    "team-mail-queued",
                    json!({ "kind": kind, "sent": sent, "skipped_no_key": skipped }),
                ))?;
            }
            Err(err) => {
                tracing::warn!(kind, error = %err, "cannot compose mail to the team");
                tx.append_event(&event(
                    "team-mail-failed",
                    json!({ "kind": kind, "reason": err.to_string() }),
                ))?;
            }
        }
        Ok(())
    }

    /// A reporter (or another outside participant) wrote again: record a
    /// `Credit:` answer, end a `#waiting` pause, and tell the team.
    pub(super) fn reporter_followup(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        s: Stored<'_>,
        is_reporter: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let actor = s
            .msg
            .from
            .as_ref()
            .map_or("unknown", |m| m.address.as_str());
        let event = |kind: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor,
            auth: "none",
            kind,
            detail,
            message: Some(s.message),
        };
        if is_reporter && let Some(credit) = report::credit_line(&s.msg.text) {
            tx.set_credit(report, &credit)?;
            tx.append_event(&event("credit-recorded", json!(credit)))?;
        }
        if tx.report_record(report)?.is_some_and(|r| r.waiting) {
            tx.set_waiting(report, false)?;
            tx.append_event(&event(
                "waiting-ended",
                json!({ "reason": "the reporter wrote" }),
            ))?;
        }
        self.notify_team(tx, report, s, "The reporter wrote again", now)
    }

    /// A bounce of our mail to the reporter: the team sees a delivery problem.
    /// It never counts as the reporter answering.
    pub(super) fn delivery_problem(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if self.config.team.members.is_empty() {
            return Ok(());
        }
        let program = &self.config.program;
        let returned = if s.msg.returned_message_ids.is_empty() {
            "(not named in the bounce)".to_owned()
        } else {
            s.msg
                .returned_message_ids
                .iter()
                .map(|id| format!("<{id}>"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let from = s
            .msg
            .from
            .as_ref()
            .map_or("(no sender)", |m| m.address.as_str());
        let head = format!(
            "A mail from {report} was returned as undeliverable.\n\n    Returned mail: {returned}\n    Bounce from:   {from}\n\n\
             The reporter may not have received it. The bounce is stored in the report:\n    disclosed report {report}\n"
        );
        // The bounce's own text can quote what we sent: only encrypted copies carry it.
        let excerpt: String = s.msg.text.chars().take(2000).collect();
        let body =
            format!("{head}\n---------- the bounce says ----------\n{excerpt}\n\n-- \ndisclosed\n");
        let mail = TeamMail {
            subject: format!("[{report}] Delivery problem: mail to the reporter bounced"),
            body,
            secret: true,
            metadata: Some((
                format!("[{report}] Delivery problem: mail to the reporter bounced"),
                format!("{head}\n-- \ndisclosed\n"),
            )),
            attachments: &[],
            reply_to: Some(program.address.with_tag(&format!("{report}-internal"))),
            from_name: format!("{} disclosed", program.name),
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
        };
        tx.append_event(&NewEvent {
            report_id: Some(report),
            at: now,
            actor: from,
            auth: "none",
            kind: "delivery-problem",
            detail: json!({ "returned": s.msg.returned_message_ids }),
            message: Some(s.message),
        })?;
        self.send_to_team(
            tx,
            Some(report),
            "delivery-problem",
            &mail,
            None,
            s.message,
            now,
        )
    }
}
