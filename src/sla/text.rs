//! The SLA as the team reads it: deadline lines, the `sla` table, the digest,
//! the statistics, and the reminder and escalation mails. Plain text; what
//! may reach someone without a key (the escalation, metadata versions) names
//! no report content.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::ReportSla;
use super::calendar::{Calendar, Unit};
use super::deadlines::{Deadline, Status};
use super::stats::{Spread, Stats};
use crate::report::ReportState;

/// A point in time in program time, e.g. `Tue 2026-12-29 10:00 CET`.
pub fn local(cal: &Calendar, t: Timestamp) -> String {
    cal.zoned(t).strftime("%a %Y-%m-%d %H:%M %Z").to_string()
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// Counted seconds of `unit` as words: "3 business days 4 h", "5 business
/// hours", "12 days 3 h".
pub fn span(seconds: i64, unit: Unit) -> String {
    let seconds = seconds.max(0);
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match unit {
        Unit::BusinessHours => {
            let h = seconds / 3600;
            match (h, minutes) {
                (0, m) => format!("{m} min of business hours"),
                (h, 0) => plural(h, "business hour"),
                (h, m) => format!("{} {m} min", plural(h, "business hour")),
            }
        }
        Unit::BusinessDays | Unit::Calendar => {
            let word = if unit == Unit::BusinessDays {
                "business day"
            } else {
                "day"
            };
            match (days, hours) {
                (0, 0) => format!("{minutes} min"),
                (0, h) => format!("{h} h"),
                (d, 0) => plural(d, word),
                (d, h) => format!("{} {h} h", plural(d, word)),
            }
        }
    }
}

/// Business time from `now` to `due` (whole business days of the calendar).
pub fn business_left(cal: &Calendar, now: Timestamp, due: Timestamp) -> String {
    span(
        cal.between(now, due, Unit::BusinessDays),
        Unit::BusinessDays,
    )
}

/// One deadline as a line: what, when, how much time is left.
pub fn deadline_line(d: &Deadline, cal: &Calendar, now: Timestamp) -> String {
    let what = d.kind.describe();
    match (d.status, d.due) {
        (Status::Running, Some(due)) => format!(
            "{what}: due {}, {} left",
            local(cal, due),
            business_left(cal, now, due)
        ),
        (Status::Breached, Some(due)) => format!(
            "{what}: BREACHED, was due {}, {} overdue",
            local(cal, due),
            span(now.as_second() - due.as_second(), Unit::Calendar)
        ),
        (Status::Paused, _) => format!(
            "{what}: paused until the reporter answers, {} left",
            span(d.left_when_paused.unwrap_or(0), d.unit)
        ),
        (Status::Met, _) | (Status::MetLate, _) => format!(
            "{what}: {} {}",
            d.status.as_str(),
            d.met.map(|m| local(cal, m)).unwrap_or_default()
        ),
        (status, _) => format!("{what}: {}", status.as_str()),
    }
}

/// The lines for one report: its pending deadlines, or why there are none.
pub fn report_lines(r: &ReportSla, cal: &Calendar, now: Timestamp) -> Vec<String> {
    if !r.record.state.is_open() {
        return vec![format!("none: the report is {}", r.record.state)];
    }
    let pending = r.pending();
    if pending.is_empty() {
        return vec!["none pending".to_owned()];
    }
    pending
        .into_iter()
        .map(|d| deadline_line(d, cal, now))
        .collect()
}

/// `disclosed sla`: every open report with each pending deadline.
pub fn table(reports: &[ReportSla], cal: &Calendar, now: Timestamp) -> String {
    let open: Vec<&ReportSla> = reports
        .iter()
        .filter(|r| r.record.state.is_open())
        .collect();
    let breached = open
        .iter()
        .flat_map(|r| r.pending())
        .filter(|d| d.status == Status::Breached)
        .count();
    let mut out = format!(
        "{} open report(s), {breached} breached deadline(s), as of {}\n",
        open.len(),
        local(cal, now)
    );
    for r in open {
        let _ = writeln!(
            out,
            "\n{}  {}{}",
            r.record.id,
            r.record.state,
            if r.record.waiting {
                "  (waiting for the reporter)"
            } else {
                ""
            }
        );
        for line in report_lines(r, cal, now) {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

/// The digest: open reports by state, deadlines due within 7 days, breaches,
/// and the reports waiting for their reporter.
pub fn digest(reports: &[ReportSla], cal: &Calendar, now: Timestamp) -> String {
    let open: Vec<&ReportSla> = reports
        .iter()
        .filter(|r| r.record.state.is_open())
        .collect();
    let week = now
        .checked_add(jiff::SignedDuration::from_hours(7 * 24))
        .unwrap_or(Timestamp::MAX);
    let mut out = format!(
        "Digest as of {}\n\nOpen reports: {}\n",
        local(cal, now),
        open.len()
    );
    for state in ReportState::ALL.into_iter().filter(|s| s.is_open()) {
        let here: Vec<&&ReportSla> = open.iter().filter(|r| r.record.state == state).collect();
        if !here.is_empty() {
            let ids: Vec<&str> = here.iter().map(|r| r.record.id.as_str()).collect();
            let _ = writeln!(out, "    {state} ({}): {}", here.len(), ids.join(", "));
        }
    }
    let section = |out: &mut String, title: &str, items: Vec<String>| {
        let _ = writeln!(out, "\n{title}: {}", items.len());
        for item in items {
            let _ = writeln!(out, "    {item}");
        }
    };
    let mut soon: Vec<(Timestamp, String)> = Vec::new();
    let mut breaches = Vec::new();
    for r in &open {
        for d in r.pending() {
            match (d.status, d.due) {
                (Status::Running, Some(due)) if due <= week => soon.push((
                    due,
                    format!("{}  {}", r.record.id, deadline_line(d, cal, now)),
                )),
                (Status::Breached, Some(_)) => {
                    breaches.push(format!("{}  {}", r.record.id, deadline_line(d, cal, now)));
                }
                _ => {}
            }
        }
    }
    soon.sort();
    section(&mut out, "Breached deadlines", breaches);
    section(
        &mut out,
        "Due in the next 7 days",
        soon.into_iter().map(|(_, line)| line).collect(),
    );
    let waiting = open
        .iter()
        .filter(|r| r.record.waiting)
        .map(|r| match r.timeline.waiting {
            Some(since) => format!("{}  since {}", r.record.id, local(cal, since)),
            None => r.record.id.to_string(),
        })
        .collect();
    section(&mut out, "Waiting for the reporter", waiting);
    out
}

fn spread_line(name: &str, s: Option<Spread>) -> String {
    match s {
        Some(s) => format!(
            "{name:<18}median {}, 90th percentile {} ({} report(s))",
            span(s.median_seconds, Unit::Calendar),
            span(s.p90_seconds, Unit::Calendar),
            s.count
        ),
        None => format!("{name:<18}no report yet"),
    }
}

/// `#stats` and `disclosed stats`.
pub fn stats(s: &Stats) -> String {
    let mut out = format!(
        "Reports: {} ({} open, {} closed)\n\n",
        s.reports,
        s.open,
        s.reports - s.open
    );
    for state in ReportState::ALL {
        let n = s.by_state.get(state.as_str()).copied().unwrap_or(0);
        let _ = writeln!(out, "    {:<13}{n}", state.as_str());
    }
    out.push('\n');
    for (name, spread) in [
        ("Time to answer:", s.time_to_acknowledge),
        ("Time to triage:", s.time_to_triage),
        ("Time to fix:", s.time_to_fix),
    ] {
        let _ = writeln!(out, "{}", spread_line(name, spread));
    }
    let share = |k: &super::stats::Kept| match k.share() {
        Some(share) => format!("{:.0}% met ({} of {})", share * 100.0, k.met, k.decided()),
        None => "none decided yet".to_owned(),
    };
    let _ = writeln!(out, "\nDeadlines: {}", share(&s.deadlines));
    for (kind, kept) in &s.deadlines_by_kind {
        let _ = writeln!(out, "    {:<13}{}", kind.as_str(), share(kept));
    }
    out
}

/// The reminder: (subject, body) with the report's subject for members with
/// a key, and a version without it for those without.
pub fn reminder(
    r: &ReportSla,
    d: &Deadline,
    cal: &Calendar,
    now: Timestamp,
) -> ((String, String), (String, String)) {
    let id = &r.record.id;
    let due = d.due.map(|t| local(cal, t)).unwrap_or_default();
    let subject = format!("[{id}] Reminder: {} due {due}", d.kind.describe());
    let facts = format!(
        "The {} deadline of {id} ({}) is due {due}: {} left.\n",
        d.kind.describe(),
        r.record.state,
        d.due
            .map(|t| business_left(cal, now, t))
            .unwrap_or_default(),
    );
    let advice = "\nAnswer the reporter, move the report on with #state, pause the clock with\n\
                  #waiting while you wait for them, or (for the fix) #extend <days> because <reason>.\n";
    let full = format!(
        "{facts}\nReport: {}\nReporter: {}\n\nAll deadlines of this report:\n{}\n{advice}",
        r.record.subject,
        r.record.reporter,
        report_lines(r, cal, now)
            .iter()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    (
        (subject.clone(), full),
        (subject, format!("{facts}{advice}")),
    )
}

/// The escalation: metadata only, since `escalate_to` may hold no key.
pub fn escalation(r: &ReportSla, d: &Deadline, cal: &Calendar, now: Timestamp) -> (String, String) {
    let id = &r.record.id;
    let due = d.due.map(|t| local(cal, t)).unwrap_or_default();
    let subject = format!("[{id}] SLA breached: {} was due {due}", d.kind.describe());
    let body = format!(
        "The {} deadline of {id} passed at {due} and is not met.\n\
         State: {}\nAssignee: {}\nOverdue by: {}\n\n\
         The team's members have the report; ask them, or see `disclosed report {id}`.\n",
        d.kind.describe(),
        r.record.state,
        r.record.assignee.as_deref().unwrap_or("nobody"),
        d.due
            .map(|t| span(now.as_second() - t.as_second(), Unit::Calendar))
            .unwrap_or_default(),
    );
    (subject, body)
}
