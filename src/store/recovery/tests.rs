use jiff::{SignedDuration, Timestamp};

use super::{Attached, OutboxFilter, Retried};
use crate::report::ReportId;
use crate::store::{Claim, NewMail, NewMessage, Store, StoreError, ThreadedBy};

fn at(secs: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_secs(1_800_000_000 + secs)
}

fn queue(store: &mut Store, n: usize) -> Vec<i64> {
    let recipients = vec!["r@x.net".to_owned()];
    store
        .write(|w| {
            (0..n)
                .map(|i| {
                    w.tx().enqueue(
                        &NewMail {
                            report_id: None,
                            kind: "acknowledgement",
                            message_id: &format!("disclosed.{i}@example.org"),
                            envelope_from: "security@example.org",
                            return_token: None,
                            recipients: &recipients,
                            rate_key: None,
                            raw: b"raw",
                            held: i == 3,
                            team_lines: &[],
                        },
                        at(i as i64),
                    )
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .expect("enqueue")
}

fn claim(store: &mut Store, who: &str, now: i64) -> Vec<i64> {
    let c = Claim {
        claimant: who,
        now: at(now),
        lease_now: at(now),
        lease_until: at(now + 900),
    };
    store
        .write(|w| w.tx().claim_due(&c, 0, 100))
        .expect("claim")
        .iter()
        .map(|m| m.id)
        .collect()
}

fn retry(store: &mut Store, id: i64, now: i64) -> Retried {
    store
        .write(|w| w.tx().retry_outbox_row(id, at(now), at(now)))
        .expect("retry")
}

#[test]
fn a_failed_row_is_queued_again_with_its_attempts_reset_and_due_at_once() {
    let mut store = Store::open_in_memory().expect("store");
    let ids = queue(&mut store, 1);
    claim(&mut store, "a", 0);
    store
        .write(|w| w.tx().mark_failed(ids[0], "550 no such user"))
        .expect("fail");
    let failed = store
        .read()
        .outbox_rows(OutboxFilter::Failed)
        .expect("list");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].status.as_str(), failed[0].attempts),
        ("failed", 1)
    );
    assert_eq!(failed[0].last_error.as_deref(), Some("550 no such user"));

    assert_eq!(retry(&mut store, ids[0], 100), Retried::Queued);
    let row = store.read().outbox_row(ids[0]).expect("row").expect("some");
    assert_eq!((row.status.as_str(), row.attempts), ("queued", 0));
    assert_eq!((row.next_attempt_at, row.last_error), (at(100), None));
    assert_eq!(
        claim(&mut store, "b", 100),
        ids,
        "due at once, to any sender"
    );
    assert!(
        store
            .read()
            .outbox_rows(OutboxFilter::Failed)
            .expect("list")
            .is_empty()
    );
}

#[test]
fn a_sent_row_is_never_queued_again() {
    let mut store = Store::open_in_memory().expect("store");
    let ids = queue(&mut store, 1);
    claim(&mut store, "a", 0);
    store
        .write(|w| w.tx().mark_sent(ids[0], at(1)))
        .expect("sent");
    assert_eq!(retry(&mut store, ids[0], 5), Retried::AlreadySent);
    let row = store.read().outbox_row(ids[0]).expect("row").expect("some");
    assert_eq!(row.status, "sent");
    assert!(claim(&mut store, "b", 10_000).is_empty());
}

#[test]
fn a_row_a_running_sender_holds_is_not_touched_by_a_retry() {
    let mut store = Store::open_in_memory().expect("store");
    let ids = queue(&mut store, 1);
    assert_eq!(claim(&mut store, "a", 0), ids);
    assert_eq!(retry(&mut store, ids[0], 1), Retried::AlreadyQueued);
    let row = store.read().outbox_row(ids[0]).expect("row").expect("some");
    assert_eq!(row.claimed_by.as_deref(), Some("a"), "the claim stays");
    assert!(claim(&mut store, "b", 2).is_empty(), "still a's alone");
}

#[test]
fn a_retry_never_releases_mail_held_for_a_missing_key() {
    let mut store = Store::open_in_memory().expect("store");
    let ids = queue(&mut store, 4);
    assert_eq!(retry(&mut store, ids[3], 10), Retried::NeedsKey);
    let row = store.read().outbox_row(ids[3]).expect("row").expect("some");
    assert_eq!(row.status, "needs-key");
    assert!(!claim(&mut store, "a", 10).contains(&ids[3]));
    assert_eq!(retry(&mut store, 999, 10), Retried::Missing);
}

fn message(store: &mut Store, n: u8, report: Option<&ReportId>, message_id: &str) -> i64 {
    store
        .write(|w| {
            w.tx().insert_message(&NewMessage {
                sha256: &format!("{n:02x}"),
                raw: Some(b"x"),
                size: 1,
                source: "test",
                location: &format!("m{n}"),
                message_id: Some(message_id),
                in_reply_to: None,
                references: &[],
                from_addr: Some("rita@researcher.example"),
                from_name: None,
                to_addrs: &[],
                subject: "hello",
                date: None,
                kind: "reporter",
                report_id: report,
                threaded_by: if report.is_some() {
                    ThreadedBy::NewReport
                } else {
                    ThreadedBy::None
                },
                problems: &["spoofed-own-address".to_owned()],
                received_at: at(i64::from(n)),
            })
        })
        .expect("insert")
}

fn report(store: &mut Store) -> ReportId {
    store
        .write(|w| {
            w.tx()
                .create_report("SEC", 2027, "rita@researcher.example", "x", at(0))
        })
        .expect("report")
}

#[test]
fn a_message_in_no_report_is_listed_and_attached_once() {
    let mut store = Store::open_in_memory().expect("store");
    let id = report(&mut store);
    let stray = message(&mut store, 1, None, "stray@x");
    message(&mut store, 2, Some(&id), "first@x");
    let listed = store.read().unattached_messages().expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].problems.len()), (stray, 1));

    let attach = |store: &mut Store, m: i64, r: &ReportId| {
        store
            .write(|w| w.tx().attach_message(m, r))
            .expect("attach")
    };
    assert_eq!(attach(&mut store, stray, &id), Attached::Attached);
    assert!(store.read().unattached_messages().expect("list").is_empty());
    let other = report(&mut store);
    assert_eq!(
        attach(&mut store, stray, &other),
        Attached::AlreadyIn(id.clone()),
        "an attached message is not moved"
    );
    assert_eq!(attach(&mut store, 999, &id), Attached::NoMessage);
    let nowhere = ReportId::from_stored("SEC-2027-0999".to_owned());
    assert_eq!(attach(&mut store, stray, &nowhere), Attached::NoReport);
}

#[test]
fn mail_referring_to_an_attached_message_is_not_threaded_by_it() {
    let mut store = Store::open_in_memory().expect("store");
    let id = report(&mut store);
    let stray = message(&mut store, 1, None, "forged@attacker.example");
    store
        .write(|w| w.tx().attach_message(stray, &id))
        .expect("attach");
    assert_eq!(
        store
            .read()
            .report_for_message_id("forged@attacker.example")
            .expect("lookup"),
        None
    );
    assert_eq!(
        store
            .read()
            .latest_message_id_from(&id, "rita@researcher.example")
            .expect("lookup"),
        None,
        "an answer is not threaded under a message whose From may be forged"
    );
    message(&mut store, 2, Some(&id), "real@researcher.example");
    assert_eq!(
        store
            .read()
            .report_for_message_id("real@researcher.example")
            .expect("lookup"),
        Some(id)
    );
}
