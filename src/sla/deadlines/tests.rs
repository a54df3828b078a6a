use jiff::civil::date;
use jiff::tz::TimeZone;
use serde_json::json;

use super::*;
use crate::report::ReportId;

fn calendar() -> Calendar {
    use jiff::civil::Weekday::*;
    Calendar::new(
        TimeZone::get("Europe/Berlin").expect("tzdata"),
        vec![Monday, Tuesday, Wednesday, Thursday, Friday],
        vec![date(2026, 12, 24), date(2026, 12, 25)],
    )
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn local(t: Option<Timestamp>) -> String {
    let t = t.expect("a due time");
    calendar()
        .zoned(t)
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

fn record(opened: &str) -> ReportRecord {
    ReportRecord::sample(1, at(opened))
}

fn event(when: &str, kind: &str, detail: serde_json::Value) -> SlaEvent {
    SlaEvent {
        report_id: ReportId::new("SEC", 2026, 1),
        at: at(when),
        kind: crate::audit::EventKind::parse(kind).expect("an event kind"),
        detail,
    }
}

/// An event without detail, e.g. `relayed-to-reporter`.
fn plain(when: &str, kind: &str) -> SlaEvent {
    event(when, kind, json!({}))
}

fn state(when: &str, to: &str) -> SlaEvent {
    event(when, "state-changed", json!({ "to": to }))
}

fn deadlines(r: &ReportRecord, events: &[SlaEvent], now: &str) -> Vec<Deadline> {
    let cal = calendar();
    let sla = Sla::default();
    let policy = Policy {
        calendar: &cal,
        sla: &sla,
    };
    policy.deadlines(&Timeline::build(r, events, at(now)), at(now))
}

fn find(all: &[Deadline], kind: Kind) -> &Deadline {
    pending(all)
        .into_iter()
        .find(|d| d.kind == kind)
        .or_else(|| all.iter().rev().find(|d| d.kind == kind))
        .unwrap_or_else(|| panic!("no {kind:?} in {all:?}"))
}

#[test]
fn acknowledgement_status_follows_the_first_answer() {
    let r = record("2026-12-18T10:00:00+01:00");
    let due = "2026-12-29T10:00:00+01:00";
    let before = deadlines(&r, &[], "2026-12-29T09:59:59+01:00");
    assert_eq!(
        local(find(&before, Kind::Acknowledge).due),
        "Tue 2026-12-29 10:00 CET"
    );
    assert_eq!(find(&before, Kind::Acknowledge).status, Status::Running);
    assert_eq!(
        find(&deadlines(&r, &[], due), Kind::Acknowledge).status,
        Status::Breached
    );

    let early = [plain("2026-12-22T12:00:00+01:00", "relayed-to-reporter")];
    let all = deadlines(&r, &early, "2027-01-10T00:00:00+01:00");
    assert_eq!(find(&all, Kind::Acknowledge).status, Status::Met);
    let late = [plain("2026-12-30T12:00:00+01:00", "relayed-to-reporter")];
    let all = deadlines(&r, &late, "2027-01-10T00:00:00+01:00");
    assert_eq!(find(&all, Kind::Acknowledge).status, Status::MetLate);
}

#[test]
fn a_rejection_is_a_triage_decision_and_stops_the_other_clocks() {
    let r = ReportRecord {
        state: ReportState::Rejected,
        ..record("2026-11-02T10:00:00+01:00")
    };
    let events = [state("2026-11-03T10:00:00+01:00", "rejected")];
    let all = deadlines(&r, &events, "2027-02-01T00:00:00+01:00");
    assert_eq!(find(&all, Kind::Triage).status, Status::Met);
    assert_eq!(find(&all, Kind::Acknowledge).status, Status::Stopped);
    assert!(pending(&all).is_empty(), "{all:?}");
}

#[test]
fn a_reopened_report_resumes_with_the_closed_span_as_a_pause() {
    // Opened Mon 2 Nov 10:00; 5 business days: due Mon 9 Nov 10:00. Closed
    // on Wed 4 Nov 10:00 (3 business days left), reopened Mon 16 Nov 10:00.
    let r = record("2026-11-02T10:00:00+01:00");
    let events = [
        state("2026-11-04T10:00:00+01:00", "spam"),
        state("2026-11-16T10:00:00+01:00", "triaged"),
    ];
    let closed = deadlines(&r, &events[..1], "2026-11-10T00:00:00+01:00");
    assert_eq!(find(&closed, Kind::Acknowledge).status, Status::Stopped);
    let all = deadlines(&r, &events, "2026-11-16T12:00:00+01:00");
    let ack = find(&all, Kind::Acknowledge);
    assert_eq!(ack.status, Status::Running);
    assert_eq!(local(ack.due), "Thu 2026-11-19 10:00 CET");
}

#[test]
fn waiting_pauses_with_the_business_time_left() {
    // Opened Mon 2 Nov 10:00, due Mon 9 Nov 10:00; paused Fri 6 Nov 17:00
    // with 17 h of business time left (Fri 7 h, Mon 10 h).
    let r = record("2026-11-02T10:00:00+01:00");
    let paused = [plain("2026-11-06T17:00:00+01:00", "waiting-started")];
    let all = deadlines(&r, &paused, "2026-11-20T00:00:00+01:00");
    let ack = find(&all, Kind::Acknowledge);
    assert_eq!((ack.status, ack.due), (Status::Paused, None));
    assert_eq!(ack.left_when_paused, Some(17 * 3600));
    // The reporter answers on Wed 18 Nov 09:00: 17 h from there.
    let ended = [
        paused[0].clone(),
        plain("2026-11-18T09:00:00+01:00", "waiting-ended"),
    ];
    let all = deadlines(&r, &ended, "2026-11-18T09:00:00+01:00");
    assert_eq!(
        local(find(&all, Kind::Acknowledge).due),
        "Thu 2026-11-19 02:00 CET"
    );
}

#[test]
fn a_deadline_met_before_a_pause_stays_where_it_was() {
    let r = record("2026-11-02T10:00:00+01:00");
    let events = [
        plain("2026-11-03T10:00:00+01:00", "relayed-to-reporter"),
        plain("2026-11-04T10:00:00+01:00", "waiting-started"),
    ];
    let all = deadlines(&r, &events, "2026-11-30T00:00:00+01:00");
    let ack = all
        .iter()
        .find(|d| d.kind == Kind::Acknowledge)
        .expect("ack");
    assert_eq!(
        (ack.status, local(ack.due)),
        (Status::Met, "Mon 2026-11-09 10:00 CET".into())
    );
    // The update cadence, which runs from the answer, is paused.
    assert_eq!(find(&all, Kind::Update).status, Status::Paused);
}

#[test]
fn each_mail_to_the_reporter_starts_a_new_update_cycle() {
    let r = record("2026-11-02T10:00:00+01:00");
    let events = [
        plain("2026-11-03T10:00:00+01:00", "relayed-to-reporter"),
        plain("2026-11-10T10:00:00+01:00", "relayed-to-reporter"),
    ];
    let all = deadlines(&r, &events, "2026-11-12T00:00:00+01:00");
    let updates: Vec<&Deadline> = all.iter().filter(|d| d.kind == Kind::Update).collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].status, Status::Met);
    assert_eq!(local(updates[1].due), "Tue 2026-11-24 10:00 CET");
    let current: Vec<&Deadline> = pending(&all)
        .into_iter()
        .filter(|d| d.kind == Kind::Update)
        .collect();
    assert_eq!(current, [updates[1]]);
}

#[test]
fn fix_runs_from_acceptance_plus_extensions_and_disclosure_from_the_fix() {
    let r = ReportRecord {
        fix_extension_days: 30,
        ..record("2026-03-02T12:00:00+01:00")
    };
    let accepted = [
        state("2026-03-02T12:00:00+01:00", "triaged"),
        state("2026-03-02T12:00:00+01:00", "accepted"),
    ];
    let all = deadlines(&r, &accepted, "2026-03-03T00:00:00+01:00");
    // 90 + 30 days, across the DST change: the wall-clock time stays.
    assert_eq!(
        local(find(&all, Kind::Fix).due),
        "Tue 2026-06-30 12:00 CEST"
    );
    let fixed = [
        accepted[0].clone(),
        accepted[1].clone(),
        state("2026-04-01T12:00:00+02:00", "fixed"),
    ];
    let all = deadlines(&r, &fixed, "2026-04-02T00:00:00+02:00");
    assert_eq!(find(&all, Kind::Fix).status, Status::Met);
    assert_eq!(
        local(find(&all, Kind::Disclose).due),
        "Fri 2026-05-01 12:00 CEST"
    );
}

#[test]
fn an_explicit_date_is_not_moved_by_a_pause() {
    let r = ReportRecord {
        disclose_on: Some(jiff::civil::date(2026, 12, 1)),
        ..record("2026-11-02T10:00:00+01:00")
    };
    let events = [plain("2026-11-03T10:00:00+01:00", "waiting-started")];
    let all = deadlines(&r, &events, "2026-11-20T00:00:00+01:00");
    let d = find(&all, Kind::Disclose);
    assert_eq!(
        (d.status, local(d.due)),
        (Status::Running, "Wed 2026-12-02 00:00 CET".into())
    );
}

#[test]
fn events_after_now_are_not_known_yet() {
    let r = record("2026-11-02T10:00:00+01:00");
    let events = [plain("2026-11-05T10:00:00+01:00", "relayed-to-reporter")];
    let all = deadlines(&r, &events, "2026-11-04T10:00:00+01:00");
    assert_eq!(find(&all, Kind::Acknowledge).status, Status::Running);
    assert!(all.iter().all(|d| d.kind != Kind::Update));
}

/// The default policy with critical 7 days (up to 14) and high 30 (up to 45).
fn severity_sla() -> Sla {
    let days = |n| PolicyDuration::Calendar(jiff::Span::new().days(n));
    let mut sla = Sla::default();
    sla.by_severity.insert(
        Severity::Critical,
        crate::config::FixPolicy {
            fix: days(7),
            fix_max: days(14),
        },
    );
    sla.by_severity.insert(
        Severity::High,
        crate::config::FixPolicy {
            fix: days(30),
            fix_max: days(45),
        },
    );
    sla
}

fn deadlines_with(sla: &Sla, r: &ReportRecord, events: &[SlaEvent], now: &str) -> Vec<Deadline> {
    let cal = calendar();
    let policy = Policy {
        calendar: &cal,
        sla,
    };
    policy.deadlines(&Timeline::build(r, events, at(now)), at(now))
}

#[test]
fn the_severity_picks_the_fix_time() {
    let accepted = [state("2026-06-01T10:00:00+02:00", "accepted")];
    let now = "2026-06-02T10:00:00+02:00";
    // (severity, CVSS severity, extension days, due)
    let table = [
        (
            Some(Severity::Critical),
            None,
            0,
            "Mon 2026-06-08 10:00 CEST",
        ),
        (
            Some(Severity::Critical),
            None,
            7,
            "Mon 2026-06-15 10:00 CEST",
        ),
        (Some(Severity::High), None, 0, "Wed 2026-07-01 10:00 CEST"),
        // Without an entry of its own, a severity gets the plain 90 days.
        (Some(Severity::Medium), None, 0, "Sun 2026-08-30 10:00 CEST"),
        (Some(Severity::Low), None, 0, "Sun 2026-08-30 10:00 CEST"),
        (None, None, 0, "Sun 2026-08-30 10:00 CEST"),
        // The CVSS severity counts when the team set none ...
        (
            None,
            Some(Severity::Critical),
            0,
            "Mon 2026-06-08 10:00 CEST",
        ),
        // ... and the team's `#severity` wins over it.
        (
            Some(Severity::High),
            Some(Severity::Critical),
            0,
            "Wed 2026-07-01 10:00 CEST",
        ),
    ];
    for (severity, cvss, extension, due) in table {
        let mut r = record("2026-06-01T09:00:00+02:00");
        r.severity = severity;
        r.cvss_severity = cvss;
        r.fix_extension_days = extension;
        let all = deadlines_with(&severity_sla(), &r, &accepted, now);
        assert_eq!(
            local(find(&all, Kind::Fix).due),
            due,
            "{severity:?} {cvss:?} +{extension}"
        );
    }
}

#[test]
fn without_severity_entries_the_plain_fix_time_applies() {
    let mut r = record("2026-06-01T09:00:00+02:00");
    r.severity = Some(Severity::Critical);
    let all = deadlines(
        &r,
        &[state("2026-06-01T10:00:00+02:00", "accepted")],
        "2026-06-02T10:00:00+02:00",
    );
    assert_eq!(
        local(find(&all, Kind::Fix).due),
        "Sun 2026-08-30 10:00 CEST"
    );
}

#[test]
fn accepting_the_risk_stops_the_fix_clock_and_starts_the_disclosure_clock() {
    let r = record("2026-06-01T09:00:00+02:00");
    let events = [
        state("2026-06-01T10:00:00+02:00", "accepted"),
        state("2026-06-10T10:00:00+02:00", "risk-accepted"),
    ];
    let all = deadlines(&r, &events, "2026-06-11T10:00:00+02:00");
    let fix = find(&all, Kind::Fix);
    assert_eq!(fix.status, Status::Stopped);
    assert_eq!(fix.met, None);
    let disclose = find(&all, Kind::Disclose);
    assert_eq!(disclose.status, Status::Running);
    assert_eq!(local(disclose.due), "Fri 2026-07-10 10:00 CEST");
    // Long after the fix deadline, the stopped fix clock is not breached.
    let later = deadlines(&r, &events, "2026-10-01T10:00:00+02:00");
    assert_eq!(find(&later, Kind::Fix).status, Status::Stopped);
    assert_eq!(find(&later, Kind::Disclose).status, Status::Breached);
}

#[test]
fn accepting_the_risk_after_the_fix_deadline_is_a_late_decision() {
    let mut r = record("2026-06-01T09:00:00+02:00");
    r.severity = Some(Severity::Critical);
    let events = [
        state("2026-06-01T10:00:00+02:00", "accepted"),
        state("2026-06-20T10:00:00+02:00", "risk-accepted"),
    ];
    let all = deadlines_with(&severity_sla(), &r, &events, "2026-06-21T10:00:00+02:00");
    assert_eq!(find(&all, Kind::Fix).status, Status::MetLate);
}

#[test]
fn reopening_a_risk_accepted_report_runs_the_fix_clock_again() {
    let r = record("2026-06-01T09:00:00+02:00");
    let events = [
        state("2026-06-01T10:00:00+02:00", "accepted"),
        state("2026-06-10T10:00:00+02:00", "risk-accepted"),
        state("2026-06-12T10:00:00+02:00", "accepted"),
    ];
    let all = deadlines(&r, &events, "2026-06-13T10:00:00+02:00");
    let fix = find(&all, Kind::Fix);
    assert_eq!(fix.status, Status::Running);
    assert_eq!(local(fix.due), "Sun 2026-08-30 10:00 CEST");
    assert!(!all.iter().any(|d| d.kind == Kind::Disclose));
}

#[test]
fn a_risk_accepted_report_is_disclosed_by_its_date() {
    let r = record("2026-06-01T09:00:00+02:00");
    let events = [
        state("2026-06-01T10:00:00+02:00", "accepted"),
        state("2026-06-10T10:00:00+02:00", "risk-accepted"),
        state("2026-06-20T10:00:00+02:00", "disclosed"),
    ];
    let all = deadlines(&r, &events, "2026-06-21T10:00:00+02:00");
    assert_eq!(find(&all, Kind::Disclose).status, Status::Met);
    assert_eq!(find(&all, Kind::Fix).status, Status::Stopped);
}
