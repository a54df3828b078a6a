//! The reporter's progress updates: when a team command moves a report to
//! `triaged`, `accepted`, `fixed`, `risk-accepted` or `disclosed`, the
//! reporter may get a short templated mail saying so (`reporter-STATE`).
//!
//! Whether one goes out is the pure [`decide`]: the `[notify_reporter]`
//! default for the state, overridden for one mail by `#notify` or `#quiet`.
//! Side exits (rejected, duplicate, out of scope, spam) and the early states
//! never send one. The update is composed like every automatic reply (from
//! the program address, `Reply-To` the report's reply address, threaded under
//! the reporter's latest mail) and sealed and queued exactly like a relayed
//! answer ([`Mailer::to_reporter`]): encrypted to a known key, held (never in
//! clear) for a reporter who wrote encrypted and whose key is unknown. It
//! holds only what the team decided to tell: no member, no note, no severity.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;

use super::compose::{self, ComposeError, Original, Outgoing};
use super::protect::Protection;
use super::queue::{Mailer, ToReporter};
use super::{Templates, shape};
use crate::audit::{Actor, EventKind};
use crate::command::Notify;
use crate::command::apply::Author;
use crate::config::{Config, NotifyReporter};
use crate::report::{Credit, ReportState};
use crate::sla;
use crate::store::{Recorder, ReportRecord, StoreError, Tx};

/// A state the reporter can be told about, and its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Triaged,
    Accepted,
    Fixed,
    RiskAccepted,
    Disclosed,
}

impl Update {
    /// The update for a report that became `state`; `None` for the states
    /// that have none (new, acknowledged, and the side exits, which have
    /// their own replies where they have any).
    pub fn for_state(state: ReportState) -> Option<Self> {
        match state {
            ReportState::Triaged => Some(Self::Triaged),
            ReportState::Accepted => Some(Self::Accepted),
            ReportState::Fixed => Some(Self::Fixed),
            ReportState::RiskAccepted => Some(Self::RiskAccepted),
            ReportState::Disclosed => Some(Self::Disclosed),
            ReportState::New
            | ReportState::Acknowledged
            | ReportState::Rejected
            | ReportState::Duplicate
            | ReportState::OutOfScope
            | ReportState::Spam => None,
        }
    }

    pub fn state(self) -> ReportState {
        match self {
            Self::Triaged => ReportState::Triaged,
            Self::Accepted => ReportState::Accepted,
            Self::Fixed => ReportState::Fixed,
            Self::RiskAccepted => ReportState::RiskAccepted,
            Self::Disclosed => ReportState::Disclosed,
        }
    }

    /// The template, which is also the outbox kind.
    pub fn template(self) -> &'static str {
        match self {
            Self::Triaged => "reporter-triaged",
            Self::Accepted => "reporter-accepted",
            Self::Fixed => "reporter-fixed",
            Self::RiskAccepted => "reporter-risk-accepted",
            Self::Disclosed => "reporter-disclosed",
        }
    }

    /// Whether `[notify_reporter]` sends it without `#notify`.
    pub fn by_default(self, config: &NotifyReporter) -> bool {
        match self {
            Self::Triaged => config.triaged,
            Self::Accepted => config.accepted,
            Self::Fixed => config.fixed,
            Self::RiskAccepted => config.risk_accepted,
            Self::Disclosed => config.disclosed,
        }
    }
}

/// What [`decide`] made of a mail's state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send(Update),
    Skip(Skip),
}

/// Why no update goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The mail moved no state.
    NoStateChange,
    /// The state reached has no update.
    NoUpdate(ReportState),
    /// `#quiet`.
    Quiet(Update),
    /// `[notify_reporter]` says no for the state, and no `#notify`.
    Config(Update),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStateChange => f.write_str("no state change"),
            Self::NoUpdate(state) => write!(f, "no update exists for {state}"),
            Self::Quiet(_) => f.write_str("#quiet"),
            Self::Config(update) => write!(
                f,
                "[notify_reporter] {} = false (add #notify to send it)",
                update.state()
            ),
        }
    }
}

/// Whether the reporter is told that their report became `reached` (by the
/// team's commands; `None` when they moved no state): `#notify` or `#quiet`
/// (`flag`) decides for the states that have an update, else `config`.
pub fn decide(
    reached: Option<ReportState>,
    config: &NotifyReporter,
    flag: Option<Notify>,
) -> Decision {
    let Some(state) = reached else {
        return Decision::Skip(Skip::NoStateChange);
    };
    let Some(update) = Update::for_state(state) else {
        return Decision::Skip(Skip::NoUpdate(state));
    };
    match flag {
        Some(Notify::Force) => Decision::Send(update),
        Some(Notify::Quiet) => Decision::Skip(Skip::Quiet(update)),
        None if update.by_default(config) => Decision::Send(update),
        None => Decision::Skip(Skip::Config(update)),
    }
}

/// What the reporter-facing templates can use. Only what the team chose to
/// tell the reporter: no member names or addresses, no notes, no severity.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressData<'a> {
    pub report_id: &'a str,
    /// The reporter's subject, as [`shape::echoed_subject`] bounds it.
    pub subject: &'a str,
    pub program_name: &'a str,
    pub policy_url: &'a str,
    pub reply_address: &'a str,
    pub reporter_name: Option<&'a str>,
    /// `reporter-accepted`: when the fix is due (`YYYY-MM-DD`, program time).
    pub fix_target: Option<String>,
    /// `reporter-fixed`: the release with the fix (`#fixed-in`).
    pub fixed_in: Option<&'a str>,
    /// `reporter-fixed`: the planned disclosure day (`YYYY-MM-DD`).
    pub disclosure_date: Option<String>,
    /// `reporter-risk-accepted`: the team's reason.
    pub reason: Option<&'a str>,
    /// `reporter-disclosed`: where the advisory is published.
    pub advisory_url: Option<&'a str>,
    /// `reporter-disclosed`: how they are credited; `None` without consent.
    pub credit: Option<String>,
}

/// The facts of an update that are not on the report's row as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// When the fix clock is due, as a day in program time.
    pub fix_target: Option<Date>,
    /// The agreed (`#disclose`) or planned (fix + `disclose_after_fix`) day.
    pub disclosure_date: Option<Date>,
    /// Why the team accepted the risk.
    pub risk_reason: Option<String>,
    /// The published advisory's URL.
    pub advisory_url: Option<String>,
}

/// The facts for `record`'s update, read after its state change at `now`:
/// the fix and disclosure days from its SLA deadlines.
///
/// The advisory's address is where the published site puts it:
/// `[advisory] url`, else `{base_url}/advisories/{ID}.html` under
/// `[publish] base_url`; none when neither is configured.
pub fn facts_from_store(
    tx: &Tx<'_>,
    config: &Config,
    record: &ReportRecord,
    now: Timestamp,
) -> Result<Facts, StoreError> {
    let tz = &config.program.timezone;
    let day = |at: Timestamp| at.to_zoned_datetime(tz.clone()).date();
    let survey = sla::survey(tx, config, Some(&record.id), now)?;
    let due = |kind: sla::Kind| {
        survey
            .first()
            .and_then(|r| r.deadlines.iter().rev().find(|d| d.kind == kind))
            .and_then(|d| d.due)
    };
    Ok(Facts {
        fix_target: due(sla::Kind::Fix).map(day),
        // A `#disclose` deadline is due at the end of its day: name the day.
        disclosure_date: record
            .disclose_on
            .or_else(|| due(sla::Kind::Disclose).map(day)),
        risk_reason: record.risk_reason.clone(),
        advisory_url: crate::advisory::advisory_url(config, &record.id),
    })
}

/// How the reporter is credited, as the update says it; nothing unless they
/// agreed to a name.
pub fn credit_line(credit: &Credit) -> Option<String> {
    match credit {
        Credit::Named {
            name,
            affiliation,
            url,
            ..
        } => {
            let mut line = name.clone();
            if let Some(affiliation) = affiliation {
                line.push_str(" from ");
                line.push_str(affiliation);
            }
            if let Some(url) = url {
                line.push_str(&format!(" ({url})"));
            }
            Some(line)
        }
        Credit::Unknown | Credit::None => None,
    }
}

/// The update `update` for `record`'s reporter, answering their message
/// `parent`: the mail and its text (for the team's copy).
pub fn compose(
    config: &Config,
    templates: &Templates,
    update: Update,
    record: &ReportRecord,
    facts: &Facts,
    parent: Option<&str>,
    now: Timestamp,
) -> Result<(Outgoing, String), ComposeError> {
    let program = &config.program;
    let reply_address = program.address.with_tag(record.id.as_str());
    let echoed = shape::echoed_subject(&record.subject);
    let subject = if echoed.is_empty() {
        "(no subject)"
    } else {
        &echoed
    };
    let date = |d: Option<Date>| d.map(|d| d.to_string());
    // Each template gets only its own facts, so an override cannot show
    // more than its state says.
    let data = ProgressData {
        report_id: record.id.as_str(),
        subject,
        program_name: &program.name,
        policy_url: &program.policy_url,
        reply_address: &reply_address,
        reporter_name: None,
        fix_target: (update == Update::Accepted)
            .then(|| date(facts.fix_target))
            .flatten(),
        fixed_in: (update == Update::Fixed)
            .then_some(record.fixed_in.as_deref())
            .flatten(),
        disclosure_date: (update == Update::Fixed)
            .then(|| date(facts.disclosure_date))
            .flatten(),
        reason: (update == Update::RiskAccepted)
            .then_some(facts.risk_reason.as_deref())
            .flatten(),
        advisory_url: (update == Update::Disclosed)
            .then_some(facts.advisory_url.as_deref())
            .flatten(),
        credit: (update == Update::Disclosed)
            .then(|| credit_line(&record.credit))
            .flatten(),
    };
    let body = templates.render(update.template(), &data)?;
    let original = Original {
        report: &record.id,
        reporter: &record.reporter,
        reporter_name: None,
        subject: &record.subject,
        message_id: parent,
        references: &[],
    };
    let mail = compose::progress_update(config, original, &reply_address, body.clone(), now)?;
    Ok((mail, body))
}

/// What became of a mail's state change for the reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Queued with `protection` (held until a key is known for
    /// [`Protection::Hold`]); `text` is what it says.
    Queued {
        update: Update,
        protection: Protection,
        message_id: String,
        text: String,
    },
    Skipped(Skip),
    /// It could not be composed or sealed (recorded); `reason` is for the team.
    Failed {
        update: Update,
        reason: String,
    },
}

impl Outcome {
    /// One line for the answer to the command mail.
    pub fn describe(&self) -> String {
        match self {
            Self::Queued {
                update,
                protection: Protection::Hold,
                ..
            } => format!(
                "Reporter update ({}): held until a key of the reporter is known (they wrote encrypted).",
                update.template()
            ),
            Self::Queued {
                update, protection, ..
            } => format!(
                "Reporter update ({}): queued, {}.",
                update.template(),
                protection.as_str()
            ),
            Self::Skipped(skip) => format!("Reporter update: none ({skip})."),
            Self::Failed { update, reason } => format!(
                "Reporter update ({}): NOT sent: {reason}.",
                update.template()
            ),
        }
    }
}

/// Decides, composes and queues the update for the reporter of `report`
/// after the team's commands left it in `reached`, in the caller's
/// transaction, as the command's author `by`. Mail that goes out counts as
/// an answer to the reporter for the update cadence, like a relayed one.
pub fn notify(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    record: &ReportRecord,
    decision: Decision,
    by: Author<'_>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let update = match decision {
        Decision::Send(update) => update,
        Decision::Skip(skip) => return Ok(Outcome::Skipped(skip)),
    };
    let rec = Recorder {
        report: Some(&record.id),
        at: now,
        actor: Actor::Named(by.actor),
        auth: by.auth,
        message: Some(by.message),
    };
    let facts = facts_from_store(tx, m.config, record, now)?;
    let parent = tx.latest_message_id_from(&record.id, &record.reporter)?;
    let (mail, text) = match compose(
        m.config,
        m.templates,
        update,
        record,
        &facts,
        parent.as_deref(),
        now,
    ) {
        Ok(composed) => composed,
        Err(err) => {
            tracing::warn!(report = %record.id, stored = rec.message, error = %err, "cannot compose the reporter update");
            rec.record(
                tx,
                EventKind::ReporterMailFailed,
                json!({ "kind": update.template(), "reason": err.to_string() }),
            )?;
            return Ok(Outcome::Failed {
                update,
                reason: format!("cannot compose it: {err}"),
            });
        }
    };
    let sent = m.to_reporter(
        tx,
        &record.id,
        mail,
        &ToReporter {
            kind: update.template(),
            to: &record.reporter,
            rate_key: None,
            content_free: false,
            actor: Actor::Named(by.actor),
            auth: by.auth,
            message: by.message,
        },
        now,
    )?;
    let Some((protection, message_id)) = sent else {
        return Ok(Outcome::Failed {
            update,
            reason: "it could not be sealed".to_owned(),
        });
    };
    // Recorded as the team's answer, so it meets the update cadence as a
    // relayed answer does; a held one does not count, as a held relay does not.
    if protection != Protection::Hold {
        rec.record(
            tx,
            EventKind::RelayedToReporter,
            json!({ "kind": update.template(), "message_id": message_id, "to": record.reporter,
                    "protection": protection.as_str() }),
        )?;
    }
    Ok(Outcome::Queued {
        update,
        protection,
        message_id,
        text,
    })
}

#[cfg(test)]
mod tests;
