use crate::audit::{Actor, Auth, EventKind};
use jiff::Timestamp;

use super::*;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).expect("time")
}

#[test]
fn report_ids_count_per_year() {
    let mut store = Store::open_in_memory().expect("store");
    let ids = store
        .write(|w| {
            let tx = w.tx();
            Ok::<_, StoreError>(vec![
                tx.create_report("SEC", 2026, "a@x", "one", at(0))?,
                tx.create_report("SEC", 2026, "b@x", "two", at(1))?,
                tx.create_report("SEC", 2027, "c@x", "three", at(2))?,
            ])
        })
        .expect("write");
    let ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
    assert_eq!(ids, ["SEC-2026-0001", "SEC-2026-0002", "SEC-2027-0001"]);
}

#[test]
fn events_are_append_only() {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| {
            w.tx().append_event(&NewEvent {
                report_id: None,
                at: at(0),
                actor: Actor::Daemon,
                auth: Auth::None,
                kind: EventKind::KeyIgnored,
                detail: serde_json::json!({}),
                message: None,
            })?;
            Ok::<_, StoreError>(())
        })
        .expect("append");
    let err = store
        .conn
        .execute("UPDATE events SET kind = 'x'", [])
        .expect_err("update allowed");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = store
        .conn
        .execute("DELETE FROM events", [])
        .expect_err("delete allowed");
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let mut store = Store::open_in_memory().expect("store");
    let failed: Result<(), StoreError> = store.write(|w| {
        w.tx().create_report("SEC", 2026, "b@x", "undone", at(1))?;
        Err(StoreError::Corrupt {
            what: "test",
            detail: "boom".into(),
        })
    });
    assert!(failed.is_err());
    assert!(store.read().reports(None).expect("list").is_empty());
    // And the next allocation reuses nothing that was rolled back.
    let id = store
        .write(|w| w.tx().create_report("SEC", 2026, "a@x", "kept", at(2)))
        .expect("write");
    assert_eq!(id.as_str(), "SEC-2026-0001");
}

#[test]
fn outbox_rows_are_sent_once_and_retried_when_due() {
    let mut store = Store::open_in_memory().expect("store");
    let recipients = vec!["r@x.net".to_owned()];
    let id = store
        .write(|w| {
            w.tx().enqueue(
                &NewMail {
                    report_id: None,
                    kind: "acknowledgement",
                    message_id: "disclosed.1@example.org",
                    envelope_from: "security@example.org",
                    return_token: None,
                    recipients: &recipients,
                    rate_key: Some("r@x.net"),
                    raw: b"raw",
                    held: false,
                    team_lines: &[],
                },
                at(0),
            )
        })
        .expect("enqueue");
    let read = |now| store.read().due_mail(now, 0, 10).expect("due").len();
    assert_eq!(read(at(0)), 1);
    assert_eq!(
        store
            .read()
            .auto_replies_since("r@x.net", at(-1))
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .read()
            .auto_replies_since("r@x.net", at(0))
            .expect("count"),
        0
    );
    store
        .write(|w| w.tx().mark_retry(id, at(60), "try later"))
        .expect("retry");
    assert_eq!(store.read().due_mail(at(59), 0, 10).expect("due").len(), 0);
    assert_eq!(
        store.read().due_mail(at(60), 0, 10).expect("due")[0].attempts,
        1
    );
    // Walking by id: nothing is due after the last id seen.
    assert_eq!(store.read().due_mail(at(60), id, 10).expect("due").len(), 0);
    assert!(store.write(|w| w.tx().mark_sent(id, at(61))).expect("sent"));
    assert!(
        !store
            .write(|w| w.tx().mark_sent(id, at(62)))
            .expect("sent twice")
    );
    assert_eq!(
        store.read().due_mail(at(1000), 0, 10).expect("due").len(),
        0
    );
    let counts = store.read().counts().expect("counts");
    assert_eq!((counts.outbox_sent, counts.outbox_queued), (1, 0));
}

#[test]
fn a_newer_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.sqlite3");
    Store::open(&path, OpenMode::Create).expect("create");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", 99).expect("bump");
    }
    let err = Store::open(&path, OpenMode::Existing).expect_err("newer schema accepted");
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    let conn = rusqlite::Connection::open(&path).expect("open");
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(v, 99);
}

#[test]
fn existing_mode_requires_init() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Store::open(&dir.path().join("none.sqlite3"), OpenMode::Existing)
        .expect_err("missing database opened");
    assert!(err.to_string().contains("disclosed init"), "{err}");
}

#[test]
fn pragmas_are_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("sub/db.sqlite3"), OpenMode::Create).expect("create");
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let fk: i64 = store
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .expect("fk");
    assert_eq!(fk, 1);
    assert_eq!(store.schema_version().expect("version"), migrations::LATEST);
}

#[test]
fn source_cursors_round_trip_per_mailbox() {
    let mut store = Store::open_in_memory().expect("store");
    assert_eq!(store.read().cursor("imap:mx", "INBOX").expect("read"), None);
    let first = Cursor {
        uidvalidity: Some(7),
        last_uid: Some(41),
        updated_at: at(0),
    };
    let moved = Cursor {
        last_uid: Some(42),
        updated_at: at(5),
        ..first
    };
    store
        .write(|w| {
            w.tx().set_cursor("imap:mx", "INBOX", &first)?;
            w.tx().set_cursor("imap:mx", "INBOX", &moved)?;
            w.tx().set_cursor("imap:mx", "Archive", &first)
        })
        .expect("write");
    assert_eq!(
        store.read().cursor("imap:mx", "INBOX").expect("read"),
        Some(moved)
    );
    assert_eq!(
        store.read().cursor("imap:mx", "Archive").expect("read"),
        Some(first)
    );
}

#[test]
fn a_mail_we_sent_is_found_by_its_message_id_and_by_its_return_token_only() {
    let mut store = Store::open_in_memory().expect("store");
    let recipients = vec!["r@x.net".to_owned()];
    let token = "0123456789abcdef0123456789abcdef";
    let mail = |message_id, return_token| NewMail {
        report_id: None,
        kind: "acknowledgement",
        message_id,
        envelope_from: "security+bounce-x@example.org",
        return_token,
        recipients: &recipients,
        rate_key: None,
        raw: b"From: a\r\n\r\nbody",
        held: false,
        team_lines: &[],
    };
    let id = store
        .write(|w| w.tx().enqueue(&mail("m1@example.org", Some(token)), at(0)))
        .expect("enqueue");
    store
        .write(|w| w.tx().enqueue(&mail("m2@example.org", None), at(0)))
        .expect("enqueue");
    let read = store.read();
    let by_id = read
        .sent_by_message_id("m1@example.org")
        .expect("read")
        .expect("found");
    assert_eq!((by_id.id, by_id.kind.as_str()), (id, "acknowledgement"));
    assert_eq!(by_id.recipients, recipients);
    assert_eq!(by_id.raw, b"From: a\r\n\r\nbody");
    let by_token = read
        .sent_by_return_token(token)
        .expect("read")
        .expect("found");
    assert_eq!(by_token.message_id, "m1@example.org");
    assert!(
        read.sent_by_message_id("m3@example.org")
            .expect("read")
            .is_none()
    );
    for other in ["", "0123456789abcdef0123456789abcdee", "security"] {
        assert!(
            read.sent_by_return_token(other).expect("read").is_none(),
            "{other}"
        );
    }
    // A token names one row only.
    let again = store.write(|w| w.tx().enqueue(&mail("m4@example.org", Some(token)), at(0)));
    assert!(again.is_err(), "a second row with the same token");
}

#[test]
fn a_version_1_database_keeps_its_outbox_through_the_openpgp_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "foreign_keys", true).expect("fk");
        rusqlite_migration::Migrations::from_slice(&[rusqlite_migration::M::up(migrations::V1)])
            .to_latest(&mut conn)
            .expect("v1");
        conn.execute_batch(
            "INSERT INTO outbox (id, kind, message_id, envelope_from, recipients, status,
                 next_attempt_at, created_at)
             VALUES (7, 'acknowledgement', 'm7@example.org', 'security@example.org',
                 '[\"r@x.net\"]', 'sent', 0, 0);
             INSERT INTO outbox_raw (outbox, raw) VALUES (7, x'6869');",
        )
        .expect("v1 rows");
    }
    let store = Store::open(&path, OpenMode::Existing).expect("migrated");
    assert_eq!(store.schema_version().expect("version"), migrations::LATEST);
    let (status, raw): (String, Vec<u8>) = store
        .conn
        .query_row(
            "SELECT o.status, r.raw FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
             WHERE o.id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row kept");
    assert_eq!(
        (status.as_str(), raw.as_slice()),
        ("sent", b"hi".as_slice())
    );
    let violations: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk check");
    assert_eq!(violations, 0);
}

#[test]
fn held_mail_waits_for_a_key_and_is_released_sealed() {
    let mut store = Store::open_in_memory().expect("store");
    let to = vec!["r@x.net".to_owned()];
    let other = vec!["o@x.net".to_owned()];
    store
        .write(|w| {
            let tx = w.tx();
            for (n, (recipients, held)) in [(&to, true), (&other, true), (&to, false)]
                .into_iter()
                .enumerate()
            {
                tx.enqueue(
                    &NewMail {
                        report_id: None,
                        kind: "acknowledgement",
                        message_id: &format!("m{n}@example.org"),
                        envelope_from: "security@example.org",
                        return_token: None,
                        recipients,
                        rate_key: None,
                        raw: b"clear",
                        held,
                        team_lines: &[],
                    },
                    at(0),
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("enqueue");
    // Held mail is never due, however late.
    assert_eq!(
        store.read().due_mail(at(10_000), 0, 10).expect("due").len(),
        1
    );
    let held = store.read().held_mail_for("r@x.net").expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].report_id, None);
    store
        .write(|w| w.tx().release_held(held[0].id, b"sealed", at(5)))
        .expect("release");
    let due = store.read().due_mail(at(10_000), 0, 10).expect("due");
    assert_eq!(due.len(), 2);
    assert!(due.iter().any(|m| m.raw == b"sealed"));
    assert_eq!(store.read().held_mail_for("r@x.net").expect("held"), []);
    assert_eq!(
        store.read().held_mail_for("o@x.net").expect("held").len(),
        1
    );
}

#[test]
fn a_second_key_for_an_address_becomes_current_only_when_made_so() {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| {
            let tx = w.tx();
            let key = |fingerprint, source, status| NewKey {
                address: "r@x.net",
                fingerprint,
                cert: b"k",
                source,
                status,
                trust: "attached",
                message: None,
            };
            tx.insert_key(&key("AAAA", "autocrypt", KeyStatus::Current), at(0))?;
            tx.insert_key(&key("BBBB", "attachment", KeyStatus::Pending), at(1))?;
            Ok::<_, StoreError>(())
        })
        .expect("insert");
    let keys = store.read().keys_for_address("r@x.net").expect("keys");
    assert_eq!(
        keys.iter()
            .map(|k| (k.fingerprint.as_str(), k.status.as_str()))
            .collect::<Vec<_>>(),
        [("AAAA", "current"), ("BBBB", "pending")]
    );
    assert!(
        store
            .write(|w| w.tx().make_key_current("r@x.net", "BBBB"))
            .expect("rotate")
    );
    let history = store.read().key_history("r@x.net").expect("history");
    assert_eq!(
        history
            .iter()
            .map(|k| (k.fingerprint.as_str(), k.status.as_str()))
            .collect::<Vec<_>>(),
        [("AAAA", "replaced"), ("BBBB", "current")]
    );
    assert!(
        !store
            .write(|w| w.tx().make_key_current("r@x.net", "CCCC"))
            .expect("unknown")
    );
}

#[test]
fn the_teams_facts_round_trip_and_a_command_mail_applies_once() {
    let mut store = Store::open_in_memory().expect("store");
    let (record, first, again) = store
        .write(|w| {
            let tx = w.tx();
            let id = tx.create_report("SEC", 2026, "r@x.example", "XSS", at(0))?;
            let other = tx.create_report("SEC", 2026, "s@x.example", "XSS too", at(1))?;
            tx.set_state(&other, crate::report::ReportState::Triaged, at(2))?;
            tx.set_severity(&id, Some("high"))?;
            tx.set_cvss(
                &id,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                "critical",
            )?;
            tx.set_assignee(&id, Some("alice@example.org"))?;
            tx.set_duplicate_of(&id, &other)?;
            tx.set_cve(&id, "CVE-2026-12345")?;
            tx.set_credit(
                &id,
                &crate::report::Credit::Named {
                    name: "Jane Doe".into(),
                    affiliation: None,
                    url: Some("https://jane.example".into()),
                    key: None,
                },
            )?;
            tx.set_fixed_in(&id, "3.1.1")?;
            tx.set_disclose_on(&id, jiff::civil::date(2027, 2, 21))?;
            tx.add_fix_extension(&id, 20)?;
            tx.add_fix_extension(&id, 10)?;
            tx.set_waiting(&id, true)?;
            tx.add_tags(&id, &["non-issue".into(), "spf".into()])?;
            tx.add_tags(&id, &["spf".into()])?;
            let message = tx.insert_message(&NewMessage {
                sha256: "00",
                raw: Some(b"x"),
                size: 1,
                source: "test",
                location: "m1",
                message_id: None,
                in_reply_to: None,
                references: &[],
                from_addr: None,
                from_name: None,
                to_addrs: &[],
                subject: "",
                date: None,
                kind: "team",
                report_id: Some(&id),
                threaded_by: ThreadedBy::PlusAddress,
                problems: &[],
                received_at: at(3),
            })?;
            let first = tx.remember_applied("openpgp:abc", message, at(3))?;
            let again = tx.remember_applied("openpgp:abc", message, at(4))?;
            Ok::<_, StoreError>((tx.report_record(&id)?, first, again))
        })
        .expect("write");
    let r = record.expect("report");
    assert_eq!(r.severity.map(|s| s.as_str()), Some("high"));
    assert_eq!(r.cvss_score, Some(9.8));
    assert_eq!(r.cvss_severity.map(|s| s.as_str()), Some("critical"));
    assert_eq!(r.assignee.as_deref(), Some("alice@example.org"));
    assert_eq!(
        r.duplicate_of.as_ref().map(|i| i.as_str()),
        Some("SEC-2026-0002")
    );
    assert_eq!(r.cve.as_deref(), Some("CVE-2026-12345"));
    assert_eq!(
        r.credit,
        crate::report::Credit::Named {
            name: "Jane Doe".into(),
            affiliation: None,
            url: Some("https://jane.example".into()),
            key: None,
        }
    );
    assert_eq!(r.fixed_in.as_deref(), Some("3.1.1"));
    assert_eq!(
        r.disclose_on.map(|d| d.to_string()).as_deref(),
        Some("2027-02-21")
    );
    assert_eq!(r.fix_extension_days, 30);
    assert!(r.waiting);
    assert_eq!(r.tags, ["non-issue", "spf"]);
    assert!(first, "the first time applies");
    assert!(!again, "the same mail again is a replay");
    let triaged = store
        .read()
        .report_records(Some(crate::report::ReportState::Triaged))
        .expect("list");
    assert_eq!(triaged.len(), 1);
    assert_eq!(triaged[0].id.as_str(), "SEC-2026-0002");
}

#[test]
fn keys_learned_before_trust_levels_keep_their_origin_and_accepted_ones_are_confirmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "foreign_keys", true).expect("fk");
        rusqlite_migration::Migrations::from_slice(&migrations::MIGRATIONS[..4])
            .to_latest(&mut conn)
            .expect("v4");
        conn.execute_batch(
            "INSERT INTO participant_keys (address, fingerprint, cert, source, status,
                 first_seen, last_seen)
             VALUES ('r@x.net', 'AAAA', x'00', 'attachment', 'replaced', 0, 0),
                    ('r@x.net', 'BBBB', x'00', 'autocrypt', 'current', 1, 1),
                    ('s@x.net', 'CCCC', x'00', 'encrypted-attachment', 'current', 0, 0),
                    ('k@x.net', 'DDDD', x'00', 'keyring', 'current', 0, 0);
             INSERT INTO events (at, actor, auth, kind, detail)
             VALUES (2, 'cli', 'local', 'key-accepted',
                     '{\"address\":\"r@x.net\",\"fingerprint\":\"BBBB\",\"replaces\":\"AAAA\"}');",
        )
        .expect("v4 rows");
    }
    let store = Store::open(&path, OpenMode::Existing).expect("migrated");
    assert_eq!(store.schema_version().expect("version"), migrations::LATEST);
    let trust = |address: &str| -> Vec<(String, String)> {
        store
            .read()
            .key_history(address)
            .expect("keys")
            .into_iter()
            .map(|k| (k.fingerprint, k.trust))
            .collect()
    };
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    assert_eq!(
        trust("r@x.net"),
        pairs(&[("AAAA", "attached"), ("BBBB", "confirmed")])
    );
    assert_eq!(trust("s@x.net"), pairs(&[("CCCC", "encrypted")]));
    assert_eq!(trust("k@x.net"), pairs(&[("DDDD", "keyring")]));
}

#[test]
fn a_confirmation_token_is_found_by_its_hash_and_spent_once() {
    let mut store = Store::open_in_memory().expect("store");
    let expires = at(100);
    store
        .write(|w| {
            let tx = w.tx();
            let outbox = tx.enqueue(
                &NewMail {
                    report_id: None,
                    kind: "key-confirmation",
                    message_id: "c1@example.org",
                    envelope_from: "security@example.org",
                    recipients: &["r@x.net".to_owned()],
                    rate_key: Some("r@x.net"),
                    raw: b"sealed",
                    held: false,
                    return_token: None,
                    team_lines: &[],
                },
                at(0),
            )?;
            tx.insert_key_confirmation(
                &NewKeyConfirmation {
                    address: "r@x.net",
                    fingerprint: "AAAA",
                    token_sha256: "hash-1",
                    report_id: None,
                    outbox,
                    expires_at: expires,
                },
                at(0),
            )?;
            Ok::<_, StoreError>(())
        })
        .expect("insert");
    assert!(
        store
            .read()
            .confirmation_pending("r@x.net", "AAAA", at(50))
            .expect("pending")
    );
    assert!(
        !store
            .read()
            .confirmation_pending("r@x.net", "AAAA", expires)
            .expect("expired")
    );
    assert!(
        !store
            .read()
            .confirmation_pending("r@x.net", "BBBB", at(50))
            .expect("another key")
    );
    let found = store
        .read()
        .key_confirmation_by_hash("hash-1")
        .expect("read")
        .expect("found");
    assert_eq!(
        (
            found.address.as_str(),
            found.fingerprint.as_str(),
            found.used_at
        ),
        ("r@x.net", "AAAA", None)
    );
    assert_eq!(
        store
            .read()
            .key_confirmation_by_hash("hash-2")
            .expect("read"),
        None
    );
    // The confirming message must exist: the row points at it.
    store
        .write(|w| {
            let tx = w.tx();
            tx.conn
                .execute_batch(
                    "INSERT INTO messages (id, sha256, size, source, location, kind, threaded_by,
                     received_at)
                 VALUES (9, 'x', 1, 't', 'l', 'report', 'none', 0)",
                )
                .map_err(crate::store::ctx("test message"))?;
            tx.spend_key_confirmation(found.id, 9, "confirmed", at(10))?;
            // Spending again changes nothing.
            tx.spend_key_confirmation(found.id, 9, "exposed", at(20))
        })
        .expect("spend");
    let spent = store
        .read()
        .key_confirmation_by_hash("hash-1")
        .expect("read")
        .expect("found");
    assert_eq!(spent.used_at, Some(at(10)));
    assert!(
        !store
            .read()
            .confirmation_pending("r@x.net", "AAAA", at(50))
            .expect("pending")
    );
}

#[test]
fn threaded_by_reads_back_as_written_and_an_unknown_name_is_an_error() {
    for name in [
        "plus-address",
        "subject-tag",
        "references",
        "outbox",
        "return-path",
        "new-report",
        "none",
    ] {
        let parsed: ThreadedBy = name.parse().expect("a known name");
        assert_eq!(parsed.as_str(), name);
        assert_eq!(parsed.to_string(), name);
        assert_eq!(
            serde_json::to_value(parsed).expect("json"),
            serde_json::json!(name)
        );
    }
    for unknown in ["", "Plus-Address", "subject", "new report"] {
        let err = unknown.parse::<ThreadedBy>().expect_err(unknown);
        assert!(err.to_string().contains(&format!("`{unknown}`")), "{err}");
    }
}

#[test]
fn a_message_threaded_by_an_unknown_rule_is_a_read_error_naming_it() {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| {
            w.tx()
                .conn
                .execute_batch(
                    "INSERT INTO messages (id, sha256, size, source, location, kind, threaded_by,
                     received_at)
                 VALUES (9, 'x', 1, 't', 'l', 'report', 'telepathy', 0)",
                )
                .map_err(crate::store::ctx("test message"))
        })
        .expect("insert");
    let err = store
        .read()
        .all_messages()
        .expect_err("unknown threaded_by");
    assert!(format!("{err:#}").contains("`telepathy`"), "{err:#}");
}
