use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::audit::{Actor, Auth};
use crate::crypto::{Crypto, keys};
use crate::report::ReportState;
use crate::store::{OpenMode, Recorder};

fn at(text: &str) -> Timestamp {
    text.parse().expect("time")
}

/// A daemon's settings in `dir`: one member, the team key (valid for
/// `key_days` from `created`, if given), the site under `dir/site` with
/// security.txt expiring on `expires`.
fn settings(dir: &Path, created: Timestamp, key_days: Option<u64>, expires: &str) -> Arc<Settings> {
    let key = keys::generate(
        "Example Security <security@example.org>",
        created,
        key_days.map(|d| std::time::Duration::from_secs(d * 86400)),
        None,
    )
    .expect("generate");
    let _ = std::fs::remove_file(dir.join("team.key"));
    keys::write_secret(&dir.join("team.key"), &key).expect("write key");
    let text = format!(
        "{}\n[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n\n\
         [openpgp]\nsecret_keys = [\"team.key\"]\n\n\
         [publish]\nbase_url = \"https://example.org/security\"\ndir = \"site\"\n\n\
         [security_txt]\nexpires = \"{expires}\"\n",
        crate::config::tests::MINIMAL
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write");
    let loaded = crate::settings::load(&path).expect("config");
    let crypto = Crypto::load(
        &loaded.config.openpgp,
        &loaded.config.team,
        created + SignedDuration::from_hours(1),
    )
    .expect("keys");
    Arc::new(Settings {
        config: loaded.config,
        rules: loaded.rules,
        templates: loaded.templates,
        crypto,
    })
}

fn stores(dir: &Path) -> (Mutex<Store>, Mutex<Store>) {
    let path = dir.join("state.sqlite3");
    let writer = Store::open(&path, OpenMode::Create).expect("store");
    let reader = Store::open(&path, OpenMode::Existing).expect("store");
    (Mutex::new(reader), Mutex::new(writer))
}

fn queued_kinds(writer: &Mutex<Store>, now: Timestamp) -> Vec<String> {
    lock(writer)
        .read()
        .due_mail(now + SignedDuration::from_hours(1), 0, 100)
        .expect("outbox")
        .into_iter()
        .map(|m| m.kind)
        .collect()
}

#[test]
fn the_team_is_warned_thirty_days_before_security_txt_expires_and_only_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = at("2027-01-01T00:00:00Z");
    let s = settings(dir.path(), created, None, "2027-06-30");
    let (reader, writer) = stores(dir.path());
    let before = at("2027-05-30T23:00:00Z");
    assert_eq!(warn(&reader, &writer, &s, before).expect("warn"), 0);
    let due = at("2027-05-31T00:00:00Z");
    assert_eq!(warn(&reader, &writer, &s, due).expect("warn"), 1);
    assert_eq!(queued_kinds(&writer, due), ["security-txt-expires"]);
    // Every later tick, and after a restart (a new daemon reads the table).
    for hours in [0, 1, 24 * 10, 24 * 40] {
        let later = due + SignedDuration::from_hours(hours);
        assert_eq!(
            warn(&reader, &writer, &s, later).expect("warn"),
            0,
            "{hours}"
        );
    }
    assert_eq!(queued_kinds(&writer, due).len(), 1);
}

#[test]
fn a_new_expiry_date_is_warned_about_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = at("2027-01-01T00:00:00Z");
    let (reader, writer) = stores(dir.path());
    let s = settings(dir.path(), created, None, "2027-06-30");
    assert_eq!(
        warn(&reader, &writer, &s, at("2027-06-01T00:00:00Z")).expect("warn"),
        1
    );
    let moved = settings(dir.path(), created, None, "2027-07-15");
    assert_eq!(
        warn(&reader, &writer, &moved, at("2027-06-20T00:00:00Z")).expect("warn"),
        1
    );
}

#[test]
fn the_team_is_warned_before_the_signing_key_expires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = at("2027-01-01T00:00:00Z");
    // The key expires on 2027-03-02; security.txt much later.
    let s = settings(dir.path(), created, Some(60), "2027-12-01");
    let (reader, writer) = stores(dir.path());
    assert_eq!(
        warn(&reader, &writer, &s, at("2027-01-20T00:00:00Z")).expect("warn"),
        0
    );
    let now = at("2027-02-01T00:00:00Z");
    assert_eq!(warn(&reader, &writer, &s, now).expect("warn"), 1);
    assert_eq!(queued_kinds(&writer, now), ["signing-key-expires"]);
    assert_eq!(
        warn(&reader, &writer, &s, now + SignedDuration::from_hours(24)).expect("warn"),
        0
    );
}

#[test]
fn the_site_is_published_again_only_after_a_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = at("2027-01-01T00:00:00Z");
    let s = settings(dir.path(), created, None, "2027-06-30");
    let (reader, writer) = stores(dir.path());
    let now = at("2027-02-01T00:00:00Z");
    let mut last = Published::default();
    let first = republish(&reader, &s, &mut last, now)
        .expect("publish")
        .expect("published");
    assert_eq!(first.written.len(), 5, "{first:?}");
    assert!(dir.path().join("site/.well-known/security.txt").is_file());
    assert!(
        republish(&reader, &s, &mut last, now)
            .expect("publish")
            .is_none()
    );

    lock(&writer)
        .write(|batch| {
            let tx = batch.tx();
            let id = tx.create_report("SEC", 2027, "r@x.example", "s", now)?;
            let rec = Recorder {
                report: Some(&id),
                at: now,
                actor: Actor::Daemon,
                auth: Auth::None,
                message: None,
            };
            rec.change_state(&tx, &id, ReportState::Fixed, "state", None)?;
            rec.change_state(&tx, &id, ReportState::Disclosed, "state", None)?;
            Ok::<_, StoreError>(())
        })
        .expect("write");
    let later = now + SignedDuration::from_hours(1);
    let second = republish(&reader, &s, &mut last, later)
        .expect("publish")
        .expect("published");
    assert!(
        second.written.contains(&"security-updates.html".to_owned()),
        "{second:?}"
    );
    assert!(
        second.written.iter().any(|p| p.starts_with("advisories/")),
        "{second:?}"
    );
    assert!(
        !second
            .written
            .contains(&".well-known/security.txt".to_owned())
    );
}
