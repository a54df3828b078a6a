use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::store::OpenMode;

/// A Monday: the default digest (Monday 09:00 in Berlin) is due.
fn now() -> Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("time")
}

fn config() -> Config {
    let text = format!(
        "{}\n[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n",
        crate::config::tests::MINIMAL
    );
    Config::parse(&text, Path::new("/etc/disclosed/config.toml")).expect("config")
}

/// A report opened a month before `now`: its acknowledgement is long overdue.
fn overdue_report(store: &mut Store) {
    store
        .write(|w| {
            w.tx().create_report(
                "SEC",
                2026,
                "rita@reporter.example",
                "overdue",
                now() - SignedDuration::from_hours(24 * 30),
            )
        })
        .expect("report");
}

#[test]
fn a_tick_queues_the_due_notices_and_the_next_finds_nothing_due() {
    let mut store = Store::open_in_memory().expect("store");
    overdue_report(&mut store);
    let (config, crypto) = (config(), Crypto::default());

    let first = tick(&mut store, &config, &crypto, now()).expect("tick");
    assert!(first.escalations >= 1, "{first:?}");
    assert_eq!(first.digests, 1, "{first:?}");
    let queued = store.read().counts().expect("counts").outbox_queued;
    assert_eq!(
        queued as usize,
        first.escalations + first.digests,
        "one mail per notice to the one member"
    );

    // A minute later the same deadlines are still breached, and recorded.
    let later = now() + SignedDuration::from_mins(1);
    let due = store
        .snapshot(|tx| survey_due(tx, &config, &crypto, later))
        .expect("survey");
    assert!(due.is_empty(), "{due:?}");
    assert_eq!(
        tick(&mut store, &config, &crypto, later).expect("tick"),
        TickOutcome::default()
    );
}

#[test]
fn two_ticks_that_surveyed_the_same_state_send_each_notice_once() {
    let mut store = Store::open_in_memory().expect("store");
    overdue_report(&mut store);
    let (config, crypto) = (config(), Crypto::default());

    // Both survey before either records: each finds the same notices due.
    let first = store
        .snapshot(|tx| survey_due(tx, &config, &crypto, now()))
        .expect("survey");
    let second = store
        .snapshot(|tx| survey_due(tx, &config, &crypto, now()))
        .expect("survey");
    assert!(!first.is_empty() && !second.is_empty());

    let recorded = store
        .write(|w| first.record(&w.tx()))
        .expect("record first");
    assert!(recorded.queued_anything(), "{recorded:?}");
    let counts = store.read().counts().expect("counts");

    let again = store
        .write(|w| second.record(&w.tx()))
        .expect("record second");
    assert_eq!(again, TickOutcome::default(), "nothing sent twice");
    assert_eq!(
        store.read().counts().expect("counts"),
        counts,
        "no mail and no event added"
    );
}

#[test]
fn the_survey_only_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.sqlite3");
    let mut writer = Store::open(&path, OpenMode::Create).expect("store");
    overdue_report(&mut writer);
    let mut reader = Store::open_reader(&path).expect("reader");
    let (config, crypto) = (config(), Crypto::default());

    let due = reader
        .snapshot(|tx| survey_due(tx, &config, &crypto, now()))
        .expect("a survey on the read-only connection");
    assert!(!due.is_empty());
    // What it found is recorded through the writer, not the reader.
    let err = reader
        .write(|w| due.record(&w.tx()))
        .expect_err("the reader cannot write");
    assert!(err.to_string().contains("readonly"), "{err}");
    assert_eq!(
        reader.read().counts().expect("counts").outbox_queued,
        0,
        "nothing half-recorded"
    );
}
