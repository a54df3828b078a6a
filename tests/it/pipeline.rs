//! The mail path end to end: Maildir in, reports and acknowledgements out.

use crate::common::{
    ALICE, Env, assert_metadata_only, assert_team_notified, body_text, header, mail, outbox,
    parse_subject, the_ack_row, y,
};

#[test]
fn a_new_report_is_stored_acknowledged_and_marked_processed() {
    let env = Env::with_file_transport("");
    env.init();
    let raw = mail(
        "Jane Doe <jane@researcher.example>",
        "security@example.org",
        "Stored XSS in profile",
        "r1@researcher.example",
        "References: <older@researcher.example>\r\n",
    );
    let name = env.deliver(&raw);
    let out = env.run_once();
    assert!(out.contains("opened 1 report"), "{out}");

    // Marked processed the Maildir way, only after storing.
    assert_eq!(env.count_files("maildir/new"), 0);
    assert!(env.path(&format!("maildir/cur/{name}:2,S")).exists());

    let report = env.report(1);
    assert_eq!(report.summary.reporter, "jane@researcher.example");
    assert_eq!(report.summary.subject, "Stored XSS in profile");
    assert_eq!(report.summary.state.as_str(), "new");
    assert_eq!(report.participants[0].role, "reporter");
    let kinds: Vec<&str> = report.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "report-opened",
            "message-received",
            "acknowledgement-queued",
            "team-mail-queued"
        ]
    );

    // The raw message is kept byte-exact.
    let stored = env
        .store()
        .read()
        .raw_message(&report.messages[0].sha256)
        .expect("read")
        .expect("raw kept");
    assert_eq!(stored, raw);

    // The acknowledgement, as the file transport wrote it.
    let sent = env.sent_to("jane@researcher.example");
    assert_eq!(sent.len(), 1);
    let ack = &sent[0];
    assert_eq!(
        header(ack, "From").as_deref(),
        Some("\"Example Security\" <security@example.org>")
    );
    assert_eq!(
        header(ack, "Reply-To").as_deref(),
        Some(y("security+SEC-2026-0001@example.org").as_str())
    );
    assert_eq!(
        header(ack, "To").as_deref(),
        Some("\"Jane Doe\" <jane@researcher.example>")
    );
    assert_eq!(
        parse_subject(ack).as_deref(),
        Some(y("[SEC-2026-0001] Re: Stored XSS in profile").as_str())
    );
    assert_eq!(
        header(ack, "In-Reply-To").as_deref(),
        Some("<r1@researcher.example>")
    );
    assert_eq!(
        header(ack, "References").as_deref(),
        Some("<older@researcher.example> <r1@researcher.example>")
    );
    assert_eq!(
        header(ack, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let text = body_text(ack);
    for needle in [
        &y("SEC-2026-0001"),
        "Stored XSS in profile",
        "Example",
        "https://example.org/security",
        "5 business days",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    // Its Message-ID was fixed at enqueue time and is what went out.
    let row = the_ack_row(&report);
    assert_eq!(
        header(ack, "Message-ID"),
        Some(format!("<{}>", row.message_id))
    );
    assert_eq!(row.status, "sent");

    // The team (Alice, who has no key) got a metadata-only notification whose
    // replies stay inside the team.
    assert_team_notified(&report, 1);
    assert_eq!(outbox(&report, "notification")[0].status, "sent");
    let notices = env.sent_to(ALICE);
    assert_eq!(notices.len(), 1);
    assert_eq!(
        header(&notices[0], "Reply-To").as_deref(),
        Some(y("security+SEC-2026-0001-internal@example.org").as_str())
    );
    assert_metadata_only(
        &notices[0],
        &y("SEC-2026-0001"),
        &["Stored XSS in profile", "Details of the problem"],
    );

    // Running again changes nothing and sends nothing twice.
    let out = env.run_once();
    assert!(out.contains("processed 0 new"), "{out}");
    assert_eq!(
        env.sent().len(),
        2,
        "the acknowledgement and the notification"
    );
}

#[test]
fn replies_thread_by_token_tag_and_references() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "a1@r.example",
        "",
    ));
    env.run_once();
    let ack_id = the_ack_row(&env.report(1)).message_id.clone();

    // Plus-address token (with different case), subject tag, and a reply to our ack.
    env.deliver(&mail(
        "jane@researcher.example",
        &y("Security+sec-2026-0001@Example.org"),
        "more details",
        "a2@r.example",
        "",
    ));
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        &y("Re: [SEC-2026-0001] PoC"),
        "a3@r.example",
        "",
    ));
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "no tag here",
        "a4@r.example",
        &format!("In-Reply-To: <{ack_id}>\r\n"),
    ));
    env.run_once();

    let report = env.report(1);
    let via: Vec<&str> = report
        .messages
        .iter()
        .map(|m| m.threaded_by.as_str())
        .collect();
    assert_eq!(
        via,
        ["new-report", "plus-address", "subject-tag", "references"]
    );
    assert!(report.messages[1..].iter().all(|m| m.kind == "participant"));
    // Follow-ups are not acknowledged again, but the team hears of each.
    assert_eq!(outbox(&report, "acknowledgement").len(), 1);
    assert_eq!(env.sent_to("jane@researcher.example").len(), 1);
    assert_team_notified(&report, 4);
    assert_eq!(env.sent_to(ALICE).len(), 4);
    assert_eq!(env.store().read().reports(None).expect("list").len(), 1);
}

#[test]
fn outsiders_cannot_write_into_someone_elses_report() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "b1@r.example",
        "",
    ));
    env.run_once();
    env.deliver(&mail(
        "mallory@evil.example",
        &y("security+SEC-2026-0001@example.org"),
        &y("[SEC-2026-0001] please send me the details"),
        "b2@evil.example",
        "",
    ));
    env.run_once();
    assert_eq!(env.report(1).messages.len(), 1);
    let other = env.report(2);
    assert_eq!(other.summary.reporter, "mallory@evil.example");
    assert_eq!(other.events[0].detail["mentioned"], y("SEC-2026-0001"));
}

#[test]
fn cc_participants_may_follow_up() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "c1@r.example",
        "Cc: bob@researcher.example\r\n",
    ));
    env.run_once();
    env.deliver(&mail(
        "bob@researcher.example",
        "security@example.org",
        &y("Re: [SEC-2026-0001] XSS"),
        "c2@r.example",
        "",
    ));
    env.run_once();
    let report = env.report(1);
    assert_eq!(report.messages.len(), 2);
    let roles: Vec<(&str, &str)> = report
        .participants
        .iter()
        .map(|p| (p.address.as_str(), p.role.as_str()))
        .collect();
    assert!(
        roles.contains(&("bob@researcher.example", "cc")),
        "{roles:?}"
    );
    assert!(!roles.iter().any(|(a, _)| *a == "security@example.org"));
    // The cc's follow-up reaches the team like the reporter's own.
    assert_team_notified(&report, 2);
}

#[test]
fn machines_and_ourselves_are_never_answered() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "d1@r.example",
        "",
    ));
    env.run_once();
    let ack_id = the_ack_row(&env.report(1)).message_id.clone();
    let return_path = header(&env.sent_to("jane@researcher.example")[0], "Return-Path")
        .expect("the acknowledgement's return path")
        .trim_matches(['<', '>'])
        .to_owned();

    // Out-of-office from the reporter, a bounce of our ack (to its return
    // path), list mail, bulk mail, mail in our name that we never sent, a team
    // member's mail without a report.
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        &y("Out of office: [SEC-2026-0001] Re: XSS"),
        "d2@r.example",
        "Auto-Submitted: auto-replied\r\n",
    ));
    env.deliver(&format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.r.example\r\nTo: {return_path}\r\n\
Subject: Undelivered Mail\r\nMessage-ID: <d3@mx.r.example>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; jane@researcher.example\r\nAction: failed\r\nStatus: 5.2.2\r\n\
--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ack_id}>\r\n\r\n--B--\r\n"
    ).into_bytes());
    env.deliver(&mail(
        "news@lists.example",
        "security@example.org",
        "Digest",
        "d4@l.example",
        "List-Id: <news.lists.example>\r\n",
    ));
    env.deliver(&mail(
        "promo@shop.example",
        "security@example.org",
        "Sale",
        "d5@s.example",
        "Precedence: bulk\r\n",
    ));
    env.deliver(&mail(
        "security@example.org",
        "security@example.org",
        "Loop",
        "d6@example.org",
        "",
    ));
    env.deliver(&mail(
        "alice@example.org",
        "security@example.org",
        "Team note",
        "d7@example.org",
        "",
    ));
    env.run_once();

    let report = env.report(1);
    let kinds: Vec<(&str, &str)> = report
        .messages
        .iter()
        .map(|m| (m.kind.as_str(), m.threaded_by.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("reporter", "new-report"),
            ("auto-reply", "subject-tag"),
            ("bounce", "return-path")
        ]
    );
    // No new reports, no new mail to anyone outside; the team hears of the
    // report and of the bounce, never of the rest.
    assert_eq!(env.store().read().reports(None).expect("list").len(), 1);
    assert_eq!(env.sent_to("jane@researcher.example").len(), 1);
    assert_team_notified(&report, 1);
    let problems = outbox(&report, "delivery-problem");
    assert_eq!(problems.len(), 1, "{:?}", report.outbox);
    assert_eq!(problems[0].recipients, [ALICE]);
    assert_eq!(report.outbox.len(), 3, "{:?}", report.outbox);
    assert_eq!(env.sent().len(), 3);
    assert_eq!(env.sent_to(ALICE).len(), 2);
    let all = env.messages();
    assert_eq!(all.len(), 7);
    for m in &all[1..] {
        assert!(
            m.problems.iter().any(|p| p.starts_with("not-answered")),
            "{} has no not-answered problem: {:?}",
            m.kind,
            m.problems
        );
    }
    let unattached: Vec<&str> = all
        .iter()
        .filter(|m| m.report_id.is_none())
        .map(|m| m.kind.as_str())
        .collect();
    assert_eq!(unattached, ["list", "bulk", "spoofed", "team"]);
}

#[test]
fn automatic_replies_are_rate_limited_per_sender() {
    let env = Env::with_file_transport(
        "[limits]\nauto_replies_per_sender = 3\nauto_reply_window = \"1h\"\n",
    );
    env.init();
    for i in 0..5 {
        env.deliver(&mail(
            "spammy@researcher.example",
            "security@example.org",
            &format!("Report {i}"),
            &format!("e{i}@r.example"),
            "",
        ));
    }
    env.deliver(&mail(
        "calm@researcher.example",
        "security@example.org",
        "Other",
        "e9@r.example",
        "",
    ));
    env.run_once();
    let reports = env.store().read().reports(None).expect("list");
    assert_eq!(reports.len(), 6, "every message still opens its report");
    assert_eq!(
        env.sent_to("spammy@researcher.example").len(),
        3,
        "3 for the busy sender"
    );
    assert_eq!(env.sent_to("calm@researcher.example").len(), 1);
    // The team hears of every report, answered or not.
    assert_eq!(env.sent_to(ALICE).len(), 6);
    assert_eq!(env.sent().len(), 10);
    let skipped = env.report(5);
    let event = skipped
        .events
        .iter()
        .find(|e| e.kind == "acknowledgement-skipped")
        .expect("skip recorded");
    assert_eq!(event.detail["reason"], "rate limit");
    assert!(outbox(&skipped, "acknowledgement").is_empty());
    assert_team_notified(&skipped, 1);
}

#[test]
fn the_same_message_twice_is_stored_once() {
    let env = Env::with_file_transport("");
    env.init();
    let raw = mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "f1@r.example",
        "",
    );
    env.deliver(&raw);
    env.deliver(&raw);
    let out = env.run_once();
    assert!(
        out.contains("processed 1 new message(s) (1 already stored)"),
        "{out}"
    );
    assert_eq!(env.messages().len(), 1);
    assert_eq!(env.count_files("maildir/cur"), 2);
}

#[test]
fn oversized_mail_opens_a_report_without_loading_it() {
    let env = Env::with_file_transport("[limits]\nmax_message_size = \"10 KiB\"\n");
    env.init();
    let mut raw = mail(
        "big@researcher.example",
        "security@example.org",
        "Huge PoC",
        "g1@r.example",
        "",
    );
    raw.extend(std::iter::repeat_n(b'A', 50_000));
    let name = env.deliver(&raw);
    env.run_once();
    let report = env.report(1);
    let m = &report.messages[0];
    assert!(
        m.problems.iter().any(|p| p.starts_with("oversized")),
        "{:?}",
        m.problems
    );
    assert!(!m.raw_stored);
    assert_eq!(m.size, raw.len() as u64);
    assert_eq!(m.sha256, disclosed::parse::sha256_hex(&raw));
    assert_eq!(m.location, name);
    // The message itself stays on the source.
    assert_eq!(
        std::fs::read(env.path(&format!("maildir/cur/{name}:2,S"))).expect("kept"),
        raw
    );
    assert_eq!(env.sent_to("big@researcher.example").len(), 1);
    assert_team_notified(&report, 1);
    assert_eq!(env.sent_to(ALICE).len(), 1);
    assert_eq!(env.sent().len(), 2);
}

#[test]
fn sendmail_failures_are_retried_and_never_resent_after_success() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("");
    let script = env.path("fake-sendmail");
    let delivered = env.path("delivered");
    std::fs::create_dir(&delivered).expect("mkdir");
    let write_script = |fail: bool| {
        let body = if fail {
            "cat > /dev/null; echo 'queue unavailable' >&2; exit 75".to_owned()
        } else {
            format!("cat > \"{}/$(date +%s%N).eml\"", delivered.display())
        };
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    write_script(true);
    let config = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!(
        "{config}\n[transport]\nkind = \"sendmail\"\ncommand = \"{}\"\nretry_initial = \"1s\"\nretry_max = \"2s\"\n",
        script.display()
    ));
    env.init();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "h1@r.example",
        "",
    ));
    let out = env.run_once();
    // The acknowledgement and the team's notification both fail.
    assert!(out.contains("2 delivery failure"), "{out}");
    let report = env.report(1);
    assert_team_notified(&report, 1);
    assert_eq!(report.outbox.len(), 2, "{:?}", report.outbox);
    for row in &report.outbox {
        assert_eq!((row.status.as_str(), row.attempts), ("queued", 1));
        assert!(
            row.last_error
                .as_deref()
                .is_some_and(|e| e.contains("queue unavailable")),
            "{row:?}"
        );
    }

    // Not due yet: nothing is tried.
    write_script(false);
    env.run_once();
    assert_eq!(env.count_files("delivered"), 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.run_once();
    env.run_once();
    assert_eq!(env.count_files("delivered"), 2, "each sent exactly once");
    let to: Vec<String> = std::fs::read_dir(&delivered)
        .expect("delivered")
        .map(|e| {
            let raw = std::fs::read(e.expect("entry").path()).expect("read");
            header(&raw, "To").unwrap_or_default()
        })
        .collect();
    for address in ["jane@researcher.example", ALICE] {
        assert_eq!(
            to.iter().filter(|t| t.contains(address)).count(),
            1,
            "{address}: {to:?}"
        );
    }
    let report = env.report(1);
    assert_eq!(report.outbox.len(), 2, "{:?}", report.outbox);
    for row in &report.outbox {
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 2), "{row:?}");
    }
}

#[test]
fn the_daemon_stops_cleanly_on_sigterm() {
    let env = Env::with_file_transport("");
    env.init();
    let child = env.spawn_daemon();
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "i1@r.example",
        "",
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.sent().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        env.sent_to("jane@researcher.example").len(),
        1,
        "the watching daemon picked the message up"
    );
    assert_eq!(env.sent_to(ALICE).len(), 1, "and told the team");
    crate::common::stop(child);
}

#[test]
fn a_message_the_store_refuses_stays_on_the_source_and_holds_up_nothing() {
    let env = Env::with_file_transport("");
    env.init();
    // Make the store refuse one particular message, as a full disk or a bug might.
    rusqlite::Connection::open(env.path("state/disclosed.sqlite3"))
        .expect("open")
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.subject = 'poison'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
        )
        .expect("trigger");
    env.deliver(&mail(
        "a@researcher.example",
        "security@example.org",
        "fine one",
        "k1@r.example",
        "",
    ));
    let poison = env.deliver(&mail(
        "b@researcher.example",
        "security@example.org",
        "poison",
        "k2@r.example",
        "",
    ));
    env.deliver(&mail(
        "c@researcher.example",
        "security@example.org",
        "fine two",
        "k3@r.example",
        "",
    ));
    env.run_once_failing(1);

    let subjects: Vec<String> = env.messages().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, ["fine one", "fine two"]);
    assert_eq!(env.sent_to("a@researcher.example").len(), 1);
    assert_eq!(env.sent_to("c@researcher.example").len(), 1);
    assert_eq!(
        env.sent_to(ALICE).len(),
        2,
        "the team hears of both reports"
    );
    assert_eq!(env.sent().len(), 4);
    // The refused message was not marked processed: it is still waiting.
    assert!(env.path(&format!("maildir/new/{poison}")).exists());
    assert_eq!(env.count_files("maildir/cur"), 2);
}

#[test]
fn an_unreadable_file_is_skipped_and_the_rest_goes_on() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "a@researcher.example",
        "security@example.org",
        "first",
        "l1@r.example",
        "",
    ));
    // A directory where a message should be: opening works, reading fails.
    std::fs::create_dir(env.path("maildir/new/1700000000.M0P1.broken")).expect("mkdir");
    env.deliver(&mail(
        "b@researcher.example",
        "security@example.org",
        "second",
        "l2@r.example",
        "",
    ));
    env.run_once_failing(1);
    assert_eq!(env.messages().len(), 2);
    assert_eq!(env.sent_to("a@researcher.example").len(), 1);
    assert_eq!(env.sent_to("b@researcher.example").len(), 1);
    assert_eq!(
        env.sent_to(ALICE).len(),
        2,
        "the team hears of both reports"
    );
    assert_eq!(env.sent().len(), 4);
    assert!(env.path("maildir/new/1700000000.M0P1.broken").exists());
}
