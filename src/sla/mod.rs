//! The SLA engine: the business calendar, each report's deadlines
//! computed from its events, what the team reads of them (`sla`, `stats`, the
//! digest), and the tick that sends reminders, escalations and the digest
//! through the outbox.

pub mod calendar;
pub mod deadlines;
pub mod stats;
pub mod text;
pub mod tick;

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

pub use calendar::{Calendar, Unit};
pub use deadlines::{Deadline, Kind, Policy, Status, Timeline};
pub use stats::Stats;
pub use tick::{TickOutcome, tick};

use crate::config::Config;
use crate::report::ReportId;
use crate::store::{ReportRecord, StoreError, Tx};

/// One report with its deadlines as of a time.
#[derive(Debug, Clone)]
pub struct ReportSla {
    pub record: ReportRecord,
    pub timeline: Timeline,
    /// Every deadline, past update cycles included.
    pub deadlines: Vec<Deadline>,
}

/// One pending deadline, for scripts (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineView {
    pub kind: Kind,
    pub status: Status,
    pub start: Timestamp,
    pub due: Option<Timestamp>,
    pub met: Option<Timestamp>,
    /// Business time left until due (whole business days counted as 24 h);
    /// negative once breached is not shown, see `overdue_seconds`.
    pub business_seconds_left: Option<i64>,
    pub overdue_seconds: Option<i64>,
    /// What is left while paused, in `unit`.
    pub left_when_paused: Option<i64>,
    pub unit: Unit,
    /// The same, for people.
    pub text: String,
    /// Breached before its report was imported: recorded, never escalated.
    pub historical: bool,
}

/// One open report's pending deadlines, for scripts.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: ReportId,
    pub state: crate::report::ReportState,
    pub waiting: bool,
    pub deadlines: Vec<DeadlineView>,
}

impl ReportSla {
    /// For each kind, the deadline that still asks something of the team.
    pub fn pending(&self) -> Vec<&Deadline> {
        deadlines::pending(&self.deadlines)
    }

    pub fn view(&self, cal: &Calendar, now: Timestamp) -> ReportView {
        ReportView {
            id: self.record.id.clone(),
            state: self.record.state,
            waiting: self.record.waiting,
            deadlines: if self.record.state.is_open() {
                self.pending()
                    .into_iter()
                    .map(|d| DeadlineView {
                        kind: d.kind,
                        status: d.status,
                        start: d.start,
                        due: d.due,
                        met: d.met,
                        business_seconds_left: d
                            .due
                            .filter(|due| *due > now)
                            .map(|due| cal.between(now, due, Unit::BusinessDays)),
                        overdue_seconds: d
                            .due
                            .filter(|due| *due <= now)
                            .map(|due| now.as_second() - due.as_second()),
                        left_when_paused: d.left_when_paused,
                        unit: d.unit,
                        text: text::deadline_line(d, cal, now),
                        historical: false,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Whether `d` of `report` was breached before the report was imported (or
/// is an older cycle of such a deadline): never escalated, never in the digest.
pub fn breached_before_import(
    report: &ReportId,
    d: &Deadline,
    historical: &[crate::store::HistoricalBreach],
) -> bool {
    historical_match(report, d.kind, d.status, d.due, historical)
}

/// Marks each deadline of `views` that was breached before import.
pub fn mark_historical(views: &mut [ReportView], historical: &[crate::store::HistoricalBreach]) {
    for v in views {
        for d in &mut v.deadlines {
            d.historical = historical_match(&v.id, d.kind, d.status, d.due, historical);
        }
    }
}

fn historical_match(
    report: &ReportId,
    kind: Kind,
    status: Status,
    due: Option<Timestamp>,
    historical: &[crate::store::HistoricalBreach],
) -> bool {
    status == Status::Breached
        && historical.iter().any(|h| {
            h.report_id == *report && h.deadline == kind.as_str() && due.is_some_and(|d| d <= h.due)
        })
}

/// The calendar of the program's policy.
pub fn calendar(config: &Config) -> Calendar {
    Calendar::from_config(&config.sla, config.program.timezone.clone())
}

/// One report's deadlines at `now` as lines for the team; none if there is
/// no such report (yet).
pub fn deadline_lines(
    tx: &Tx<'_>,
    config: &Config,
    report: &ReportId,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let cal = calendar(config);
    Ok(survey(tx, config, Some(report), now)?
        .first()
        .map(|r| text::report_lines(r, &cal, now))
        .unwrap_or_default())
}

/// The deadlines of every report (or of `only` one) as of `now`.
pub fn survey(
    tx: &Tx<'_>,
    config: &Config,
    only: Option<&ReportId>,
    now: Timestamp,
) -> Result<Vec<ReportSla>, StoreError> {
    let records = match only {
        Some(id) => tx.report_record(id)?.into_iter().collect(),
        None => tx.report_records(None)?,
    };
    let mut events: HashMap<ReportId, Vec<_>> = HashMap::new();
    for e in tx.sla_events(only)? {
        events.entry(e.report_id.clone()).or_default().push(e);
    }
    let cal = calendar(config);
    let policy = Policy {
        calendar: &cal,
        sla: &config.sla,
    };
    Ok(records
        .into_iter()
        // A report opened after `now` does not exist yet at `now`.
        .filter(|r| r.created_at <= now)
        .map(|record| {
            let history = events.remove(&record.id).unwrap_or_default();
            let timeline = Timeline::build(&record, &history, now);
            let deadlines = policy.deadlines(&timeline, now);
            ReportSla {
                record,
                timeline,
                deadlines,
            }
        })
        .collect())
}
