use jiff::Timestamp;

use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn now() -> Timestamp {
    t("2026-12-04T12:00:00Z")
}

#[test]
fn the_date_header_is_the_arrival_when_it_agrees_with_the_delivery() {
    let a = arrival(
        Some(t("2019-03-01T09:00:00Z")),
        Some(t("2019-03-01T09:02:00Z")),
        Some(now()),
        now(),
    );
    assert_eq!(a.at, t("2019-03-01T09:00:00Z"));
    assert_eq!(a.note, None);
    // Without any delivery time, a plausible header is taken as is.
    let a = arrival(Some(t("2019-03-01T09:00:00Z")), None, None, now());
    assert_eq!(a.at, t("2019-03-01T09:00:00Z"));
    assert_eq!(a.note, None);
}

#[test]
fn a_date_header_after_its_delivery_is_replaced_by_the_delivery_time() {
    let a = arrival(
        Some(t("2024-01-01T00:00:00Z")),
        Some(t("2019-03-01T10:00:00Z")),
        None,
        now(),
    );
    assert_eq!(a.at, t("2019-03-01T10:00:00Z"));
    assert!(
        a.note
            .as_deref()
            .is_some_and(|n| n.contains("after its delivery")),
        "{a:?}"
    );
}

#[test]
fn a_date_header_long_before_a_copied_delivery_time_is_believed() {
    // A folder appended to a new server is "delivered" on the day of the copy.
    let a = arrival(
        Some(t("2019-03-01T09:00:00Z")),
        Some(t("2026-11-30T10:00:00Z")),
        None,
        now(),
    );
    assert_eq!(a.at, t("2019-03-01T09:00:00Z"));
    assert_eq!(a.note, None);
}

#[test]
fn a_date_far_in_the_future_is_replaced_by_the_delivery_time() {
    let a = arrival(
        Some(t("2099-01-01T00:00:00Z")),
        Some(t("2020-05-05T05:05:05Z")),
        Some(t("2024-01-01T00:00:00Z")),
        now(),
    );
    assert_eq!(a.at, t("2020-05-05T05:05:05Z"));
    assert!(a.note.as_deref().is_some_and(|n| n.contains("implausible")));
}

#[test]
fn a_date_before_1990_without_a_delivery_time_falls_back_to_the_file_time() {
    let a = arrival(
        Some(t("1970-01-01T00:00:00Z")),
        None,
        Some(t("2021-06-01T00:00:00Z")),
        now(),
    );
    assert_eq!(a.at, t("2021-06-01T00:00:00Z"));
    assert!(a.note.as_deref().is_some_and(|n| n.contains("file's time")));
}

#[test]
fn an_unreadable_date_with_nothing_else_plausible_arrives_at_the_import() {
    let a = arrival(
        None,
        Some(t("1980-01-01T00:00:00Z")),
        Some(t("2199-01-01T00:00:00Z")),
        now(),
    );
    assert_eq!(a.at, now());
    assert!(
        a.note
            .as_deref()
            .is_some_and(|n| n.contains("no readable Date"))
    );
}

#[test]
fn an_arrival_is_never_after_the_import() {
    // A sender's clock a few hours ahead is plausible but not the future.
    let a = arrival(Some(t("2026-12-04T15:00:00Z")), None, None, now());
    assert_eq!(a.at, now());
}

#[test]
fn only_past_due_pending_deadlines_are_historical_breaches() {
    use crate::sla::{Deadline, Kind, Status, Unit};
    let d = |kind, status, due: &str| Deadline {
        kind,
        start: t("2019-01-01T00:00:00Z"),
        due: Some(t(due)),
        left_when_paused: None,
        unit: Unit::BusinessDays,
        met: None,
        status,
    };
    let deadlines = [
        d(Kind::Acknowledge, Status::Met, "2019-01-03T00:00:00Z"),
        d(Kind::Triage, Status::Breached, "2019-01-10T00:00:00Z"),
        d(Kind::Update, Status::Breached, "2019-02-01T00:00:00Z"),
        d(Kind::Update, Status::Breached, "2019-03-01T00:00:00Z"),
        d(Kind::Fix, Status::Running, "2027-01-01T00:00:00Z"),
    ];
    let past = crate::ingest::past_due(&deadlines);
    assert_eq!(
        past,
        [
            ("triage", t("2019-01-10T00:00:00Z")),
            // Only the latest cycle still asks something of the team.
            ("update", t("2019-03-01T00:00:00Z")),
        ]
    );
}
