//! The SLA clock's tick: at a given time, queue the reminders, escalations and
//! the digest that are due and not yet sent. Each notice is remembered in the
//! transaction that queues its mail and logs its event, so a repeated tick, a
//! restart or a crash between ticks never sends one twice.

use jiff::{Timestamp, ToSpan};
use serde::Serialize;
use serde_json::json;

use super::deadlines::{Deadline, Status};
use super::{Calendar, ReportSla, calendar, survey, text};
use crate::config::{Address, Config};
use crate::crypto::Crypto;
use crate::report::ReportId;
use crate::respond::team::{self, MemberMail, TeamMail};
use crate::store::{NewEvent, NoticeKind, Store, StoreError, Tx};

/// A scheduled digest that could not go out on time is still sent this long
/// after; an older one is skipped rather than sent days late.
const DIGEST_GRACE_HOURS: i64 = 24;

/// What one tick queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TickOutcome {
    pub reminders: usize,
    pub escalations: usize,
    pub digests: usize,
}

impl TickOutcome {
    pub fn queued_anything(&self) -> bool {
        self.reminders + self.escalations + self.digests > 0
    }
}

/// Queues what is due at `now`.
pub fn tick(
    store: &mut Store,
    config: &Config,
    crypto: &Crypto,
    now: Timestamp,
) -> Result<TickOutcome, StoreError> {
    store.write(|batch| {
        let tx = batch.tx();
        let reports = survey(&tx, config, None, now)?;
        let sender = Sender {
            config,
            crypto,
            cal: calendar(config),
            now,
        };
        let mut out = TickOutcome::default();
        for r in reports.iter().filter(|r| r.record.state.is_open()) {
            for d in r.pending() {
                let Some(due) = d.due else { continue };
                let kind = match d.status {
                    Status::Running if sender.cal.within(now, due, &config.sla.remind_before) => {
                        NoticeKind::Reminder
                    }
                    Status::Breached => NoticeKind::Escalation,
                    _ => continue,
                };
                if !tx.record_notice(Some(&r.record.id), d.kind.as_str(), due, kind, now)? {
                    continue;
                }
                if kind == NoticeKind::Reminder {
                    sender.reminder(&tx, r, d)?;
                    out.reminders += 1;
                } else {
                    sender.escalation(&tx, r, d)?;
                    out.escalations += 1;
                }
            }
        }
        if let Some(scheduled) = last_digest_time(config, now)
            && now.as_second() - scheduled.as_second() < DIGEST_GRACE_HOURS * 3600
            && tx.record_notice(None, "digest", scheduled, NoticeKind::Digest, now)?
        {
            sender.digest(&tx, &reports)?;
            out.digests += 1;
        }
        Ok(out)
    })
}

/// The latest scheduled digest time at or before `now`, if digests are on.
pub fn last_digest_time(config: &Config, now: Timestamp) -> Option<Timestamp> {
    let (weekday, time) = config.sla.digest?;
    let local = now.to_zoned_datetime(config.program.timezone.clone());
    let back = i64::from(local.weekday().since(weekday));
    let mut date = local.date().checked_sub(back.days()).ok()?;
    loop {
        let at = date
            .to_datetime(time)
            .to_zoned_datetime(config.program.timezone.clone())
            .ok()?
            .timestamp();
        if at <= now {
            return Some(at);
        }
        date = date.checked_sub(7.days()).ok()?;
    }
}

/// Renders and queues the tick's mail, each with its event.
struct Sender<'a> {
    config: &'a Config,
    crypto: &'a Crypto,
    cal: Calendar,
    now: Timestamp,
}

impl Sender<'_> {
    fn mail<'m>(&self, subject: String, body: String, secret: bool) -> TeamMail<'m> {
        TeamMail {
            subject,
            body,
            secret,
            metadata: None,
            attachments: &[],
            reply_to: None,
            from_name: format!("{} disclosed", self.config.program.name),
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
        }
    }

    fn reminder(&self, tx: &Tx<'_>, r: &ReportSla, d: &Deadline) -> Result<(), StoreError> {
        let ((subject, body), metadata) = text::reminder(r, d, &self.cal, self.now);
        let mail = TeamMail {
            metadata: Some(metadata),
            reply_to: Some(
                self.config
                    .program
                    .address
                    .with_tag(&format!("{}-internal", r.record.id)),
            ),
            ..self.mail(subject, body, true)
        };
        let rendered = team::to_members(self.config, self.crypto, &mail, None, self.now)
            .map(|(mails, _)| mails);
        self.queue(tx, Some(&r.record.id), "sla-reminder", rendered, d)
    }

    /// To `escalate_to`, else to the team.
    fn escalation(&self, tx: &Tx<'_>, r: &ReportSla, d: &Deadline) -> Result<(), StoreError> {
        let (subject, body) = text::escalation(r, d, &self.cal, self.now);
        let mail = self.mail(subject, body, false);
        let target = self
            .config
            .sla
            .escalate_to
            .as_deref()
            .and_then(Address::parse);
        let rendered = match &target {
            Some(address) => team::to_address(self.config, self.crypto, &mail, address, self.now)
                .map(|m| m.into_iter().collect()),
            None => team::to_members(self.config, self.crypto, &mail, None, self.now)
                .map(|(mails, _)| mails),
        };
        self.queue(tx, Some(&r.record.id), "sla-escalation", rendered, d)
    }

    fn digest(&self, tx: &Tx<'_>, reports: &[ReportSla]) -> Result<(), StoreError> {
        let local = self.cal.zoned(self.now);
        let subject = format!(
            "{} security reports: digest for {}",
            self.config.program.name,
            local.strftime("%a %Y-%m-%d")
        );
        let body = text::digest(reports, &self.cal, self.now);
        let metadata = (
            subject.clone(),
            "The weekly digest is sent encrypted, and no key of yours is configured.\n\
             Ask the team to add one, or send #digest to the control address.\n"
                .to_owned(),
        );
        let mail = TeamMail {
            metadata: Some(metadata),
            reply_to: Some(self.config.program.address.with_tag("control")),
            ..self.mail(subject, body, true)
        };
        let rendered = team::to_members(self.config, self.crypto, &mail, None, self.now)
            .map(|(mails, _)| mails);
        let sent = self.enqueue_all(tx, None, "sla-digest", rendered)?;
        if let Some(sent) = sent {
            tracing::info!(recipients = sent.len(), "SLA digest queued");
        }
        Ok(())
    }

    fn queue(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &'static str,
        rendered: Result<Vec<MemberMail>, team::TeamMailError>,
        d: &Deadline,
    ) -> Result<(), StoreError> {
        let sent = self.enqueue_all(tx, report, kind, rendered)?;
        tracing::info!(
            report = report.map(ReportId::as_str),
            deadline = d.kind.as_str(),
            kind,
            recipients = sent.as_ref().map_or(0, Vec::len),
            "SLA notice queued"
        );
        let detail = json!({
            "deadline": d.kind.as_str(),
            "due": d.due.map(|t| t.to_string()),
            "sent_to": sent,
        });
        tx.append_event(&NewEvent {
            report_id: report,
            at: self.now,
            actor: "disclosed",
            auth: "none",
            kind,
            detail,
            message: None,
        })?;
        Ok(())
    }

    /// Queues each rendered mail; `None` (and a warning) if none could be
    /// rendered, so the notice is recorded without mail rather than retried
    /// on every tick.
    fn enqueue_all(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &str,
        rendered: Result<Vec<MemberMail>, team::TeamMailError>,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mails = match rendered {
            Ok(mails) => mails,
            Err(err) => {
                tracing::warn!(kind, error = %err, "cannot compose the SLA mail");
                return Ok(None);
            }
        };
        let mut sent = Vec::new();
        for m in &mails {
            tx.enqueue(&m.mail.to_queue(report, kind), self.now)?;
            sent.push(m.member.to_string());
        }
        Ok(Some(sent))
    }
}
