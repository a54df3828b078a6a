//! A report's deadlines, computed from its events: when each clock
//! started, when it was met, and the pauses (`#waiting`, and the time a report
//! spent closed before it was reopened) that moved it.
//!
//! Pure: the events and the time come in, the deadlines go out. A pause keeps
//! the time that was left in the deadline's own unit, so a deadline in business
//! days paused on a Friday afternoon resumes with the same business time left.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use super::calendar::{Calendar, Unit};
use crate::audit::EventKind;
use crate::config::{PolicyDuration, Sla};
use crate::report::{ReportState, Severity};
use crate::store::{ReportRecord, SlaEvent};

/// Which promise a deadline keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The first mail a team member sends the reporter.
    Acknowledge,
    /// A decision: triaged, accepted, or closed as not a valid report.
    Triage,
    /// News for the reporter every `update_every` while the report is open.
    Update,
    /// From acceptance to `fixed`; accepting the risk stops it.
    Fix,
    /// From `fixed` or `risk-accepted` (or to a `#disclose` date) to `disclosed`.
    Disclose,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Acknowledge,
        Kind::Triage,
        Kind::Update,
        Kind::Fix,
        Kind::Disclose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Triage => "triage",
            Self::Update => "update",
            Self::Fix => "fix",
            Self::Disclose => "disclose",
        }
    }

    /// What is due, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Acknowledge => "first answer to the reporter",
            Self::Triage => "triage",
            Self::Update => "update to the reporter",
            Self::Fix => "fix",
            Self::Disclose => "disclosure",
        }
    }
}

/// Where a deadline stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not yet due.
    Running,
    /// Stopped by `#waiting` until the reporter writes.
    Paused,
    /// Past due and not met.
    Breached,
    /// Met in time.
    Met,
    /// Met, but after it was due.
    MetLate,
    /// The report was closed before it was due.
    Stopped,
}

impl Status {
    /// Whether the deadline still asks something of the team.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Breached)
    }

    /// Whether it counts as kept (`Some(true)`), missed, or not yet decided.
    pub fn kept(self) -> Option<bool> {
        match self {
            Self::Met => Some(true),
            Self::MetLate | Self::Breached => Some(false),
            Self::Running | Self::Paused | Self::Stopped => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Breached => "breached",
            Self::Met => "met",
            Self::MetLate => "met late",
            Self::Stopped => "stopped",
        }
    }
}

/// One deadline of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub kind: Kind,
    /// When its clock started.
    pub start: Timestamp,
    /// When it is due; `None` while paused.
    pub due: Option<Timestamp>,
    /// While paused: the counted time left (seconds of `unit`).
    pub left_when_paused: Option<i64>,
    pub unit: Unit,
    /// When it was met.
    pub met: Option<Timestamp>,
    pub status: Status,
}

/// A span in which the clocks stood still; `until` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pause {
    from: Timestamp,
    until: Option<Timestamp>,
}

/// The facts of a report's history that its clocks depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    pub opened: Timestamp,
    /// Every mail a team member sent the reporter, in order.
    pub to_reporter: Vec<Timestamp>,
    pub triaged: Option<Timestamp>,
    /// The first acceptance: the fix clock runs from it.
    pub accepted: Option<Timestamp>,
    /// The last move to `fixed`, unless the report was reopened since.
    pub fixed: Option<Timestamp>,
    /// The last move to `risk-accepted`, unless the report was reopened since.
    pub risk_accepted: Option<Timestamp>,
    /// The report's severity as it stands (`#severity`, else the CVSS
    /// score's): it picks the fix time.
    pub severity: Option<Severity>,
    pub disclosed: Option<Timestamp>,
    /// Since when the report is closed, if it is.
    pub closed: Option<Timestamp>,
    /// Since when it waits for the reporter, if it does.
    pub waiting: Option<Timestamp>,
    pauses: Vec<Pause>,
    pub fix_extension_days: u32,
    pub disclose_on: Option<Date>,
}

impl Timeline {
    /// Builds the timeline from the report's facts and its clock events (in
    /// order), ignoring what happened after `now`.
    pub fn build(record: &ReportRecord, events: &[SlaEvent], now: Timestamp) -> Self {
        let mut t = Timeline {
            opened: record.created_at,
            fix_extension_days: record.fix_extension_days,
            disclose_on: record.disclose_on,
            severity: record.severity.or(record.cvss_severity),
            ..Timeline::default()
        };
        let mut waiting_pause: Option<usize> = None;
        let mut closed_pause: Option<usize> = None;
        for e in events.iter().filter(|e| e.at <= now) {
            match e.kind {
                EventKind::ReportOpened => t.opened = t.opened.min(e.at),
                EventKind::RelayedToReporter => t.to_reporter.push(e.at),
                EventKind::WaitingStarted if waiting_pause.is_none() => {
                    waiting_pause = Some(t.pauses.len());
                    t.pauses.push(Pause {
                        from: e.at,
                        until: None,
                    });
                    t.waiting = Some(e.at);
                }
                EventKind::WaitingEnded => {
                    if let Some(i) = waiting_pause.take() {
                        t.pauses[i].until = Some(e.at);
                    }
                    t.waiting = None;
                }
                // A command, a triage rule or `#duplicate` moved the state.
                EventKind::StateChanged | EventKind::RuleApplied | EventKind::MarkedDuplicate => {
                    let named = |key: &str| {
                        let name = e.detail.get(key).and_then(|v| v.as_str());
                        name.and_then(|s| s.parse::<ReportState>().ok())
                    };
                    let to = match e.kind {
                        EventKind::StateChanged => named("to"),
                        EventKind::RuleApplied => named("state"),
                        _ => Some(ReportState::Duplicate),
                    };
                    if let Some(state) = to {
                        t.enter(state, e.at, &mut closed_pause);
                    }
                }
                _ => {}
            }
        }
        t
    }

    fn enter(&mut self, state: ReportState, at: Timestamp, closed_pause: &mut Option<usize>) {
        use ReportState::*;
        if !matches!(state, New | Acknowledged) && self.triaged.is_none() {
            self.triaged = Some(at);
        }
        match state {
            Accepted => {
                self.accepted.get_or_insert(at);
                self.fixed = None;
                self.risk_accepted = None;
            }
            Fixed => self.fixed = Some(at),
            RiskAccepted => self.risk_accepted = Some(at),
            Disclosed => self.disclosed = Some(at),
            _ => {}
        }
        if state.is_open() {
            if let Some(i) = closed_pause.take() {
                self.pauses[i].until = Some(at);
            }
            self.closed = None;
        } else if closed_pause.is_none() {
            *closed_pause = Some(self.pauses.len());
            self.pauses.push(Pause {
                from: at,
                until: None,
            });
            self.closed = Some(at);
        }
    }

    /// The pauses as disjoint spans in time order (`#waiting` and closed
    /// spans may overlap).
    fn merged_pauses(&self) -> Vec<Pause> {
        let mut spans = self.pauses.clone();
        spans.sort_by_key(|p| p.from);
        let mut out: Vec<Pause> = Vec::new();
        for p in spans {
            match out.last_mut() {
                Some(last) if last.until.is_none_or(|u| p.from <= u) => {
                    last.until = match (last.until, p.until) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => out.push(p),
            }
        }
        out
    }
}

/// The policy a report's deadlines follow.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    pub calendar: &'a Calendar,
    pub sla: &'a Sla,
}

impl Policy<'_> {
    /// Every deadline of the report as of `now`: the current ones and, for
    /// the update cadence, each past cycle.
    pub fn deadlines(&self, t: &Timeline, now: Timestamp) -> Vec<Deadline> {
        let clocks = Clocks {
            calendar: self.calendar,
            pauses: t.merged_pauses(),
            closed: t.closed,
            now,
        };
        let sla = self.sla;
        let mut out = vec![
            clocks.run(
                Kind::Acknowledge,
                t.opened,
                &sla.acknowledge,
                0,
                t.to_reporter.first().copied(),
            ),
            clocks.run(Kind::Triage, t.opened, &sla.triage, 0, t.triaged),
        ];
        // The cadence runs from each mail to the reporter to the next; before
        // the first, the acknowledgement deadline is the promise.
        for (i, &start) in t.to_reporter.iter().enumerate() {
            let next = t.to_reporter.get(i + 1).copied();
            out.push(clocks.run(Kind::Update, start, &sla.update_every, 0, next));
        }
        if let Some(accepted) = t.accepted {
            let (policy, _) = sla.fix_policy(t.severity);
            let met = t.fixed.or(t.disclosed);
            match (t.fixed, t.risk_accepted) {
                // Accepting the risk ends the fix clock without a fix: in time
                // it stops it, after the deadline it is a late decision.
                (None, Some(decided)) => {
                    let mut d = clocks.run(
                        Kind::Fix,
                        accepted,
                        &policy.fix,
                        t.fix_extension_days,
                        Some(decided),
                    );
                    if d.status == Status::Met {
                        d.status = Status::Stopped;
                        d.met = None;
                    }
                    out.push(d);
                }
                _ => out.push(clocks.run(
                    Kind::Fix,
                    accepted,
                    &policy.fix,
                    t.fix_extension_days,
                    met,
                )),
            }
        }
        if let Some(date) = t.disclose_on {
            out.push(self.fixed_date(t, date, now));
        } else if let Some(decided) = t.fixed.or(t.risk_accepted) {
            out.push(clocks.run(
                Kind::Disclose,
                decided,
                &sla.disclose_after_fix,
                0,
                t.disclosed,
            ));
        }
        out
    }

    /// A `#disclose` date: due when that day ends in program time. The team
    /// chose the date, so no pause moves it.
    fn fixed_date(&self, t: &Timeline, date: Date, now: Timestamp) -> Deadline {
        let tz = self.calendar.time_zone().clone();
        let due = date
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned_datetime(tz).ok())
            .map_or(Timestamp::MAX, |z| z.timestamp());
        let status = match t.disclosed {
            Some(m) if m > due => Status::MetLate,
            Some(_) => Status::Met,
            None if t.closed.is_some_and(|c| c < due) => Status::Stopped,
            None if due <= now => Status::Breached,
            None => Status::Running,
        };
        Deadline {
            kind: Kind::Disclose,
            start: t.fixed.or(t.risk_accepted).unwrap_or(t.opened),
            due: Some(due),
            left_when_paused: None,
            unit: Unit::Calendar,
            met: t.disclosed,
            status,
        }
    }
}

/// What every clock of one report shares.
struct Clocks<'a> {
    calendar: &'a Calendar,
    /// Disjoint, in time order.
    pauses: Vec<Pause>,
    /// Since when the report is closed, if it is.
    closed: Option<Timestamp>,
    now: Timestamp,
}

impl Clocks<'_> {
    /// The deadline `duration` (plus `extra_days`) after `start`, moved by
    /// the pauses that began before it was due or met.
    fn run(
        &self,
        kind: Kind,
        start: Timestamp,
        duration: &PolicyDuration,
        extra_days: u32,
        met: Option<Timestamp>,
    ) -> Deadline {
        let cal = self.calendar;
        let unit = Unit::of(duration);
        let mut due = cal.add(start, duration);
        if extra_days > 0 {
            due = cal
                .zoned(due)
                .checked_add(i64::from(extra_days).days())
                .map_or(Timestamp::MAX, |z| z.timestamp());
        }
        let mut left_when_paused = None;
        for p in &self.pauses {
            if p.until.is_some_and(|u| u <= start) {
                continue;
            }
            let from = p.from.max(start);
            // A deadline already passed or met stays where it was.
            if from >= due || met.is_some_and(|m| m <= from) {
                break;
            }
            let left = cal.between(from, due, unit);
            match p.until {
                Some(until) => due = cal.advance(until, left, unit),
                None => {
                    left_when_paused = Some(left);
                    break;
                }
            }
        }
        let due = left_when_paused.is_none().then_some(due);
        let status = match (met, due) {
            (Some(m), Some(d)) if m > d => Status::MetLate,
            (Some(_), _) => Status::Met,
            (None, Some(d)) if d <= self.now => Status::Breached,
            (None, Some(_)) => Status::Running,
            (None, None) if self.closed.is_some() => Status::Stopped,
            (None, None) => Status::Paused,
        };
        Deadline {
            kind,
            start,
            due,
            left_when_paused,
            unit,
            met,
            status,
        }
    }
}

/// The deadlines that still ask something of the team: for each kind, the
/// latest pending one.
pub fn pending(deadlines: &[Deadline]) -> Vec<&Deadline> {
    let mut out: Vec<&Deadline> = Vec::new();
    for d in deadlines.iter().filter(|d| d.status.is_pending()) {
        match out.iter_mut().find(|o| o.kind == d.kind) {
            Some(o) => *o = d,
            None => out.push(d),
        }
    }
    out
}

#[cfg(test)]
mod tests;
