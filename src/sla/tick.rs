//! The SLA clock's tick: at a given time, queue the reminders, escalations and
//! the digest that are due and not yet sent. A tick reads, then writes:
//! [`survey_due`] finds and renders the due notices on a read snapshot, beside
//! the writer (rendering encrypts, which takes a while); [`DueNotices::record`]
//! then remembers each notice in the one write transaction that queues its mail
//! and logs its event, skipping any that another tick recorded meanwhile. So a
//! repeated tick, two ticks at once, a restart or a crash between ticks never
//! sends a notice twice.

use jiff::{Timestamp, ToSpan};
use serde::Serialize;
use serde_json::json;

use super::deadlines::{Deadline, Status};
use super::{Calendar, ReportSla, calendar, survey, text};
use crate::audit::{Actor, Auth, EventKind};
use crate::config::{Address, Config};
use crate::crypto::Crypto;
use crate::report::ReportId;
use crate::respond::team::{self, MemberMail, TeamMail};
use crate::store::{NoticeKind, Recorder, Store, StoreError, Tx};

/// A scheduled digest that could not go out on time is still sent this long
/// after; an older one is skipped rather than sent days late.
const DIGEST_GRACE_HOURS: i64 = 24;

/// What one tick queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TickOutcome {
    pub reminders: usize,
    pub escalations: usize,
    pub digests: usize,
    /// Team mails on a report's disclosure date.
    pub disclosure_days: usize,
}

impl TickOutcome {
    pub fn queued_anything(&self) -> bool {
        self.reminders + self.escalations + self.digests + self.disclosure_days > 0
    }
}

/// Queues what is due at `now`, on one connection: the survey on a snapshot,
/// then one write transaction for what it found.
pub fn tick(
    store: &mut Store,
    config: &Config,
    crypto: &Crypto,
    now: Timestamp,
) -> Result<TickOutcome, StoreError> {
    let due = store.snapshot(|tx| survey_due(tx, config, crypto, now))?;
    if due.is_empty() {
        return Ok(TickOutcome::default());
    }
    store.write(|batch| due.record(&batch.tx()))
}

/// The notices due at `now` and not recorded as of the snapshot `tx` reads,
/// each with its mail rendered. Only reads.
pub fn survey_due(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    now: Timestamp,
) -> Result<DueNotices, StoreError> {
    let reports = survey(tx, config, None, now)?;
    let sender = Sender {
        config,
        crypto,
        cal: calendar(config),
        now,
    };
    let mut notices = Vec::new();
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
            let deadline = d.kind.as_str();
            if tx.notice_recorded(Some(&r.record.id), deadline, due, kind)? {
                continue;
            }
            let mails = if kind == NoticeKind::Reminder {
                sender.reminder(r, d)
            } else {
                sender.escalation(r, d)
            };
            notices.push(DueNotice {
                report: Some(r.record.id.clone()),
                deadline,
                due,
                kind,
                mails,
            });
        }
    }
    // The disclosure date: the team gets the advisory draft, once per date.
    let days = crate::respond::bulletin::days_due(tx, config, crypto, &reports, now)?;
    if let Some(scheduled) = last_digest_time(config, now)
        && now.as_second() - scheduled.as_second() < DIGEST_GRACE_HOURS * 3600
        && !tx.notice_recorded(None, DIGEST, scheduled, NoticeKind::Digest)?
    {
        notices.push(DueNotice {
            report: None,
            deadline: DIGEST,
            due: scheduled,
            kind: NoticeKind::Digest,
            mails: sender.digest(&without_breaches_before_import(
                reports,
                &tx.historical_breaches(None)?,
            )),
        });
    }
    Ok(DueNotices { now, notices, days })
}

/// The reports as the digest shows them: without the deadlines breached
/// before their report was imported, which no mail is ever about.
fn without_breaches_before_import(
    mut reports: Vec<ReportSla>,
    historical: &[crate::store::HistoricalBreach],
) -> Vec<ReportSla> {
    if historical.is_empty() {
        return reports;
    }
    for r in &mut reports {
        let id = r.record.id.clone();
        r.deadlines
            .retain(|d| !super::breached_before_import(&id, d, historical));
    }
    reports
}

/// The deadline name a digest's notice is remembered under.
const DIGEST: &str = "digest";

/// A notice's mail, one per recipient, or why it could not be composed.
type Rendered = Result<Vec<MemberMail>, team::TeamMailError>;

/// What a survey found due, rendered and ready to queue.
#[derive(Debug)]
pub struct DueNotices {
    now: Timestamp,
    notices: Vec<DueNotice>,
    days: Vec<crate::respond::bulletin::DayDue>,
}

#[derive(Debug)]
struct DueNotice {
    /// `None` for the digest.
    report: Option<ReportId>,
    deadline: &'static str,
    /// The deadline, or the digest's scheduled time.
    due: Timestamp,
    kind: NoticeKind,
    /// An error is recorded without mail (and logged) rather than retried on
    /// every tick.
    mails: Rendered,
}

/// One mail a tick would queue, as `sla tick --dry-run` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WouldSend {
    /// `sla-reminder`, `sla-escalation`, `sla-digest` or `disclosure-day`.
    pub kind: &'static str,
    /// `None` for the digest.
    pub report: Option<ReportId>,
    /// The deadline's name (`acknowledge`, `triage`, …), `digest`, or
    /// `disclose` for the disclosure date.
    pub deadline: &'static str,
    /// When the deadline falls (the digest's scheduled time; the disclosure
    /// date's midnight is not computed, see `day`).
    pub due: Option<Timestamp>,
    /// The disclosure date, for a disclosure-day mail.
    pub day: Option<jiff::civil::Date>,
    pub recipients: Vec<String>,
    /// Why the mail could not be composed: a real tick records the notice
    /// without mail.
    pub error: Option<String>,
}

impl DueNotices {
    pub fn is_empty(&self) -> bool {
        self.notices.is_empty() && self.days.is_empty()
    }

    /// What [`DueNotices::record`] would queue, without recording anything.
    pub fn preview(&self) -> Vec<WouldSend> {
        let mut out: Vec<WouldSend> = self
            .notices
            .iter()
            .map(|n| {
                let kind = match n.kind {
                    NoticeKind::Reminder => EventKind::SlaReminder,
                    NoticeKind::Escalation => EventKind::SlaEscalation,
                    NoticeKind::Digest => EventKind::SlaDigest,
                };
                let (recipients, error) = match &n.mails {
                    Ok(mails) => (mails.iter().map(|m| m.member.to_string()).collect(), None),
                    Err(err) => (Vec::new(), Some(err.to_string())),
                };
                WouldSend {
                    kind: kind.as_str(),
                    report: n.report.clone(),
                    deadline: n.deadline,
                    due: Some(n.due),
                    day: None,
                    recipients,
                    error,
                }
            })
            .collect();
        for d in &self.days {
            let (recipients, error) = match d.recipients() {
                Ok(to) => (to, None),
                Err(err) => (Vec::new(), Some(err)),
            };
            out.push(WouldSend {
                kind: crate::respond::bulletin::DISCLOSURE_DAY,
                report: Some(d.report().clone()),
                deadline: "disclose",
                due: None,
                day: Some(d.day()),
                recipients,
                error,
            });
        }
        out
    }

    /// Records each notice and queues its mail and event, in the caller's write
    /// transaction. The survey read a snapshot that another tick may have acted
    /// on since; a notice already recorded is skipped here, mail and all, and
    /// this check inside the transaction is what keeps it from going out twice.
    pub fn record(self, tx: &Tx<'_>) -> Result<TickOutcome, StoreError> {
        let now = self.now;
        let mut out = TickOutcome {
            disclosure_days: crate::respond::bulletin::record_days(tx, self.days, now)?,
            ..TickOutcome::default()
        };
        for n in self.notices {
            if !tx.record_notice(n.report.as_ref(), n.deadline, n.due, n.kind, now)? {
                continue;
            }
            let kind = match n.kind {
                NoticeKind::Reminder => EventKind::SlaReminder,
                NoticeKind::Escalation => EventKind::SlaEscalation,
                NoticeKind::Digest => EventKind::SlaDigest,
            };
            let report = n.report.as_ref();
            // The outbox row is of the same kind as the event.
            let sent = enqueue_all(tx, report, kind.as_str(), n.mails, now)?;
            match n.kind {
                NoticeKind::Digest => {
                    if let Some(sent) = sent {
                        tracing::info!(recipients = sent.len(), "SLA digest queued");
                    }
                    out.digests += 1;
                    continue;
                }
                NoticeKind::Reminder => out.reminders += 1,
                NoticeKind::Escalation => out.escalations += 1,
            }
            tracing::info!(
                report = report.map(ReportId::as_str),
                deadline = n.deadline,
                kind = kind.as_str(),
                recipients = sent.as_ref().map_or(0, Vec::len),
                "SLA notice queued"
            );
            let detail = json!({
                "deadline": n.deadline,
                "due": n.due.to_string(),
                "sent_to": sent,
            });
            let rec = Recorder {
                report,
                at: now,
                actor: Actor::Daemon,
                auth: Auth::None,
                message: None,
            };
            rec.record(tx, kind, detail)?;
        }
        Ok(out)
    }
}

/// Queues each rendered mail; `None` (and a warning) if none could be
/// rendered, so the notice is recorded without mail rather than retried on
/// every tick.
fn enqueue_all(
    tx: &Tx<'_>,
    report: Option<&ReportId>,
    kind: &str,
    rendered: Rendered,
    now: Timestamp,
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
        tx.enqueue(&m.mail.to_queue(report, kind), now)?;
        sent.push(m.member.to_string());
    }
    Ok(Some(sent))
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

/// Renders the tick's mail.
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
            from_name: crate::respond::queue::own_name(self.config),
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
        }
    }

    fn reminder(&self, r: &ReportSla, d: &Deadline) -> Rendered {
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
        team::to_members(self.config, self.crypto, &mail, None, self.now).map(|(mails, _)| mails)
    }

    /// To `escalate_to`, else to the team.
    fn escalation(&self, r: &ReportSla, d: &Deadline) -> Rendered {
        let (subject, body) = text::escalation(r, d, &self.cal, self.now);
        let mail = self.mail(subject, body, false);
        let target = self
            .config
            .sla
            .escalate_to
            .as_deref()
            .and_then(Address::parse);
        match &target {
            Some(address) => team::to_address(self.config, self.crypto, &mail, address, self.now)
                .map(|m| m.into_iter().collect()),
            None => team::to_members(self.config, self.crypto, &mail, None, self.now)
                .map(|(mails, _)| mails),
        }
    }

    fn digest(&self, reports: &[ReportSla]) -> Rendered {
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
        team::to_members(self.config, self.crypto, &mail, None, self.now).map(|(mails, _)| mails)
    }
}

#[cfg(test)]
mod tests;
