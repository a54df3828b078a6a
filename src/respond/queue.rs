//! Queueing composed mail in the caller's transaction: protect it for its
//! recipient, write the outbox row, and record what went where. Every stage
//! that answers (ingest, the team stage, key confirmation) queues through here,
//! so an outbox row and its event are always written together.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;

use super::compose::{ComposeError, metadata_notice};
use super::protect::{self, Protection};
use super::team::{self, TeamMail};
use super::{Outgoing, Templates, held};
use crate::audit::{Actor, Auth, EventKind};
use crate::config::{Address, Config, Limits};
use crate::crypto::Crypto;
use crate::report::ReportId;
use crate::store::{NewEvent, NewMail, Recorder, StoreError, Tx};

/// What composing, sealing and queueing mail needs: the configuration (the
/// program's address, the team, the limits), the templates, and the keys.
#[derive(Debug, Clone, Copy)]
pub struct Mailer<'a> {
    pub config: &'a Config,
    pub templates: &'a Templates,
    pub crypto: &'a Crypto,
}

/// The facts of one outbox row beside its mail.
#[derive(Debug, Clone, Copy)]
pub struct Enqueue<'a> {
    pub report: Option<&'a ReportId>,
    /// The outbox kind, e.g. `acknowledgement` or `relay-copy`.
    pub kind: &'a str,
    /// Counts against this sender's automatic replies.
    pub rate_key: Option<&'a str>,
    /// Held until a proven key of the recipient is known.
    pub held: bool,
}

/// Queues `mail` (already protected) as the outbox row `row` describes.
pub fn enqueue(
    tx: &Tx<'_>,
    mail: &Outgoing,
    row: Enqueue<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.enqueue(
        &NewMail {
            rate_key: row.rate_key,
            held: row.held,
            ..mail.to_queue(row.report, row.kind)
        },
        now,
    )?;
    Ok(())
}

/// How many automatic mails counted against `rate_key` were queued within
/// `[limits] auto_reply_window` before `now`.
pub fn automatic_replies_in_window(
    tx: &Tx<'_>,
    limits: &Limits,
    rate_key: &str,
    now: Timestamp,
) -> Result<u32, StoreError> {
    tx.auto_replies_since(rate_key, window_start(now, limits.auto_reply_window))
}

/// Where a rate-limit window that ends at `now` starts (the beginning of time
/// for a window longer than time so far).
pub fn window_start(now: Timestamp, window: std::time::Duration) -> Timestamp {
    SignedDuration::try_from(window)
        .ok()
        .and_then(|w| now.checked_sub(w).ok())
        .unwrap_or(Timestamp::MIN)
}

/// The flood counter of automatic replies to anyone.
const ALL_REPLIES: &str = "reply:*";

/// An automatic reply held back by a rate limit, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRefusal {
    pub reason: &'static str,
    pub sent_in_window: u64,
    pub limit: u32,
}

/// Why an automatic reply to the outsider `address` may not go out now, if it
/// may not: their mailbox ([`crate::thread::mailbox`]) had its share within
/// `auto_reply_window`, or all senders together had theirs. Each queued reply
/// is counted by [`count_reply`].
pub fn reply_refused(
    tx: &Tx<'_>,
    limits: &Limits,
    address: &str,
    now: Timestamp,
) -> Result<Option<ReplyRefusal>, StoreError> {
    let sent = automatic_replies_in_window(tx, limits, &crate::thread::mailbox(address), now)?;
    if !crate::thread::within_rate_limit(sent, limits.auto_replies_per_sender) {
        return Ok(Some(ReplyRefusal {
            reason: "rate limit",
            sent_in_window: u64::from(sent),
            limit: limits.auto_replies_per_sender,
        }));
    }
    let all = tx.rate_since(ALL_REPLIES, window_start(now, limits.auto_reply_window))?;
    if all >= u64::from(limits.auto_replies_total) {
        return Ok(Some(ReplyRefusal {
            reason: "global rate limit",
            sent_in_window: all,
            limit: limits.auto_replies_total,
        }));
    }
    Ok(None)
}

/// Counts an automatic reply queued for an outsider toward the global limit.
pub fn count_reply(tx: &Tx<'_>, now: Timestamp) -> Result<(), StoreError> {
    tx.count_rate(ALL_REPLIES, now)
}

/// A mail to a reporter: what it is, and who caused it (for its events).
#[derive(Debug, Clone, Copy)]
pub struct ToReporter<'a> {
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

/// A mail to the team: which members, and what caused it.
#[derive(Debug, Clone, Copy)]
pub struct ToTeam<'a> {
    pub report: Option<&'a ReportId>,
    pub kind: &'static str,
    /// The member who wrote what the mail passes on; they get no copy.
    pub except: Option<&'a Address>,
    pub message: i64,
}

/// A mail to one member: who, and what caused it.
#[derive(Debug, Clone, Copy)]
pub struct ToMember<'a> {
    pub report: Option<&'a ReportId>,
    pub kind: &'static str,
    pub member: &'a Address,
    /// Counts against this key's automatic replies.
    pub rate_key: Option<&'a str>,
    pub message: i64,
}

/// `headline` as the subject of mail about `report`: tagged with its id.
pub fn tagged(report: Option<&ReportId>, headline: &str) -> String {
    match report {
        Some(id) => format!("[{id}] {headline}"),
        None => headline.to_owned(),
    }
}

/// The display name of the daemon's own mail, e.g. "Example security disclosed".
pub fn own_name(config: &Config) -> String {
    format!("{} disclosed", config.program.name)
}

/// The daemon's notice to members about `report` (or none), headed
/// `headline`: a member without a key gets `metadata` instead of `body`, and
/// answers go to the report's internal address. It follows no mail and is
/// `auto-generated`; callers change what differs.
pub fn notice(
    config: &Config,
    report: Option<&ReportId>,
    headline: &str,
    (body, metadata): (String, (String, String)),
) -> TeamMail<'static> {
    let program = &config.program;
    TeamMail {
        subject: tagged(report, headline),
        body,
        secret: true,
        metadata: Some(metadata),
        attachments: &[],
        reply_to: report.map(|id| program.address.with_tag(&format!("{id}-internal"))),
        from_name: own_name(config),
        references: Vec::new(),
        auto_submitted: Some("auto-generated"),
    }
}

/// Queues the daemon's `mail` for every member as `kind` about `report`,
/// recording no event. How many members it went to, or why it could not be
/// sealed, for the caller to log: what it tells of is recorded either way.
pub fn to_members(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    mail: &TeamMail<'_>,
    report: Option<&ReportId>,
    kind: &str,
    now: Timestamp,
) -> Result<Result<usize, team::TeamMailError>, StoreError> {
    match team::to_members(config, crypto, mail, None, now) {
        Ok((mails, _)) => {
            for m in &mails {
                tx.enqueue(&m.mail.to_queue(report, kind), now)?;
            }
            Ok(Ok(mails.len()))
        }
        Err(err) => Ok(Err(err)),
    }
}

/// Queues the daemon's mail about itself (an alert, a warning) to every
/// member as `kind`: it holds nothing of any report, so a member without a
/// key gets it as it is and one with a key gets it encrypted. How many
/// members it went to, or why it could not be composed, for the caller to
/// log (and to record the condition all the same: a mail that cannot be
/// composed now would fail on every tick).
pub fn to_members_about_itself(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    (subject, body): (String, String),
    kind: &str,
    now: Timestamp,
) -> Result<Result<usize, team::TeamMailError>, StoreError> {
    let mail = TeamMail {
        subject,
        body,
        secret: false,
        metadata: None,
        attachments: &[],
        reply_to: None,
        from_name: own_name(config),
        references: Vec::new(),
        auto_submitted: Some("auto-generated"),
    };
    to_members(tx, config, crypto, &mail, None, kind, now)
}

impl Mailer<'_> {
    /// The display name of the daemon's own mail, e.g. "Example security disclosed".
    pub fn own_name(&self) -> String {
        own_name(self.config)
    }

    /// The bodies of a notice to members: `template` rendered with `data` for
    /// members with a key, and the metadata notice (`headline`, the report's
    /// id, `state` and `deadlines`) for those without one.
    pub fn bodies(
        &self,
        template: &'static str,
        data: &impl Serialize,
        headline: &str,
        report: Option<&ReportId>,
        state: Option<&str>,
        deadlines: Vec<String>,
    ) -> Result<(String, (String, String)), ComposeError> {
        let body = self.templates.render(template, data)?;
        let metadata = metadata_notice(self.templates, headline, report, state, deadlines)?;
        Ok((body, metadata))
    }

    /// The daemon's notice to members: see [`notice`].
    pub fn notice(
        &self,
        report: Option<&ReportId>,
        headline: &str,
        bodies: (String, (String, String)),
    ) -> TeamMail<'static> {
        notice(self.config, report, headline, bodies)
    }

    /// The daemon's answer to one member about a mail of theirs, holding
    /// nothing of any report: it goes in clear to a member without a key,
    /// and carries no reply address.
    pub fn plain_answer(
        &self,
        report: Option<&ReportId>,
        headline: &str,
        body: String,
        references: Vec<String>,
    ) -> TeamMail<'static> {
        TeamMail {
            subject: tagged(report, headline),
            body,
            secret: false,
            metadata: None,
            attachments: &[],
            reply_to: None,
            from_name: self.own_name(),
            references,
            auto_submitted: Some("auto-replied"),
        }
    }

    /// Protects `mail` for the reporter (encrypted to their key, held until one
    /// is known, or signed) and queues it: the protection and the Message-ID,
    /// or `None` if it could not be sealed (recorded as `{kind}-failed`).
    pub fn to_reporter(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        mail: Outgoing,
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
        let keys = held::reporter_keys(tx, self.crypto, r.to, wrote_encrypted && !r.content_free)?;
        let protected = match protect::protect(
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
                tracing::warn!(report = %report, stored = r.message, kind = r.kind, error = %err, "cannot seal mail to the reporter");
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
        let sealed = Outgoing {
            raw: protected.raw,
            ..mail
        };
        let row = Enqueue {
            report: Some(report),
            kind: r.kind,
            rate_key: r.rate_key,
            held,
        };
        enqueue(tx, &sealed, row, now)?;
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

    /// Queues `mail` for every member but `to.except`, and records who got what.
    pub fn send_to_team(
        &self,
        tx: &Tx<'_>,
        to: &ToTeam<'_>,
        mail: &TeamMail<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let rec = Recorder {
            report: to.report,
            at: now,
            actor: Actor::Daemon,
            auth: Auth::None,
            message: Some(to.message),
        };
        let kind = to.kind;
        match team::to_members(self.config, self.crypto, mail, to.except, now) {
            Ok((mails, skipped)) => {
                let mut sent = Vec::new();
                for m in &mails {
                    let row = Enqueue {
                        report: to.report,
                        kind,
                        rate_key: None,
                        held: false,
                    };
                    enqueue(tx, &m.mail, row, now)?;
                    sent.push(
                        json!({ "to": m.member.to_string(), "message_id": m.mail.message_id,
                                      "protection": m.protection.as_str() }),
                    );
                }
                let skipped: Vec<String> = skipped.iter().map(ToString::to_string).collect();
                rec.record(
                    tx,
                    EventKind::TeamMailQueued,
                    json!({ "kind": kind, "sent": sent, "skipped_no_key": skipped }),
                )?;
            }
            Err(err) => {
                tracing::warn!(kind, error = %err, "cannot compose mail to the team");
                rec.record(
                    tx,
                    EventKind::TeamMailFailed,
                    json!({ "kind": kind, "reason": err.to_string() }),
                )?;
            }
        }
        Ok(())
    }

    /// Queues `mail` for one member.
    pub fn send_to_member(
        &self,
        tx: &Tx<'_>,
        to: &ToMember<'_>,
        mail: &TeamMail<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let kind = to.kind;
        match team::to_member(self.config, self.crypto, mail, to.member, now) {
            Ok(Some(m)) => {
                let row = Enqueue {
                    report: to.report,
                    kind,
                    rate_key: to.rate_key,
                    held: false,
                };
                enqueue(tx, &m.mail, row, now)?;
                tx.append_event(&NewEvent {
                    report_id: to.report,
                    at: now,
                    actor: Actor::Daemon,
                    auth: Auth::None,
                    kind: EventKind::TeamMailQueued,
                    detail: json!({ "kind": kind, "sent": [{ "to": to.member.to_string(), "message_id": m.mail.message_id,
                                     "protection": m.protection.as_str() }] }),
                    message: Some(to.message),
                })?;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(kind, error = %err, "cannot compose mail to a member");
            }
        }
        Ok(())
    }
}
