use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::clock::FixedClock;
use crate::crypto::{Crypto, keys};
use crate::monitor::{DiskSpace, KIND};
use crate::store::{NewMail, NewMessage, OpenMode, ThreadedBy};

fn at(text: &str) -> Timestamp {
    text.parse().expect("time")
}

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

const T0: &str = "2027-03-01T12:00:00Z";

/// A daemon's settings in `dir`: the given `[source]`, two members, Alice
/// with a key valid for `key_days` from [`T0`] (none if `None`), `extra`
/// appended.
fn settings(dir: &Path, source: &str, key_days: Option<u64>, extra: &str) -> Arc<Settings> {
    let created = at(T0);
    let alice_key = match key_days {
        Some(days) => {
            let cert = keys::generate(
                "Alice <alice@example.org>",
                created,
                Some(Duration::from_secs(days * 86400)),
                None,
            )
            .expect("generate");
            std::fs::write(
                dir.join("alice.asc"),
                keys::export_public(&cert).expect("export"),
            )
            .expect("write key");
            "key = \"alice.asc\"\n"
        }
        None => "",
    };
    let text = format!(
        "[program]\nname = \"Example\"\naddress = \"security@example.org\"\nid_prefix = \"SEC\"\n\
         timezone = \"Europe/Berlin\"\npolicy_url = \"https://example.org/security\"\n\n\
         [storage]\ndatabase = \"db.sqlite3\"\n\n{source}\n\n\
         [transport]\nkind = \"file\"\ndir = \"outbox\"\n\n\
         [[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n{alice_key}\n\
         [[team.members]]\nname = \"Bob\"\nemail = \"bob@example.org\"\n\n{extra}"
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write");
    let loaded = crate::settings::load(&path).expect("config");
    let crypto = Crypto::load(&loaded.config.openpgp, &loaded.config.team, created).expect("keys");
    Arc::new(Settings {
        config: loaded.config,
        rules: loaded.rules,
        templates: loaded.templates,
        crypto,
    })
}

/// The team's signing key in `dir/team.key`, valid for `days` from [`T0`].
fn write_team_key(dir: &Path, days: Option<u64>) {
    let key = keys::generate(
        "Example Security <security@example.org>",
        at(T0),
        days.map(|d| Duration::from_secs(d * 86400)),
        None,
    )
    .expect("generate");
    keys::write_secret(&dir.join("team.key"), &key).expect("write key");
}

const MAILDIR: &str = "[source]\nkind = \"maildir\"\npath = \"mail\"";

fn stores(dir: &Path) -> (Mutex<Store>, Mutex<Store>) {
    let path = dir.join("db.sqlite3");
    let writer = Store::open(&path, OpenMode::Create).expect("store");
    let reader = Store::open(&path, OpenMode::Existing).expect("store");
    (Mutex::new(reader), Mutex::new(writer))
}

/// The alert mails in the outbox, not sent yet: (recipients, raw).
fn alerts(writer: &Mutex<Store>) -> Vec<(Vec<String>, String)> {
    lock(writer)
        .read()
        .due_mail(at("2100-01-01T00:00:00Z"), 0, 1000)
        .expect("outbox")
        .into_iter()
        .filter(|m| m.kind == KIND)
        .map(|m| (m.recipients, String::from_utf8_lossy(&m.raw).into_owned()))
        .collect()
}

/// Marks every queued mail sent.
fn send_all(writer: &Mutex<Store>, now: Timestamp) {
    let mut store = lock(writer);
    let due = store
        .read()
        .due_mail(at("2100-01-01T00:00:00Z"), 0, 1000)
        .expect("outbox");
    store
        .write(|batch| {
            for m in &due {
                batch.tx().mark_sent(m.id, now)?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("sent");
}

fn queue_answer(writer: &Mutex<Store>, name: &str, held: bool, now: Timestamp) {
    let recipients = vec!["reporter@example.net".to_owned()];
    lock(writer)
        .write(|batch| {
            batch.tx().enqueue(
                &NewMail {
                    report_id: None,
                    kind: "acknowledgement",
                    message_id: name,
                    envelope_from: "security@example.org",
                    return_token: None,
                    recipients: &recipients,
                    rate_key: None,
                    raw: b"Subject: x\r\n\r\nx\r\n",
                    held,
                    team_lines: &[],
                },
                now,
            )
        })
        .expect("enqueue");
}

fn store_message(writer: &Mutex<Store>, sha: &str, received_at: Timestamp) {
    lock(writer)
        .write(|batch| {
            batch.tx().insert_message(&NewMessage {
                sha256: sha,
                raw: Some(b"x"),
                size: 1,
                source: "test",
                location: sha,
                message_id: None,
                in_reply_to: None,
                references: &[],
                from_addr: None,
                from_name: None,
                to_addrs: &[],
                subject: "",
                date: None,
                kind: "report",
                report_id: None,
                threaded_by: ThreadedBy::None,
                problems: &[],
                received_at,
            })
        })
        .expect("message");
}

const NOTHING: Observed = Observed {
    source_failing_since: None,
    disk: None,
};

/// A source failing since `since`, nothing else observed.
fn failing_since(since: Timestamp) -> Observed {
    Observed {
        source_failing_since: Some(since),
        ..NOTHING
    }
}

/// A daemon in a fresh directory: its settings and its two stores.
struct Fixture {
    dir: tempfile::TempDir,
    s: Arc<Settings>,
    reader: Mutex<Store>,
    writer: Mutex<Store>,
}

impl Fixture {
    /// On a Maildir, no member key, `extra` config.
    fn new(extra: &str) -> Self {
        Self::with(|dir| settings(dir, MAILDIR, None, extra))
    }

    /// With the settings `make` writes into the directory (keys first).
    fn with(make: impl FnOnce(&Path) -> Arc<Settings>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = make(dir.path());
        let (reader, writer) = stores(dir.path());
        Self {
            dir,
            s,
            reader,
            writer,
        }
    }

    /// On a Maildir, with the team key and a canary address.
    fn canary() -> Self {
        Self::with(canary_settings)
    }

    fn check(&self, observed: &Observed, now: Timestamp) -> usize {
        check(&self.reader, &self.writer, &self.s, observed, now).expect("check")
    }

    /// Checks with nothing failing: only the store's own conditions.
    fn quiet(&self, now: Timestamp) -> usize {
        self.check(&NOTHING, now)
    }
}

#[test]
fn an_imap_source_failing_longer_than_alert_after_mails_every_member_once() {
    let f = Fixture::new("");
    let since = at(T0);
    let failing = failing_since(since);
    let check = |now| f.check(&failing, now);
    assert_eq!(check(since + minutes(29)), 0);
    assert!(alerts(&f.writer).is_empty());
    assert_eq!(check(since + minutes(30)), 1);
    let queued = alerts(&f.writer);
    assert_eq!(queued.len(), 2, "one mail per member");
    assert!(
        queued[0]
            .1
            .contains("The IMAP source has failed for 30 minutes")
    );
    // Delivered, or the outbox would soon be another condition.
    send_all(&f.writer, since + minutes(30));
    // Every later tick while it lasts, and a restarted daemon (which reads
    // the store), stay silent.
    assert_eq!(check(since + hours(5)), 0);
    let (reader2, writer2) = stores(f.dir.path());
    assert_eq!(
        super::check(&reader2, &writer2, &f.s, &failing, since + hours(6)).expect("check"),
        0
    );
    assert!(alerts(&f.writer).is_empty());
}

#[test]
fn a_source_that_recovers_and_fails_again_alerts_again() {
    let f = Fixture::new("");
    assert_eq!(f.check(&failing_since(at(T0)), at(T0) + hours(1)), 1);
    send_all(&f.writer, at(T0) + hours(1));
    // It works again: the alert is forgotten, nothing is sent.
    assert_eq!(f.quiet(at(T0) + hours(2)), 0);
    assert!(
        lock(&f.reader)
            .read()
            .monitor_alerts()
            .expect("alerts")
            .is_empty()
    );
    let again = failing_since(at(T0) + hours(3));
    assert_eq!(f.check(&again, at(T0) + hours(3) + minutes(10)), 0);
    assert_eq!(f.check(&again, at(T0) + hours(4)), 1);
}

#[test]
fn the_monitor_can_be_turned_off() {
    let f = Fixture::new("[monitor]\nenabled = false\n");
    let failing = Observed {
        source_failing_since: Some(at(T0)),
        disk: Some(DiskSpace {
            available: 1,
            total: 100,
        }),
    };
    assert_eq!(f.check(&failing, at(T0) + hours(10)), 0);
}

/// A port nothing listens on: connecting is refused at once.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn a_broken_imap_port_is_reported_by_the_source_worker_and_alerted_after_alert_after() {
    let source = format!(
        "[source]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         username = \"u\"\npassword = \"p\"\ntimeout = \"2s\"",
        closed_port()
    );
    let f = Fixture::with(|dir| settings(dir, &source, None, "[monitor]\nalert_after = \"10m\"\n"));
    let clock = Arc::new(FixedClock::new(at(T0)));
    let (_keep, settings_rx) = watch::channel(f.s.clone());
    let shared = super::super::Shared {
        store: Arc::new(Mutex::new(
            Store::open(&f.dir.path().join("db.sqlite3"), OpenMode::Existing).expect("store"),
        )),
        clock: clock.clone(),
        settings: settings_rx,
        wake: Arc::new(Notify::new()),
        readiness: super::super::Readiness::default(),
        health: SourceHealth::default(),
        telemetry: Arc::default(),
    };
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(super::super::imap::ingest_loop(
        shared.clone(),
        false,
        cancel.clone(),
    ));
    let mut waited = 0;
    while shared.health.failing_since().is_none() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    cancel.cancel();
    worker.await.expect("join").expect("worker");
    assert_eq!(shared.health.failing_since(), Some(at(T0)));
    let observed = Observed {
        source_failing_since: shared.health.failing_since(),
        ..NOTHING
    };
    assert_eq!(f.check(&observed, at(T0) + minutes(9)), 0);
    assert_eq!(f.check(&observed, at(T0) + minutes(10)), 1);
}

#[test]
fn source_health_keeps_the_first_failure_until_a_success() {
    let health = SourceHealth::default();
    health.failed(at(T0));
    health.failed(at(T0) + hours(1));
    assert_eq!(health.failing_since(), Some(at(T0)));
    health.succeeded();
    assert_eq!(health.failing_since(), None);
}

#[test]
fn mail_stuck_in_the_outbox_for_an_hour_mails_the_team_once_and_again_after_it_cleared() {
    let f = Fixture::new("");
    let t0 = at(T0);
    queue_answer(&f.writer, "a1@example.org", false, t0);
    let check = |now| f.quiet(now);
    assert_eq!(check(t0 + minutes(59)), 0);
    assert_eq!(check(t0 + minutes(60)), 1);
    let queued = alerts(&f.writer);
    assert_eq!(queued.len(), 2);
    assert!(queued[0].1.contains("1 mail(s) unsent for 60 minutes"));
    // The alert mails are themselves unsent now; nothing more goes out.
    assert_eq!(check(t0 + hours(3)), 0);
    assert_eq!(alerts(&f.writer).len(), 2);
    // The transport works again: everything goes, the alert clears.
    send_all(&f.writer, t0 + hours(4));
    assert_eq!(check(t0 + hours(4)), 0);
    queue_answer(&f.writer, "a2@example.org", false, t0 + hours(5));
    assert_eq!(check(t0 + hours(5) + minutes(30)), 0);
    assert_eq!(check(t0 + hours(6)), 1);
}

#[test]
fn a_mail_that_failed_for_good_does_not_hide_a_later_outage() {
    let f = Fixture::new("");
    let t0 = at(T0);
    queue_answer(&f.writer, "a1@example.org", false, t0);
    let failed = lock(&f.reader)
        .read()
        .due_mail(t0, 0, 10)
        .expect("outbox")
        .pop()
        .expect("queued");
    lock(&f.writer)
        .write(|batch| batch.tx().mark_failed(failed.id, "550 no such user"))
        .expect("failed");
    let check = |now| f.quiet(now);
    assert_eq!(check(t0 + hours(1)), 1);
    assert!(
        alerts(&f.writer)[0]
            .1
            .contains("1 mail(s) failed and not sent")
    );
    send_all(&f.writer, t0 + hours(1));
    assert_eq!(check(t0 + hours(2)), 0);
    // The transport breaks later, the failed mail still there.
    queue_answer(&f.writer, "a2@example.org", false, t0 + hours(3));
    assert_eq!(check(t0 + hours(4)), 1);
    assert!(
        alerts(&f.writer)[0]
            .1
            .contains("1 mail(s) unsent for 60 minutes")
    );
}

#[test]
fn a_mail_held_for_a_reporters_key_is_not_stuck() {
    let f = Fixture::new("");
    queue_answer(&f.writer, "held@example.org", true, at(T0));
    assert_eq!(f.quiet(at(T0) + hours(48)), 0);
}

#[test]
fn the_outbox_threshold_is_configurable() {
    let f = Fixture::new("[monitor]\noutbox_after = \"10m\"\n");
    queue_answer(&f.writer, "a1@example.org", false, at(T0));
    assert_eq!(f.quiet(at(T0) + minutes(10)), 1);
}

#[test]
fn no_mail_for_quiet_days_mails_the_team_and_new_mail_clears_it() {
    let f = Fixture::new("[monitor]\nquiet_days = 3\n");
    let t0 = at(T0);
    store_message(&f.writer, "01", t0);
    let check = |now| f.quiet(now);
    assert_eq!(check(t0 + hours(71)), 0);
    assert_eq!(check(t0 + hours(72)), 1);
    assert!(
        alerts(&f.writer)[0]
            .1
            .contains("No mail has arrived for 3 days")
    );
    send_all(&f.writer, t0 + hours(72));
    assert_eq!(check(t0 + hours(100)), 0);
    store_message(&f.writer, "02", t0 + hours(101));
    assert_eq!(check(t0 + hours(102)), 0);
    assert!(
        lock(&f.reader)
            .read()
            .monitor_alerts()
            .expect("alerts")
            .is_empty()
    );
    assert_eq!(check(t0 + hours(101 + 72)), 1);
}

#[test]
fn quiet_days_zero_never_alerts() {
    let f = Fixture::new("[monitor]\nquiet_days = 0\n");
    store_message(&f.writer, "01", at(T0));
    assert_eq!(f.quiet(at(T0) + hours(24 * 365)), 0);
}

#[test]
fn a_members_key_expiring_within_thirty_days_mails_the_team_once() {
    // Alice's key runs out 45 days after T0.
    let f = Fixture::with(|dir| {
        write_team_key(dir, None);
        settings(
            dir,
            MAILDIR,
            Some(45),
            "[monitor]\nquiet_days = 0\n\n[openpgp]\nsecret_keys = [\"team.key\"]\n",
        )
    });
    let check = |now| f.quiet(now);
    assert_eq!(check(at(T0) + hours(24 * 14)), 0);
    assert_eq!(check(at(T0) + hours(24 * 15)), 1);
    let queued = alerts(&f.writer);
    assert_eq!(queued.len(), 2);
    let bob = queued
        .iter()
        .find(|(to, _)| to == &["bob@example.org"])
        .expect("bob is told");
    assert!(bob.1.contains("The key of alice@example.org expires on"));
    // Alice's copy is encrypted to the very key: it says nothing in clear.
    let alice = queued
        .iter()
        .find(|(to, _)| to == &["alice@example.org"])
        .expect("alice is told");
    assert!(alice.1.contains("BEGIN PGP MESSAGE"));
    send_all(&f.writer, at(T0) + hours(24 * 15));
    assert_eq!(check(at(T0) + hours(24 * 20)), 0);
    // Once it has expired, it is still the same occurrence.
    assert_eq!(check(at(T0) + hours(24 * 50)), 0);
    assert!(alerts(&f.writer).is_empty());
}

#[test]
fn a_member_key_that_does_not_expire_is_never_alerted() {
    let f = Fixture::new("");
    let check = |now| f.quiet(now);
    assert_eq!(check(at(T0) + hours(24 * 3650)), 0);
}

#[test]
fn the_team_signing_key_is_left_to_the_publication_warning() {
    let f = Fixture::with(|dir| {
        write_team_key(dir, Some(40));
        settings(
            dir,
            MAILDIR,
            None,
            "[openpgp]\nsecret_keys = [\"team.key\"]\n",
        )
    });
    let now = at(T0) + hours(24 * 20);
    assert_eq!(f.quiet(now), 0);
    assert_eq!(
        super::super::publish::warn(&f.reader, &f.writer, &f.s, now).expect("warn"),
        1
    );
}

/// A working source and a disk of 1000 bytes with `available` free.
fn disk_free(available: u64) -> Observed {
    Observed {
        source_failing_since: None,
        disk: Some(DiskSpace {
            available,
            total: 1000,
        }),
    }
}

#[test]
fn a_disk_below_ten_percent_free_alerts_once_and_again_after_it_recovered() {
    let f = Fixture::new("");
    let check = |o: Observed, now| f.check(&o, now);
    assert_eq!(check(disk_free(100), at(T0)), 0);
    assert_eq!(check(disk_free(99), at(T0)), 1);
    assert!(
        alerts(&f.writer)[0]
            .1
            .contains("9% free on the database's disk")
    );
    send_all(&f.writer, at(T0));
    assert_eq!(check(disk_free(50), at(T0) + hours(1)), 0);
    assert_eq!(check(disk_free(500), at(T0) + hours(2)), 0);
    assert_eq!(check(disk_free(10), at(T0) + hours(3)), 1);
}

#[test]
fn a_disk_hovering_at_the_threshold_alerts_once_until_it_has_clearly_recovered() {
    let f = Fixture::new("");
    let check = |o: Observed, now| f.check(&o, now);
    assert_eq!(check(disk_free(99), at(T0)), 1);
    send_all(&f.writer, at(T0));
    // 9%, 10%, 11%, 9% again: still the same low disk.
    for (i, available) in [100, 110, 95, 119, 99].into_iter().enumerate() {
        let later = at(T0) + hours(i64::try_from(i).expect("small") + 1);
        assert_eq!(check(disk_free(available), later), 0, "{available}");
    }
    assert!(
        alerts(&f.writer).is_empty(),
        "nothing queued while it hovers"
    );
    // 12% free clears it; falling under 10% again is a new alert.
    assert_eq!(check(disk_free(120), at(T0) + hours(10)), 0);
    assert_eq!(check(disk_free(99), at(T0) + hours(11)), 1);
}

#[test]
fn the_free_space_of_a_real_filesystem_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let space = crate::monitor::disk_space(dir.path()).expect("statvfs");
    assert!(space.total > 0);
    assert!(space.available <= space.total);
    assert!(crate::monitor::disk_space(&dir.path().join("missing")).is_err());
    let (reader, _writer) = stores(dir.path());
    let observed = observe(&reader, &SourceHealth::default());
    assert_eq!(observed.disk.map(|d| d.total), Some(space.total));
}

const CANARY: &str = "[openpgp]\nsecret_keys = [\"team.key\"]\n\n\
                      [monitor]\ncanary_address = \"canary@example.net\"\n";

/// Settings with the team key and a canary address.
fn canary_settings(dir: &Path) -> Arc<Settings> {
    write_team_key(dir, None);
    settings(dir, MAILDIR, None, CANARY)
}

/// The canary waiting in the outbox: its Message-ID and raw bytes.
fn queued_canary(writer: &Mutex<Store>) -> Option<(String, Vec<u8>)> {
    let queued = lock(writer)
        .read()
        .due_mail(at("2100-01-01T00:00:00Z"), 0, 1000)
        .expect("outbox");
    let mut canaries: Vec<_> = queued
        .into_iter()
        .filter(|m| m.kind == crate::monitor::canary::KIND)
        .collect();
    assert!(canaries.len() <= 1, "one canary at a time");
    canaries.pop().map(|m| {
        assert_eq!(m.envelope_from, "canary@example.net");
        assert_eq!(m.recipients, ["security@example.org"]);
        (m.message_id, m.raw)
    })
}

/// `raw` arriving in the program's mailbox at `now`, as the MX delivers it.
fn arrive(
    s: &Settings,
    writer: &Mutex<Store>,
    raw: &[u8],
    now: Timestamp,
) -> crate::ingest::Outcome {
    let mut delivered = b"Return-Path: <canary@example.net>\r\nDelivered-To: security@example.org\r\n\
                          Received: from mx.example.net by mx.example.org; Mon, 1 Mar 2027 12:00:00 +0000\r\n"
        .to_vec();
    delivered.extend_from_slice(raw);
    let prepared = crate::ingest::prepare(
        crate::source::Incoming {
            location: "new/1".into(),
            raw: crate::source::Raw::Loaded(delivered),
        },
        &s.config.limits,
        &s.crypto,
        now,
    );
    let pipeline = crate::ingest::Pipeline {
        config: &s.config,
        rules: &s.rules,
        templates: &s.templates,
        crypto: &s.crypto,
    };
    pipeline
        .ingest(writer, "maildir:test", &[prepared], now)
        .pop()
        .expect("one result")
        .expect("stored")
}

fn canary_alerts(writer: &Mutex<Store>) -> usize {
    alerts(writer)
        .iter()
        .filter(|(_, raw)| raw.contains("The canary has not come back"))
        .count()
}

#[test]
fn a_canary_is_queued_once_a_day_from_the_canary_address_signed_by_the_team() {
    let f = Fixture::canary();
    let check = |now| f.quiet(now);
    assert_eq!(check(at(T0)), 0);
    let (id, raw) = queued_canary(&f.writer).expect("a canary");
    let token = crate::monitor::canary::token_of(&id).expect("a canary token");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("multipart/signed"));
    assert!(text.contains(token), "the body carries the token");
    send_all(&f.writer, at(T0));
    assert_eq!(check(at(T0) + minutes(30)), 0);
    assert!(queued_canary(&f.writer).is_none(), "not twice in a day");
    assert_eq!(check(at(T0) + hours(24)), 1, "yesterday's is missing");
    let (next, _) = queued_canary(&f.writer).expect("the next day's canary");
    assert_ne!(next, id, "every canary has a token of its own");
}

#[test]
fn a_canary_that_never_returns_alerts_once_after_an_hour() {
    let f = Fixture::canary();
    let check = |now| f.quiet(now);
    check(at(T0));
    send_all(&f.writer, at(T0));
    assert_eq!(check(at(T0) + minutes(59)), 0);
    assert_eq!(check(at(T0) + minutes(60)), 1);
    assert_eq!(canary_alerts(&f.writer), 2, "one per member");
    send_all(&f.writer, at(T0) + minutes(60));
    // The next days' canaries go missing too: the same occurrence.
    for day in 1..3 {
        check(at(T0) + hours(24 * day));
        send_all(&f.writer, at(T0) + hours(24 * day));
        assert_eq!(check(at(T0) + hours(24 * day) + minutes(61)), 0);
    }
}

#[test]
fn a_canary_that_comes_back_is_filed_without_a_report_or_an_answer_and_nothing_alerts() {
    let f = Fixture::canary();
    f.quiet(at(T0));
    let (_, raw) = queued_canary(&f.writer).expect("a canary");
    send_all(&f.writer, at(T0));
    let outcome = arrive(&f.s, &f.writer, &raw, at(T0) + minutes(2));
    let crate::ingest::Outcome::Stored {
        report,
        opened,
        acknowledged,
        ..
    } = outcome
    else {
        panic!("stored expected, got {outcome:?}");
    };
    assert_eq!(report, None);
    assert!(!opened);
    assert!(!acknowledged);
    assert!(alerts(&f.writer).is_empty(), "nothing queued for it");
    assert!(queued_canary(&f.writer).is_none());
    assert_eq!(f.quiet(at(T0) + hours(2)), 0);
    assert_eq!(
        lock(&f.reader)
            .read()
            .latest_canary_sent_by(at(T0) + hours(2))
            .expect("canary"),
        Some((true, at(T0)))
    );
}

#[test]
fn a_forged_canary_does_not_suppress_the_alert() {
    let f = Fixture::canary();
    f.quiet(at(T0));
    let (id, raw) = queued_canary(&f.writer).expect("a canary");
    send_all(&f.writer, at(T0));
    let text = String::from_utf8_lossy(&raw).into_owned();
    // A look-alike that guesses a token: right shape, wrong value.
    let guessed = text.replace(
        crate::monitor::canary::token_of(&id).expect("token"),
        "0123456789abcdef0123456789abcdef",
    );
    // One that knows the Message-ID (seen on the way) but not the body.
    let header_end = text.find("\r\n\r\n").expect("headers");
    let copied_id = format!(
        "{}\r\n\r\nThis is the daily canary. Token: {}\r\n",
        &text[..header_end]
            .replace("multipart/signed", "text/plain")
            .replace("Content-Type: text/plain; micalg", "X-Was: micalg"),
        crate::monitor::canary::token_of(&id).expect("token"),
    );
    for (n, forged) in [guessed, copied_id].iter().enumerate() {
        let mut unique = format!("X-Forgery: {n}\r\n").into_bytes();
        unique.extend_from_slice(forged.as_bytes());
        arrive(&f.s, &f.writer, &unique, at(T0) + minutes(5));
    }
    assert_eq!(
        lock(&f.reader)
            .read()
            .latest_canary_sent_by(at(T0))
            .expect("canary"),
        Some((false, at(T0)))
    );
    send_all(&f.writer, at(T0) + minutes(5));
    assert_eq!(f.quiet(at(T0) + hours(1)), 1);
    assert_eq!(canary_alerts(&f.writer), 2);
}

#[test]
fn yesterdays_canary_replayed_does_not_stand_for_todays() {
    let f = Fixture::canary();
    let check = |now| f.quiet(now);
    check(at(T0));
    let (_, yesterday) = queued_canary(&f.writer).expect("a canary");
    send_all(&f.writer, at(T0));
    arrive(&f.s, &f.writer, &yesterday, at(T0) + minutes(1));
    assert_eq!(check(at(T0) + hours(2)), 0);
    check(at(T0) + hours(24));
    assert!(queued_canary(&f.writer).is_some());
    send_all(&f.writer, at(T0) + hours(24));
    // The old one again, through another relay (other headers, new hash).
    let mut replayed = b"X-Relay: again\r\n".to_vec();
    replayed.extend_from_slice(&yesterday);
    arrive(&f.s, &f.writer, &replayed, at(T0) + hours(24) + minutes(5));
    assert_eq!(check(at(T0) + hours(25)), 1);
    assert_eq!(canary_alerts(&f.writer), 2);
}

#[test]
fn queueing_the_canary_is_reported_so_that_delivery_is_woken() {
    let f = Fixture::canary();
    assert_eq!(
        check_and_queue(&f.reader, &f.writer, &f.s, &NOTHING, at(T0)).expect("check"),
        (0, true)
    );
    assert_eq!(
        check_and_queue(&f.reader, &f.writer, &f.s, &NOTHING, at(T0) + minutes(1)).expect("check"),
        (0, false)
    );
}
