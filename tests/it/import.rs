//! `disclosed import` over generated mbox files and Maildirs: threaded like
//! live mail at the messages' own dates, nothing sent, deadlines already past
//! recorded as breached before import and never escalated, nothing imported
//! twice; and the hostile files an old inbox may hold.

use std::path::Path;

use disclosed::report::{ReportId, ReportState};
use disclosed::store::ReportDetail;
use serde_json::Value;

use crate::common::Env;

fn env() -> Env {
    Env::with_file_transport("")
}

/// One mbox entry: the separator line for `from` at `delivered` (ctime, e.g.
/// `Mon Mar  4 10:00:00 2019`), then `message` and the blank line after it.
fn entry(from: &str, delivered: &str, message: &str) -> String {
    format!("From {from} {delivered}\n{message}\n")
}

fn message(from: &str, to: &str, date: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: Bug in the parser\nDate: {date}\nMessage-ID: <{id}>\n{extra}\n{body}\n"
    )
}

/// A report on Monday 4 March 2019, the reporter's follow-up the next day,
/// Alice's answer to the reporter (with a command) on the 6th, and a second
/// report on 1 May 2019 that nobody answered.
fn old_inbox() -> String {
    [
        entry(
            "r1@x.example",
            "Mon Mar  4 10:00:05 2019",
            &message(
                "Reporter One <r1@x.example>",
                "security@example.org",
                "Mon, 04 Mar 2019 10:00:00 +0000",
                "a1@x.example",
                "",
                "The parser overflows.",
            ),
        ),
        entry(
            "r1@x.example",
            "Tue Mar  5 09:00:05 2019",
            &message(
                "Reporter One <r1@x.example>",
                "security@example.org",
                "Tue, 05 Mar 2019 09:00:00 +0000",
                "a2@x.example",
                "In-Reply-To: <a1@x.example>\nReferences: <a1@x.example>\n",
                "Here is a proof of concept.\nFrom what I see it is remote.",
            ),
        ),
        entry(
            "alice@example.org",
            "Wed Mar  6 08:00:05 2019",
            &message(
                "Alice <alice@example.org>",
                "r1@x.example",
                "Wed, 06 Mar 2019 08:00:00 +0000",
                "a3@example.org",
                "Cc: security@example.org\nIn-Reply-To: <a2@x.example>\nReferences: <a1@x.example> <a2@x.example>\n",
                "#state accepted\n\nThanks, we are on it.",
            ),
        ),
        entry(
            "r2@y.example",
            "Wed May  1 12:00:05 2019",
            &message(
                "r2@y.example",
                "security@example.org",
                "Wed, 01 May 2019 12:00:00 +0000",
                "b1@y.example",
                "",
                "XSS in the search page.",
            ),
        ),
    ]
    .concat()
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.path(name);
    std::fs::write(&path, text).expect("write mbox");
    path.display().to_string()
}

fn import_json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["import", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&env.ok(&all)).expect("summary JSON")
}

fn report(env: &Env, year: i16, seq: u32) -> ReportDetail {
    let id = ReportId::new("SEC", year, seq);
    env.store()
        .read()
        .report_detail(&id)
        .expect("read")
        .unwrap_or_else(|| panic!("no report {id}"))
}

fn outbox_rows(env: &Env) -> i64 {
    let db = rusqlite::Connection::open(env.path("state/disclosed.sqlite3")).expect("db");
    db.query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))
        .expect("count")
}

fn events<'a>(r: &'a ReportDetail, kind: &str) -> Vec<&'a Value> {
    r.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| &e.detail)
        .collect()
}

fn count(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key}: {summary}"))
}

#[test]
fn an_imported_mbox_is_threaded_at_its_own_dates_and_sends_nothing() {
    let env = env();
    env.init();
    let mbox = write(&env, "old.mbox", &old_inbox());
    let summary = import_json(&env, &[&mbox]);
    assert_eq!(count(&summary, "read"), 4, "{summary}");
    assert_eq!(count(&summary, "imported"), 4);
    assert_eq!(count(&summary, "reports_opened"), 2);
    assert_eq!(count(&summary, "follow_ups"), 2);
    assert_eq!(count(&summary, "mail_not_sent"), 0);
    assert!(summary["failures"].as_array().is_some_and(Vec::is_empty));

    // Nothing queued, nothing sent.
    assert_eq!(outbox_rows(&env), 0);
    env.run_once();
    assert!(env.sent().is_empty(), "{:?}", env.sent());

    let first = report(&env, 2019, 1);
    assert_eq!(
        first.summary.created_at,
        "2019-03-04T10:00:00Z".parse().unwrap()
    );
    assert_eq!(first.summary.messages, 3);
    // The state imported reports start in; the old command is recorded, not applied.
    assert_eq!(first.summary.state, ReportState::Acknowledged);
    let refused = events(&first, "commands-refused");
    assert_eq!(refused.len(), 1, "{:?}", first.events);
    assert!(
        refused[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("imported"))
    );
    let skipped = events(&first, "acknowledgement-skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["reason"], "imported");
    // Alice's mail to the reporter is the team's answer, at its own date.
    let answered: Vec<_> = first
        .events
        .iter()
        .filter(|e| e.kind == "relayed-to-reporter")
        .collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].at, "2019-03-06T08:00:00Z".parse().unwrap());
    let second = report(&env, 2019, 2);
    assert_eq!(
        second.summary.created_at,
        "2019-05-01T12:00:00Z".parse().unwrap()
    );
    assert!(first.outbox.is_empty() && second.outbox.is_empty());
}

#[test]
fn deadlines_past_at_the_import_are_historical_breaches_and_never_escalated() {
    let env = Env::with_file_transport("[sla]\ndigest = \"monday 09:00\"\n");
    env.init();
    let mbox = write(&env, "old.mbox", &old_inbox());
    let summary = import_json(&env, &[&mbox]);
    assert!(count(&summary, "historical_breaches") >= 3, "{summary}");

    let sla: Value = serde_json::from_str(&env.ok(&["sla", "--json"])).expect("sla JSON");
    let deadlines = |id: &str| -> Vec<Value> {
        sla["reports"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["id"] == id))
            .and_then(|r| r["deadlines"].as_array().cloned())
            .unwrap_or_else(|| panic!("no {id} in {sla}"))
    };
    let first = deadlines("SEC-2019-0001");
    // Answered by Alice on day 3: the acknowledgement deadline was met.
    assert!(
        first.iter().all(|d| d["kind"] != "acknowledge"),
        "{first:?}"
    );
    let second = deadlines("SEC-2019-0002");
    let ack = second
        .iter()
        .find(|d| d["kind"] == "acknowledge")
        .expect("acknowledge pending");
    assert_eq!(ack["status"], "breached");
    assert_eq!(ack["historical"], true);
    assert!(
        ack["start"]
            .as_str()
            .is_some_and(|s| s.starts_with("2019-05-01"))
    );
    for d in first.iter().chain(&second) {
        if d["status"] == "breached" {
            assert_eq!(d["historical"], true, "{d}");
        }
    }

    // A tick now, and one a week later (with the digest), mail nothing
    // about them.
    let out = env.ok(&["sla", "tick"]);
    assert!(out.contains("0 escalation(s)"), "{out}");
    let now = disclosed::clock::Clock::now(&disclosed::clock::SystemClock);
    let week = (now + jiff::SignedDuration::from_hours(24 * 7)).to_string();
    let out = env.ok(&["sla", "tick", "--force", "--now", &week]);
    assert!(out.contains("0 reminder(s), 0 escalation(s)"), "{out}");
    for (_, raw) in env.sent() {
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("SEC-2019-0002  "), "{text}");
        assert!(!text.contains("Breached deadlines: 1"), "{text}");
    }
    let second = report(&env, 2019, 2);
    assert!(events(&second, "sla-escalation").is_empty());
    assert_eq!(events(&second, "breached-before-import").len(), 2);
}

#[test]
fn an_old_fixed_report_brings_no_disclosure_day_mail() {
    let env = env();
    env.init();
    let mbox = write(&env, "old.mbox", &old_inbox());
    import_json(&env, &[&mbox, "--state", "fixed"]);
    let disclose = report(&env, 2019, 2);
    assert_eq!(
        disclose.summary.state,
        disclosed::report::ReportState::Fixed
    );
    let out = env.ok(&["sla", "tick"]);
    assert!(!out.contains("disclosure-day"), "{out}");
    for seq in [1, 2] {
        let r = report(&env, 2019, seq);
        assert!(
            r.outbox.iter().all(|o| o.kind != "disclosure-day"),
            "{:?}",
            r.outbox
        );
    }
}

#[test]
fn importing_again_imports_nothing_twice() {
    let env = env();
    env.init();
    let mbox = write(&env, "old.mbox", &old_inbox());
    import_json(&env, &[&mbox]);
    let again = import_json(&env, &[&mbox]);
    assert_eq!(count(&again, "read"), 4);
    assert_eq!(count(&again, "imported"), 0, "{again}");
    assert_eq!(count(&again, "already_present"), 4);
    assert_eq!(env.messages().len(), 4);
    // The same mail exported again by a client that added a status header.
    let touched = old_inbox().replace("Subject: Bug", "Status: RO\nSubject: Bug");
    let other = write(&env, "other.mbox", &touched);
    let third = import_json(&env, &[&other]);
    assert_eq!(count(&third, "imported"), 0, "{third}");
    assert_eq!(env.messages().len(), 4);
}

#[test]
fn an_imported_maildir_is_read_in_delivery_order_and_left_as_it_was() {
    let env = env();
    env.init();
    let old = env.path("old-maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(old.join(sub)).expect("maildir");
    }
    // Names start with the delivery time; the follow-up sorts after the
    // report although it is in `cur/` and read.
    let report_mail = message(
        "r1@x.example",
        "security@example.org",
        "Mon, 04 Mar 2019 10:00:00 +0000",
        "m1@x.example",
        "",
        "Overflow.",
    );
    let follow_up = message(
        "r1@x.example",
        "security@example.org",
        "Tue, 05 Mar 2019 10:00:00 +0000",
        "m2@x.example",
        "References: <m1@x.example>\n",
        "More.",
    );
    std::fs::write(old.join("new/1551693600.M1P1.old"), &report_mail).expect("write");
    std::fs::write(old.join("cur/1551780000.M2P1.old:2,S"), &follow_up).expect("write");
    let dir = old.display().to_string();
    let summary = import_json(&env, &["--maildir", &dir]);
    assert_eq!(count(&summary, "reports_opened"), 1, "{summary}");
    assert_eq!(count(&summary, "follow_ups"), 1);
    assert_eq!(outbox_rows(&env), 0);
    let r = report(&env, 2019, 1);
    assert_eq!(r.summary.messages, 2);
    assert_eq!(
        r.summary.created_at,
        "2019-03-04T10:00:00Z".parse().unwrap()
    );
    // Read only: both files where they were, under their names.
    assert!(old.join("new/1551693600.M1P1.old").exists());
    assert!(old.join("cur/1551780000.M2P1.old:2,S").exists());
    let again = import_json(&env, &["--maildir", &dir]);
    assert_eq!(count(&again, "already_present"), 2, "{again}");
}

#[test]
fn a_from_line_inside_a_body_does_not_split_the_message() {
    let env = env();
    env.init();
    let body =
        "Steps:\nFrom the login page, send a long name.\n\nFrom attacker@evil.example, with love";
    let mbox = entry(
        "r@x.example",
        "Mon Mar  4 10:00:05 2019",
        &message(
            "r@x.example",
            "security@example.org",
            "Mon, 04 Mar 2019 10:00:00 +0000",
            "f1@x.example",
            "",
            body,
        ),
    );
    let path = write(&env, "from.mbox", &mbox);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "read"), 1, "{summary}");
    assert_eq!(count(&summary, "reports_opened"), 1);
    let stored = env.messages();
    assert_eq!(stored.len(), 1);
    let raw = env
        .store()
        .read()
        .raw_message(&stored[0].sha256)
        .expect("raw")
        .expect("stored");
    assert!(
        String::from_utf8_lossy(&raw).contains("From attacker@evil.example, with love"),
        "the body lost its lines"
    );
}

#[test]
fn a_truncated_last_message_is_imported_with_the_others() {
    let env = env();
    env.init();
    let mut text = old_inbox();
    text.push_str("From r3@z.example Thu May  2 12:00:05 2019\nFrom: r3@z.example\nTo: security@example.org\nSubject: cut");
    let path = write(&env, "cut.mbox", &text);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "read"), 5, "{summary}");
    assert_eq!(count(&summary, "imported"), 5);
    // Its arrival is the separator line's date: its Date: header is missing.
    assert_eq!(count(&summary, "dates_replaced"), 1);
    let third = report(&env, 2019, 3);
    assert_eq!(
        third.summary.created_at,
        "2019-05-02T12:00:05Z".parse().unwrap()
    );
}

#[test]
fn an_empty_mbox_imports_nothing_and_succeeds() {
    let env = env();
    env.init();
    let path = write(&env, "empty.mbox", "");
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "read"), 0);
    assert_eq!(count(&summary, "imported"), 0);
}

#[test]
fn a_file_that_is_not_an_mbox_is_refused_as_a_usage_error() {
    let env = env();
    env.init();
    let path = write(&env, "one.eml", "From: r@x.example\nSubject: hi\n\nbody\n");
    let out = env.cmd(&["import", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an mbox"));
    assert!(env.messages().is_empty());
}

#[test]
fn a_bogus_date_does_not_decide_the_arrival() {
    let env = env();
    env.init();
    let mail = |date: &str, id: &str, delivered: &str| {
        entry(
            "r@x.example",
            delivered,
            &message(
                &format!("{id}@x.example"),
                "security@example.org",
                date,
                &format!("{id}@x.example"),
                "",
                "Details.",
            ),
        )
    };
    let text = [
        mail(
            "Sat, 01 Jan 2101 00:00:00 +0000",
            "future",
            "Mon Mar  4 10:00:00 2019",
        ),
        mail(
            "Thu, 01 Jan 1970 00:00:00 +0000",
            "epoch",
            "Tue Mar  5 10:00:00 2019",
        ),
        mail("yesterday-ish", "garbage", "Wed Mar  6 10:00:00 2019"),
        // Written a year after it was delivered: it cannot be.
        mail(
            "Sat, 07 Mar 2020 10:00:00 +0000",
            "after",
            "Thu Mar  7 10:00:00 2019",
        ),
    ]
    .concat();
    let path = write(&env, "dates.mbox", &text);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "reports_opened"), 4, "{summary}");
    assert_eq!(count(&summary, "dates_replaced"), 4, "{summary}");
    for (seq, day) in [(1, 4), (2, 5), (3, 6), (4, 7)] {
        let r = report(&env, 2019, seq);
        let at: jiff::Timestamp = format!("2019-03-0{day}T10:00:00Z").parse().unwrap();
        assert_eq!(r.summary.created_at, at, "report {seq}");
        let received = events(&r, "message-received");
        assert!(
            received[0]["imported"]["date"]
                .as_str()
                .is_some_and(|n| n.contains("delivery time")),
            "{received:?}"
        );
    }
}

#[test]
fn a_message_above_the_size_limit_is_stored_marked_and_does_not_stop_the_import() {
    let env = Env::with_file_transport("[limits]\nmax_message_size = \"2 KiB\"\n");
    env.init();
    let big = message(
        "big@x.example",
        "security@example.org",
        "Mon, 04 Mar 2019 10:00:00 +0000",
        "big@x.example",
        "",
        &"x".repeat(8 << 10),
    );
    let text = [
        entry("big@x.example", "Mon Mar  4 10:00:05 2019", &big),
        old_inbox(),
    ]
    .concat();
    let path = write(&env, "big.mbox", &text);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "imported"), 5, "{summary}");
    let big = report(&env, 2019, 1);
    assert!(
        big.messages[0]
            .problems
            .iter()
            .any(|p| p.contains("larger") || p.contains("size") || p.contains("oversized")),
        "{:?}",
        big.messages[0].problems
    );
    // Imported again: the same hash, nothing twice.
    let again = import_json(&env, &[&path]);
    assert_eq!(count(&again, "already_present"), 5, "{again}");
}

#[test]
fn mail_dated_before_the_no_answer_date_is_never_acknowledged_by_the_daemon() {
    let env = env();
    env.init();
    let path = write(&env, "old.mbox", &old_inbox());
    env.ok(&["import", &path, "--no-answer-before", "2020-01-01"]);
    // Copied into the live Maildir later: an old report, and a new one.
    let old = message(
        "late@x.example",
        "security@example.org",
        "Fri, 01 Nov 2019 10:00:00 +0000",
        "late1@x.example",
        "",
        "Old.",
    );
    env.deliver(old.as_bytes());
    env.run_once();
    // Live mail is numbered by when it arrives, this year.
    let year = crate::common::year();
    let r = report(&env, year, 1);
    let skipped = events(&r, "acknowledgement-skipped");
    assert_eq!(skipped.len(), 1, "{:?}", r.events);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("no-answer"))
    );
    assert!(crate::common::outbox(&r, "acknowledgement").is_empty());
    // The team still hears of it.
    assert_eq!(crate::common::outbox(&r, "notification").len(), 1);
    env.deliver(&crate::common::mail(
        "new@x.example",
        "security@example.org",
        "New",
        "new1@x.example",
        "",
    ));
    env.run_once();
    let fresh = report(&env, year, 2);
    assert_eq!(crate::common::outbox(&fresh, "acknowledgement").len(), 1);
}

#[test]
fn import_refuses_to_run_beside_a_daemon() {
    let env = env();
    env.init();
    let path = write(&env, "old.mbox", &old_inbox());
    let daemon = env.spawn_daemon();
    let lock = env.path("state/disclosed.sqlite3.lock");
    let held = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(&lock).is_ok_and(|s| !s.trim().is_empty())
    });
    assert!(held, "the daemon did not take its lock");
    let out = env.cmd(&["import", &path]);
    crate::common::stop(daemon);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop it before importing"));
    assert!(env.messages().is_empty());
    // Once it stopped, the import runs.
    env.ok(&["import", &path]);
    assert_eq!(env.messages().len(), 4);
}

/// The mbox the benchmark writes has this shape; a small one checks it imports.
#[test]
fn a_generated_mbox_with_reports_and_threaded_follow_ups_imports() {
    let env = env();
    env.init();
    let mut text = String::new();
    for i in 0..30u32 {
        let day = 1 + i % 28;
        let root = format!("root{i}@x.example");
        text.push_str(&entry(
            "r@x.example",
            &format!("Fri Feb {day:2} 10:00:00 2019"),
            &message(
                &format!("r{i}@x.example"),
                "security@example.org",
                &format!("Fri, {day:02} Feb 2019 10:00:00 +0000"),
                &root,
                "",
                "Details.",
            ),
        ));
        text.push_str(&entry(
            "r@x.example",
            &format!("Fri Feb {day:2} 11:00:00 2019"),
            &message(
                &format!("r{i}@x.example"),
                "security@example.org",
                &format!("Fri, {day:02} Feb 2019 11:00:00 +0000"),
                &format!("f{i}@x.example"),
                &format!("References: <{root}>\n"),
                "More.",
            ),
        ));
    }
    let path = write(&env, "gen.mbox", &text);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "reports_opened"), 30, "{summary}");
    assert_eq!(count(&summary, "follow_ups"), 30);
    assert!(Path::new(&path).exists());
}

#[test]
fn an_imap_folder_is_imported_read_only_on_the_real_mail_stack() {
    use crate::mailstack::{MailStack, unique};
    let stack = MailStack::start();
    let security = unique("security");
    let env = Env::with_sections(
        &security,
        &stack.imap_source(&security, ""),
        "[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
    );
    env.init();
    let old: Vec<Vec<u8>> = [
        message(
            "r1@x.example",
            &security,
            "Mon, 04 Mar 2019 10:00:00 +0000",
            "i1@x.example",
            "",
            "Overflow.",
        ),
        message(
            "r1@x.example",
            &security,
            "Tue, 05 Mar 2019 10:00:00 +0000",
            "i2@x.example",
            "References: <i1@x.example>\n",
            "More.",
        ),
        message(
            "r2@y.example",
            &security,
            "Wed, 01 May 2019 12:00:00 +0000",
            "i3@y.example",
            "",
            "XSS.",
        ),
    ]
    .map(String::into_bytes)
    .to_vec();
    stack.append_to(&security, "Archive", &old);
    let summary = import_json(&env, &["--imap-folder", "Archive"]);
    assert_eq!(count(&summary, "read"), 3, "{summary}");
    assert_eq!(count(&summary, "reports_opened"), 2);
    assert_eq!(count(&summary, "follow_ups"), 1);
    assert_eq!(outbox_rows(&env), 0);
    let r = report(&env, 2019, 1);
    assert_eq!(
        r.summary.created_at,
        "2019-03-04T10:00:00Z".parse().unwrap()
    );
    assert_eq!(r.summary.messages, 2);
    // Only read: every message still there and unseen, the INBOX untouched.
    let archive = stack.messages(&security, "Archive");
    assert_eq!(archive.len(), 3);
    assert!(archive.iter().all(|m| !m.seen));
    assert!(stack.messages(&security, "INBOX").is_empty());
    let again = import_json(&env, &["--imap-folder", "Archive"]);
    assert_eq!(count(&again, "already_present"), 3, "{again}");
    // A folder that does not exist is an error, not an empty import.
    let out = env.cmd(&["import", "--imap-folder", "Nowhere"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_reused_message_id_does_not_keep_another_mail_out() {
    let env = env();
    env.init();
    // A stranger's mail carries the Message-ID of the report before it; only
    // the same id, sender and date together count as the same mail.
    let forged = entry(
        "m@evil.example",
        "Mon Mar  4 11:00:05 2019",
        &message(
            "m@evil.example",
            "security@example.org",
            "Mon, 04 Mar 2019 11:00:00 +0000",
            "a1@x.example",
            "",
            "Something else.",
        ),
    );
    let text = [old_inbox(), forged].concat();
    let path = write(&env, "reused.mbox", &text);
    let summary = import_json(&env, &[&path]);
    assert_eq!(count(&summary, "imported"), 5, "{summary}");
    assert_eq!(count(&summary, "already_present"), 0);
    assert_eq!(env.messages().len(), 5);
}
