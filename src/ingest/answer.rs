//! Answers to the reporter of a new report: the triage rule's changes, the
//! acknowledgement (or the rule's template, or the notice that we could not
//! read it), protected for the reporter and queued within the rate limit of
//! automatic mail.

use jiff::Timestamp;
use serde_json::json;

use super::{Pipeline, plan};
use crate::audit::{Actor, Auth, EventKind};
use crate::parse::ParsedMessage;
use crate::report::ReportId;
use crate::respond::protect::Protection;
use crate::respond::{self, compose::Original};
use crate::store::{NewEvent, NewMail, Recorder, StoreError, Tx};
use crate::thread;

impl Pipeline<'_> {
    /// Queues `mail` (already protected).
    #[expect(clippy::too_many_arguments, reason = "the outbox row's facts")]
    pub(super) fn enqueue(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &str,
        mail: &respond::Outgoing,
        rate_key: Option<&str>,
        held: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        tx.enqueue(
            &NewMail {
                rate_key,
                held,
                ..mail.to_queue(report, kind)
            },
            now,
        )?;
        Ok(())
    }

    /// Applies a matched triage rule: its state and tags, and the event.
    pub(super) fn apply_rule(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        rule: &crate::triage::Rule,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(state) = rule.state() {
            tx.set_state(report, state, now)?;
        }
        tx.add_tags(report, rule.tags())?;
        tx.append_event(&NewEvent {
            report_id: Some(report),
            at: now,
            actor: Actor::Daemon,
            auth: Auth::None,
            kind: EventKind::RuleApplied,
            detail: json!({ "rule": rule.name(), "state": rule.state().map(|s| s.as_str()),
                            "tags": rule.tags(), "reply": rule.reply() }),
            message: Some(message),
        })?;
        Ok(())
    }

    /// Queues the answer to a new report, unless the sender's automatic
    /// replies are used up: encrypted to the reporter's key when one is
    /// known, held when they wrote encrypted and none is. An unreadable report
    /// is answered with only that; a triage rule's template replaces the
    /// acknowledgement when the plan says so.
    pub(super) fn acknowledge(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        msg: &ParsedMessage,
        answer: plan::Answer<'_>,
        message: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let Some(from) = &msg.from else {
            return Ok(false);
        };
        let limits = &self.config.limits;
        let sent = self.automatic_replies_in_window(tx, &from.address, now)?;
        let rec = Recorder {
            report: Some(report),
            at: now,
            actor: Actor::Daemon,
            auth: Auth::None,
            message: Some(message),
        };
        if !thread::within_rate_limit(sent, limits.auto_replies_per_sender) {
            rec.record(
                tx,
                EventKind::AcknowledgementSkipped,
                json!({ "reason": "rate limit", "sent_in_window": sent, "limit": limits.auto_replies_per_sender }),
            )?;
            return Ok(false);
        }
        let original = Original {
            report,
            reporter: &from.address,
            reporter_name: from.name.as_deref(),
            subject: &msg.subject,
            message_id: msg.message_id.as_deref(),
            references: &msg.references,
        };
        let team = self.crypto.team.as_deref();
        let unreadable = match answer {
            plan::Answer::Undecryptable(why) => Some(why),
            plan::Answer::Acknowledgement | plan::Answer::Rule { .. } => None,
        };
        let composed = match (answer, team) {
            (plan::Answer::Rule { template, rule }, _) => respond::compose::reporter_reply(
                self.config,
                self.templates,
                template,
                original,
                Some(rule),
                now,
            ),
            (plan::Answer::Undecryptable(why), Some(team)) => {
                respond::undecryptable_acknowledgement(
                    self.config,
                    self.templates,
                    original,
                    why,
                    &team.current().fingerprint().to_hex(),
                    now,
                )
            }
            // Without a team key there is no key to point the reporter to.
            (plan::Answer::Undecryptable(_) | plan::Answer::Acknowledgement, _) => {
                respond::acknowledgement(self.config, self.templates, original, now)
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
        let sent = self.to_reporter(
            tx,
            report,
            mail,
            &ToReporter {
                kind: "acknowledgement",
                to: &from.address,
                rate_key: Some(&from.address),
                content_free: unreadable.is_some(),
                actor: Actor::Daemon,
                auth: Auth::None,
                message,
            },
            now,
        )?;
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

    /// How many automatic mails counted against `rate_key` were queued within
    /// `[limits] auto_reply_window` before `now`.
    pub(super) fn automatic_replies_in_window(
        &self,
        tx: &Tx<'_>,
        rate_key: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let window = jiff::SignedDuration::try_from(self.config.limits.auto_reply_window)
            .unwrap_or(jiff::SignedDuration::MAX);
        let since = now.checked_sub(window).unwrap_or(Timestamp::MIN);
        tx.auto_replies_since(rate_key, since)
    }

    /// Protects `mail` for the reporter (encrypted to their key, held until one
    /// is known, or signed) and queues it: the protection and the Message-ID,
    /// or `None` if it could not be sealed (recorded as `{kind}-failed`).
    pub(super) fn to_reporter(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        mail: respond::Outgoing,
        r: &ToReporter<'_>,
        now: Timestamp,
    ) -> Result<Option<(Protection, String)>, StoreError> {
        let rec = Recorder {
            report: Some(report),
            at: now,
            actor: r.actor,
            auth: r.auth,
            message: Some(r.message),
        };
        let wrote_encrypted = tx.wrote_encrypted(r.to)?;
        let keys = self.reporter_keys(tx, r.to, wrote_encrypted && !r.content_free)?;
        let protected = match respond::protect::protect(
            mail.raw.clone(),
            &keys,
            wrote_encrypted,
            r.content_free,
            self.crypto.team.as_deref(),
            &self.config.program.address.to_string(),
            now,
        ) {
            Ok(p) => p,
            Err(err) => {
                tracing::warn!(report = %report, kind = r.kind, error = %err, "cannot seal mail to the reporter");
                let failed = if r.kind == "acknowledgement" {
                    EventKind::AcknowledgementFailed
                } else {
                    EventKind::ReporterMailFailed
                };
                rec.record(
                    tx,
                    failed,
                    json!({ "kind": r.kind, "reason": format!("cannot seal it: {err}") }),
                )?;
                return Ok(None);
            }
        };
        let held = protected.protection == Protection::Hold;
        let sealed = respond::Outgoing {
            raw: protected.raw,
            ..mail
        };
        self.enqueue(tx, Some(report), r.kind, &sealed, r.rate_key, held, now)?;
        if held {
            rec.record(
                tx,
                EventKind::ReplyHeld,
                json!({ "kind": r.kind, "message_id": sealed.message_id, "to": r.to, "status": "needs-key",
                        "reason": "the reporter wrote encrypted and no proven key of theirs is known" }),
            )?;
            self.request_confirmations(tx, Some(report), r.to, &[], r.message, now)?;
        }
        Ok(Some((protected.protection, sealed.message_id)))
    }
}

/// A mail to a reporter: what it is, and who caused it (for its events).
pub(super) struct ToReporter<'a> {
    pub kind: &'static str,
    pub to: &'a str,
    /// Counts against the sender's automatic replies.
    pub rate_key: Option<&'a str>,
    /// It holds nothing of the reporter's message, so it may go signed only
    /// even when they wrote encrypted.
    pub content_free: bool,
    pub actor: Actor<'a>,
    pub auth: Auth,
    pub message: i64,
}
