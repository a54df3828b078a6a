//! Recovery by hand: failed mail listed and queued again (never a sent one,
//! never twice), an SLA tick previewed without sending or recording anything
//! and refused ahead of the clock, and a message that joined no report
//! listed and attached to one without anything sent.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::{Env, mail, y};

/// A sendmail stand-in that fails (EX_TEMPFAIL) while `down` exists, else
/// logs each mail's Message-ID to `deliveries.log`.
fn flaky_env() -> (Env, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("");
    let log = env.path("deliveries.log");
    let down = env.path("down");
    let script = env.path("flaky-sendmail");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e \"{}\" ]; then cat >/dev/null; exit 75; fi\n\
             awk 'tolower($0) ~ /^message-id:/ && !seen {{ print $2; seen = 1 }}' >> \"{}\"\n",
            down.display(),
            log.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config = std::fs::read_to_string(env.config()).expect("config");
    // Given up after a millisecond, so that a second pass fails the rows.
    env.write_config(&format!(
        "{config}\n[transport]\nkind = \"sendmail\"\ncommand = \"{}\"\n\
         retry_initial = \"1ms\"\nretry_max = \"1ms\"\ngive_up_after = \"1ms\"\n",
        script.display()
    ));
    env.init();
    (env, log)
}

fn deliveries(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn json(env: &Env, args: &[&str]) -> Value {
    serde_json::from_str(&env.ok(args)).expect("json")
}

/// A report whose every mail failed; returns its acknowledgement's row.
fn failed_report(env: &Env) -> Value {
    std::fs::write(env.path("down"), b"").expect("down");
    env.deliver(&mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "Open redirect",
        "rec1@researcher.example",
        "",
    ));
    for _ in 0..3 {
        env.run_once();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let failed = json(env, &["outbox", "--failed", "--json"]);
    let rows = failed.as_array().expect("a list");
    assert!(rows.iter().all(|r| r["status"] == "failed"), "{failed:#}");
    rows.iter()
        .find(|r| r["kind"] == "acknowledgement")
        .cloned()
        .unwrap_or_else(|| panic!("no failed acknowledgement in {failed:#}"))
}

#[test]
fn failed_mail_is_listed_and_sent_once_after_a_retry() {
    let (env, log) = flaky_env();
    let ack = failed_report(&env);
    assert_eq!(ack["recipients"][0], "rita@researcher.example");
    assert!(ack["attempts"].as_i64().is_some_and(|n| n >= 1), "{ack}");
    assert!(
        ack["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{ack}"
    );
    let table = env.ok(&["outbox", "--failed"]);
    assert!(
        table.contains("acknowledgement") && table.contains("failed"),
        "{table}"
    );

    std::fs::remove_file(env.path("down")).expect("up");
    let row = ack["id"].as_i64().expect("id").to_string();
    let out = env.ok(&["outbox", "retry", &row]);
    assert!(out.contains(&format!("row {row}: queued again")), "{out}");
    let again = json(&env, &["outbox", "--json"]);
    let listed = again
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == ack["id"]))
        .expect("the row");
    assert_eq!(
        (listed["status"].as_str(), listed["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    env.run_once();
    assert_eq!(deliveries(&log).len(), 1, "only the retried row went out");

    let retried = env.report(1);
    let event = retried
        .events
        .iter()
        .find(|e| e.kind == "outbox-retried")
        .expect("the retry is logged");
    assert_eq!(event.auth, "local");
    assert_eq!(event.detail["row"], ack["id"]);
}

#[test]
fn a_sent_mail_is_never_queued_again() {
    let (env, log) = flaky_env();
    let ack = failed_report(&env);
    std::fs::remove_file(env.path("down")).expect("up");
    let row = ack["id"].as_i64().expect("id").to_string();
    env.ok(&["outbox", "retry", &row]);
    env.run_once();
    assert_eq!(deliveries(&log).len(), 1);

    let out = env.cmd(&["outbox", "retry", &row]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already sent"));
    let out = env.cmd(&["outbox", "retry", &y("SEC-2026-0001")]);
    // The report's other failed rows go again, its sent one does not.
    assert!(out.status.success(), "{out:?}");
    env.run_once();
    let sent = deliveries(&log);
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sent.len(), "a mail went out twice: {sent:?}");
    let total_rows = json(&env, &["outbox", "--json"])
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        sent.len(),
        total_rows,
        "each row sent exactly once: {sent:?}"
    );
    let out = env.cmd(&["outbox", "retry", &y("SEC-2026-0001")]);
    assert_eq!(out.status.code(), Some(2), "nothing left to retry: {out:?}");
    let out = env.cmd(&["outbox", "retry", "9999"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = env.cmd(&["outbox", "retry", "not-a-row"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// An installation with a report whose first-answer deadline is running;
/// returns when it falls due.
fn report_with_deadline() -> (Env, jiff::Timestamp) {
    let env = Env::with_file_transport(
        "[sla]\nacknowledge = \"5 business days\"\nremind_before = \"2 business days\"\n\
         digest = \"off\"\n",
    );
    env.init();
    env.deliver(&mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "Stored XSS in comments",
        "rec-sla@researcher.example",
        "",
    ));
    env.run_once();
    let listed = json(&env, &["sla", "--json"]);
    let due = listed["reports"][0]["deadlines"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["kind"] == "acknowledge"))
        .and_then(|d| d["due"].as_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no acknowledge deadline in {listed}"));
    (env, due)
}

/// What a tick could change: every row count that matters, and the files sent.
fn state(env: &Env) -> (String, usize, usize) {
    let counts = format!("{:?}", env.store().read().counts().expect("counts"));
    (counts, env.report(1).events.len(), env.sent().len())
}

#[test]
fn a_dry_run_tick_shows_the_reminder_and_sends_and_records_nothing() {
    let (env, due) = report_with_deadline();
    let before_hour = (due - jiff::SignedDuration::from_hours(1)).to_string();
    let before = state(&env);
    let preview = json(
        &env,
        &["sla", "tick", "--dry-run", "--json", "--now", &before_hour],
    );
    let would = preview["would_send"].as_array().expect("a list");
    assert_eq!(would.len(), 1, "{preview:#}");
    assert_eq!(would[0]["kind"], "sla-reminder");
    assert_eq!(would[0]["report"], y("SEC-2026-0001"));
    assert_eq!(would[0]["deadline"], "acknowledge");
    assert_eq!(would[0]["recipients"][0], "alice@example.org");
    assert_eq!(would[0]["due"], due.to_string());
    let text = env.ok(&["sla", "tick", "--dry-run", "--now", &before_hour]);
    assert!(
        text.contains("sla-reminder") && text.contains("nothing sent or recorded"),
        "{text}"
    );
    assert_eq!(
        state(&env),
        before,
        "a dry run changed the store or sent mail"
    );

    // The real tick still has it to send.
    let out = env.ok(&["sla", "tick", "--force", "--now", &before_hour]);
    assert!(out.contains("queued 1 reminder(s)"), "{out}");
    let after = json(
        &env,
        &["sla", "tick", "--dry-run", "--json", "--now", &before_hour],
    );
    assert_eq!(
        after["would_send"].as_array().map(Vec::len),
        Some(0),
        "{after:#}"
    );
}

#[test]
fn a_tick_ahead_of_the_clock_is_refused_and_the_real_reminder_still_goes_out() {
    let (env, due) = report_with_deadline();
    let before_hour = (due - jiff::SignedDuration::from_hours(1)).to_string();
    let before = state(&env);
    let out = env.cmd(&["sla", "tick", "--now", &before_hour]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ahead of the clock") && stderr.contains("--dry-run"),
        "{stderr}"
    );
    assert_eq!(state(&env), before, "a refused tick changed something");
    // A little ahead is a clock a few seconds off, not a test run.
    let soon = (disclosed::clock::Clock::now(&disclosed::clock::SystemClock)
        + jiff::SignedDuration::from_secs(60))
    .to_string();
    env.ok(&["sla", "tick", "--now", &soon]);

    // When the time comes (here: forced), the reminder goes out once.
    let out = env.ok(&["sla", "tick", "--force", "--now", &before_hour]);
    assert!(out.contains("queued 1 reminder(s)"), "{out}");
    assert_eq!(
        env.sent_to("alice@example.org")
            .iter()
            .filter(|raw| { String::from_utf8_lossy(raw).contains("Reminder") })
            .count(),
        1
    );
}

/// A delivery status notification from a server that names no mail of ours
/// (no return-path token): it joins no report.
fn stray_bounce(subject: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.elsewhere.example>\r\n\
         To: security@example.org\r\nSubject: {subject}\r\nMessage-ID: <stray-bounce@mx.elsewhere.example>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYour mail could not be delivered.\r\n"
    )
    .into_bytes()
}

fn unattached(env: &Env) -> Vec<Value> {
    json(env, &["messages", "--unattached", "--json"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_unattached_table_lines_its_columns_up_under_their_headings() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&stray_bounce("Undelivered Mail"));
    env.run_once();
    let text = env.ok(&["messages", "--unattached"]);
    let heading = text
        .lines()
        .find(|l| l.contains("RECEIVED"))
        .unwrap_or_else(|| panic!("no heading:\n{text}"));
    let row = text
        .lines()
        .find(|l| l.contains("mailer-daemon@"))
        .unwrap_or_else(|| panic!("no row:\n{text}"));
    // The time before it is padded to its column's width.
    assert_eq!(
        row.find("mailer-daemon@"),
        heading.find("FROM"),
        "FROM not under its heading:\n{heading}\n{row}"
    );
}

#[test]
fn a_message_in_no_report_is_listed_and_attached_without_sending_anything() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "Open redirect",
        "rec-attach@researcher.example",
        "",
    ));
    env.deliver(&stray_bounce(
        "Undelivered Mail \u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}",
    ));
    env.run_once();
    let stray = unattached(&env);
    assert_eq!(stray.len(), 1, "{stray:?}");
    let msg = stray[0]["id"].as_i64().expect("id").to_string();
    assert!(
        stray[0]["from"]
            .as_str()
            .is_some_and(|f| f.to_ascii_lowercase().starts_with("mailer-daemon@"))
    );
    let table = env.ok(&["messages", "--unattached"]);
    assert!(table.contains("Undelivered Mail"), "{table}");
    assert!(
        !table.contains('\u{1b}'),
        "an escape sequence reached the terminal: {table:?}"
    );

    let sent = env.sent().len();
    let id = y("SEC-2026-0001");
    let out = env.ok(&["attach", &msg, &id]);
    assert!(out.contains("nothing was sent"), "{out}");
    assert!(unattached(&env).is_empty());
    let report = env.report(1);
    assert_eq!(report.messages.len(), 2);
    let event = report
        .events
        .iter()
        .find(|e| e.kind == "message-attached")
        .expect("logged");
    assert_eq!(event.auth, "local");
    env.run_once();
    assert_eq!(env.sent().len(), sent, "attaching sent mail");
}

#[test]
fn an_attached_message_is_never_moved_to_another_report() {
    let env = Env::with_file_transport("");
    env.init();
    for (n, who) in ["rita", "jane"].iter().enumerate() {
        env.deliver(&mail(
            &format!("<{who}@researcher.example>"),
            "security@example.org",
            &format!("Report {n}"),
            &format!("rec-move{n}@researcher.example"),
            "",
        ));
    }
    env.deliver(&stray_bounce("Undelivered"));
    env.run_once();
    let msg = unattached(&env)[0]["id"].as_i64().expect("id").to_string();
    env.ok(&["attach", &msg, &y("SEC-2026-0001")]);
    let out = env.cmd(&["attach", &msg, &y("SEC-2026-0002")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("never moved"));
    assert_eq!(env.report(2).messages.len(), 1);
    // A message of a report is not "unattached" either.
    let first = env.report(1).messages[0].id.to_string();
    let out = env.cmd(&["attach", &first, &y("SEC-2026-0002")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = env.cmd(&["attach", "9999", &y("SEC-2026-0001")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = env.cmd(&["attach", &msg, &y("SEC-2026-0099")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// A stray bounce whose body must never reach anyone by mail.
fn stray_with_body(id: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.elsewhere.example>\r\n\
         To: security@example.org\r\nSubject: Undelivered\r\nMessage-ID: <{id}@mx.elsewhere.example>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nSTRAY-BODY-{id}\r\n"
    )
    .into_bytes()
}

fn internal() -> String {
    y("security+SEC-2026-0001-internal@example.org")
}

#[test]
fn a_member_attaches_a_stray_message_by_mail_and_the_team_is_told() {
    use crate::common::outbox;
    use crate::team_auth::{RITA, report, setup};
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    env.deliver(&stray_with_body("one"));
    env.run_once();
    let msg = unattached(env)[0]["id"].as_i64().expect("id");
    let to_rita = env.sent_to(RITA).len();
    let subject = y("Re: [SEC-2026-0001] Open redirect");
    env.deliver(&s.alice.signed_mail(
        &internal(),
        &subject,
        &format!("#attach {msg}\n"),
        &s.team,
        "at1",
    ));
    env.run_once();
    let d = env.report(1);
    assert!(d.messages.iter().any(|m| m.id == msg), "{:?}", d.messages);
    let event = d
        .events
        .iter()
        .find(|e| e.kind == "message-attached")
        .expect("logged");
    assert_eq!(
        (event.actor.as_str(), event.auth.as_str()),
        ("alice@example.org", "openpgp")
    );
    assert_eq!(event.detail["message"], msg);
    // Bob (no key) gets the metadata notice of the note; no mail carries the
    // attached message's body, and the reporter hears nothing.
    let notes = outbox(&d, "internal-note");
    assert!(
        notes.iter().any(|o| o.recipients == ["bob@example.org"]),
        "{:?}",
        d.outbox
    );
    assert_eq!(env.sent_to(RITA).len(), to_rita, "the reporter was mailed");
    for (_, raw) in env.sent() {
        assert!(!String::from_utf8_lossy(&raw).contains("STRAY-BODY"));
    }
}

#[test]
fn attach_by_mail_is_refused_for_an_unknown_or_attached_message_and_changes_nothing() {
    use crate::team_auth::{report, setup};
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    env.deliver(&stray_with_body("two"));
    env.run_once();
    let msg = unattached(env)[0]["id"].as_i64().expect("id");
    let subject = y("Re: [SEC-2026-0001] Open redirect");
    let refused = |env: &Env| {
        env.report(1)
            .events
            .iter()
            .filter(|e| e.kind == "commands-refused")
            .count()
    };
    // An unknown message with a valid one: all or nothing.
    env.deliver(&s.alice.signed_mail(
        &internal(),
        &subject,
        &format!("#attach {msg}\n#attach 9999\n"),
        &s.team,
        "at2",
    ));
    env.run_once();
    assert_eq!(refused(env), 1);
    assert_eq!(unattached(env).len(), 1, "attached despite a refused line");
    // A message of a report already.
    let own = env.report(1).messages[0].id;
    env.deliver(&s.alice.signed_mail(
        &internal(),
        &subject,
        &format!("#attach {own}\n"),
        &s.team,
        "at3",
    ));
    env.run_once();
    assert_eq!(refused(env), 2);
    // Unsigned, from a member's address: not a command at all.
    env.deliver(&crate::team_auth::plain(
        "alice@example.org",
        &internal(),
        &subject,
        "at4@example.org",
        "",
        &format!("#attach {msg}\r\n"),
    ));
    env.run_once();
    assert_eq!(
        unattached(env).len(),
        1,
        "an unauthenticated #attach applied"
    );
    assert!(
        !env.report(1)
            .events
            .iter()
            .any(|e| e.kind == "message-attached"),
        "attached"
    );
}

#[test]
fn outbox_on_the_control_address_lists_failed_mail_without_its_text() {
    use crate::team_auth::{report, setup};
    use disclosed::store::NewMail;
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let recipients = vec!["rita@researcher.example".to_owned()];
    let row = env
        .store()
        .write(|w| {
            let tx = w.tx();
            let id = tx.enqueue(
                &NewMail {
                    report_id: None,
                    kind: "acknowledgement",
                    message_id: "failing@example.org",
                    envelope_from: "security@example.org",
                    return_token: None,
                    recipients: &recipients,
                    rate_key: None,
                    raw: b"Subject: x\r\n\r\nSECRET-OUTBOX-BODY\r\n",
                    held: false,
                    team_lines: &[],
                },
                disclosed::clock::Clock::now(&disclosed::clock::SystemClock),
            )?;
            tx.mark_failed(id, "550 5.1.1 mailbox unknown")?;
            Ok::<_, disclosed::store::StoreError>(id)
        })
        .expect("a failed row");
    env.deliver(&s.alice.signed_mail(
        "security+control@example.org",
        "commands ob1",
        "#outbox\n",
        &s.team,
        "ob1",
    ));
    env.run_once();
    let replies: Vec<String> = env
        .sent_to("alice@example.org")
        .iter()
        .filter(|raw| {
            s.alice
                .gpg
                .decrypt(&crate::pgp::encrypted_payload(&crate::pgp::crlf(raw)))
                .1
                .contains("DECRYPTION_OKAY")
        })
        .map(|raw| s.alice.read(raw, &s.team.fpr))
        .filter(|text| text.contains("Failed or held mail"))
        .collect();
    assert_eq!(replies.len(), 1, "one encrypted reply to Alice");
    let text = &replies[0];
    assert!(text.contains("Failed or held mail: 1"), "{text}");
    assert!(text.contains(&format!("row {row}")), "{text}");
    assert!(text.contains("550 5.1.1 mailbox unknown"), "{text}");
    for (_, raw) in env.sent() {
        assert!(!String::from_utf8_lossy(&raw).contains("SECRET-OUTBOX-BODY"));
    }
}

#[test]
fn a_retry_beside_a_running_daemon_sends_each_mail_once() {
    let (env, log) = flaky_env();
    failed_report(&env);
    std::fs::remove_file(env.path("down")).expect("up");
    let daemon = env.spawn_daemon();
    let out = env.ok(&["outbox", "retry", &y("SEC-2026-0001")]);
    assert!(out.contains("queued again"), "{out}");
    // Twice more while the daemon sends: nothing is queued a second time.
    for _ in 0..2 {
        let _ = env.cmd(&["outbox", "retry", &y("SEC-2026-0001")]);
    }
    let rows = json(&env, &["outbox", "--json"])
        .as_array()
        .map_or(0, Vec::len);
    // The daemon takes up mail another process queued within a minute; two
    // `run --once` beside it send now, all three claiming rows.
    let others: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(crate::common::BIN)
                .arg("--config")
                .arg(env.config())
                .args(["run", "--once"])
                .env("RUST_LOG", "warn")
                .spawn()
                .expect("spawn run --once")
        })
        .collect();
    for mut child in others {
        child.wait().expect("run --once");
    }
    crate::common::stop(daemon);
    let sent = deliveries(&log);
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sent.len(), rows, "every row sent: {sent:?}");
    assert_eq!(unique.len(), sent.len(), "a mail went out twice: {sent:?}");
}

#[test]
fn a_dry_run_shows_the_digest_and_a_real_tick_then_sends_it_once() {
    let env = Env::with_file_transport("[sla]\ndigest = \"Mon 09:00\"\n");
    env.init();
    env.deliver(&mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "Open redirect",
        "rec-digest@researcher.example",
        "",
    ));
    env.run_once();
    // A Monday 09:30 in Berlin two weeks or more ago: the digest of that
    // morning is due within its grace period, and no tick (`run --once`
    // ticks now) has sent it; in the past, so a real tick may run then.
    let now = disclosed::clock::Clock::now(&disclosed::clock::SystemClock)
        .in_tz("Europe/Berlin")
        .expect("zone");
    let back = i64::from(now.weekday().to_monday_zero_offset());
    let monday = now
        .date()
        .checked_sub(jiff::ToSpan::days(back + 14))
        .expect("date")
        .at(9, 30, 0, 0)
        .in_tz("Europe/Berlin")
        .expect("time")
        .timestamp();
    let at = monday.to_string();
    let before = state(&env);
    let preview = json(&env, &["sla", "tick", "--dry-run", "--json", "--now", &at]);
    let digests: Vec<&Value> = preview["would_send"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|w| w["kind"] == "sla-digest")
        .collect();
    assert_eq!(digests.len(), 1, "{preview:#}");
    assert_eq!(digests[0]["report"], Value::Null);
    assert_eq!(digests[0]["recipients"][0], "alice@example.org");
    assert_eq!(
        state(&env),
        before,
        "a dry run changed the store or sent mail"
    );
    let out = env.ok(&["sla", "tick", "--now", &at]);
    assert!(out.contains("1 digest(s)"), "{out}");
    let out = env.ok(&["sla", "tick", "--now", &at]);
    assert!(out.contains("0 digest(s)"), "{out}");
}
