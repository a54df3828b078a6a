//! The daemon against real mail servers: a private Dovecot (IMAP) and Postfix
//! (SMTP → LMTP → Dovecot) per test, from `scripts/mailstack`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::common::{
    ALICE, Env, assert_metadata_only, header, mail, outbox, parse_subject, stop, the_ack_row, year,
};
use crate::mailstack::{MailStack, unique};

const LONG: Duration = Duration::from_secs(30);

/// An installation reading `security`'s INBOX and sending through Postfix.
fn live_env(stack: &MailStack, security: &str, source_extra: &str, extra: &str) -> Env {
    let env = Env::with_sections(
        security,
        &stack.imap_source(security, source_extra),
        &format!(
            "{}\n{extra}",
            stack.smtp_transport("retry_initial = \"1s\"\nretry_max = \"2s\"")
        ),
    );
    env.init();
    env
}

fn report_mail(from: &str, to: &str, n: usize) -> Vec<u8> {
    mail(
        from,
        to,
        &format!("Vulnerability {n}"),
        &format!("report-{n}-{}", from.replace('@', ".")),
        "",
    )
}

#[test]
fn a_report_sent_over_smtp_arrives_by_idle_and_its_acknowledgement_reaches_the_reporter() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    // Polling once an hour: only IDLE can pick the mail up in time.
    let env = live_env(&stack, &security, "poll_interval = \"1h\"", "");
    let daemon = env.spawn_daemon();
    // Let the daemon connect and enter IDLE before the mail arrives.
    std::thread::sleep(Duration::from_millis(1500));
    stack.send(
        &researcher,
        &security,
        &report_mail(&researcher, &security, 1),
    );

    let started = Instant::now();
    let acks = stack.wait_for(&researcher, "INBOX", 1, LONG);
    let waited = started.elapsed();
    let ack = &acks[0].raw;
    let report = format!("SEC-{}-0001", year());
    let subject = header(ack, "Subject").expect("subject");
    assert!(subject.contains(&report), "{subject}");
    assert_eq!(
        header(ack, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let in_reply_to = header(ack, "In-Reply-To").expect("In-Reply-To");
    assert!(in_reply_to.contains("report-1-"), "{in_reply_to}");
    assert!(waited < Duration::from_secs(10), "ack took {waited:?}");

    // The original is stored and flagged \Seen on the server, not deleted.
    let inbox = stack.messages(&security, "INBOX");
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].seen, "processed mail is flagged \\Seen");
    let stored = env.messages();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].location.contains("UIDVALIDITY="),
        "{}",
        stored[0].location
    );
    assert!(
        stored[0].source.starts_with("imap://"),
        "{}",
        stored[0].source
    );
    stop(daemon);
}

#[test]
fn processed_mail_moves_to_the_processed_mailbox() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let env = live_env(&stack, &security, "processed_mailbox = \"Processed\"", "");
    for n in 0..3 {
        stack.append(&security, &report_mail(&researcher, &security, n));
    }
    let out = env.run_once();
    assert!(out.contains("processed 3 new message(s)"), "{out}");
    assert!(stack.messages(&security, "INBOX").is_empty());
    assert_eq!(stack.messages(&security, "Processed").len(), 3);
    assert_eq!(stack.wait_for(&researcher, "INBOX", 3, LONG).len(), 3);
    // Nothing new: nothing fetched, nothing sent.
    let out = env.run_once();
    assert!(out.contains("processed 0 new message(s)"), "{out}");
}

#[test]
fn a_killed_daemon_loses_and_duplicates_nothing() {
    let stack = MailStack::start();
    let security = unique("security");
    // Every one of the 300 researchers is acknowledged: lift the global cap.
    let env = live_env(
        &stack,
        &security,
        "",
        "[limits]\nauto_replies_total = 1000\n",
    );
    let total = 300;
    let researchers: Vec<String> = (0..total).map(|_| unique("r")).collect();
    let reports: Vec<Vec<u8>> = researchers
        .iter()
        .enumerate()
        .map(|(n, r)| report_mail(r, &security, n))
        .collect();
    stack.append_all(&security, &reports);
    // Kill it at three points while it ingests and sends.
    for delay in [300, 700, 1200] {
        let daemon = env.spawn_daemon();
        std::thread::sleep(Duration::from_millis(delay));
        let mut daemon = daemon;
        daemon.kill().expect("SIGKILL");
        daemon.wait().expect("reap");
    }
    env.run_once();
    let stored = env.messages();
    assert_eq!(stored.len(), total, "every message stored exactly once");
    let ids: HashSet<_> = stored.iter().map(|m| m.sha256.clone()).collect();
    assert_eq!(ids.len(), total);
    // Every reporter got their acknowledgement. A kill between the server's 250
    // and our record may send one again, with the same Message-ID: at most the
    // mail in flight on each SMTP connection.
    let mut copies: HashMap<String, usize> = HashMap::new();
    for r in &researchers {
        let inbox = stack.wait_for(r, "INBOX", 1, LONG);
        let ids: HashSet<_> = inbox
            .iter()
            .map(|m| header(&m.raw, "Message-ID").expect("Message-ID"))
            .collect();
        assert_eq!(ids.len(), 1, "{r} got different acknowledgements: {ids:?}");
        *copies.entry(r.clone()).or_default() += inbox.len();
    }
    let resent: usize = copies.values().map(|c| c - 1).sum();
    let in_flight = disclosed::config::SmtpConfig::DEFAULT_CONNECTIONS;
    assert!(
        resent <= 3 * in_flight,
        "{resent} acknowledgements were sent twice"
    );
    // The server agrees: everything is flagged.
    assert!(stack.messages(&security, "INBOX").iter().all(|m| m.seen));
}

#[test]
fn the_daemon_reconnects_when_dovecot_restarts() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let env = live_env(&stack, &security, "", "");
    let daemon = env.spawn_daemon();
    stack.send(
        &researcher,
        &security,
        &report_mail(&researcher, &security, 1),
    );
    stack.wait_for(&researcher, "INBOX", 1, LONG);

    stack.script("stop-imap", &[]);
    // Mail arriving meanwhile waits in Postfix's queue.
    stack.send(
        &researcher,
        &security,
        &report_mail(&researcher, &security, 2),
    );
    std::thread::sleep(Duration::from_secs(2));
    stack.script("start-imap", &[]);

    let acks = stack.wait_for(&researcher, "INBOX", 2, LONG);
    assert_eq!(acks.len(), 2);
    assert_eq!(env.messages().len(), 2);
    stop(daemon);
}

#[test]
fn acknowledgements_wait_while_smtp_is_down_and_go_out_when_it_returns() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let member = unique("alice");
    let env = live_env(&stack, &security, "", "");
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replace(ALICE, &member));
    stack.script("stop-smtp", &[]);
    let daemon = env.spawn_daemon();
    stack.append(&security, &report_mail(&researcher, &security, 1));

    // Stored and queued; the send fails and is retried.
    let started = Instant::now();
    while env.messages().is_empty() {
        assert!(started.elapsed() < LONG, "mail not ingested");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    // The acknowledgement and the team's notification both wait.
    let report = env.report(1);
    the_ack_row(&report);
    let notifications = outbox(&report, "notification");
    assert_eq!(notifications.len(), 1, "{:?}", report.outbox);
    assert_eq!(notifications[0].recipients, [member.as_str()]);
    assert_eq!(report.outbox.len(), 2, "{:?}", report.outbox);
    for row in &report.outbox {
        assert_eq!(row.status, "queued", "{row:?}");
        assert!(row.attempts >= 1, "{row:?}");
        assert!(
            row.last_error
                .as_deref()
                .is_some_and(|e| e.contains("SMTP server")),
            "{row:?}"
        );
    }

    stack.script("start-smtp", &[]);
    let acks = stack.wait_for(&researcher, "INBOX", 1, LONG);
    assert_eq!(acks.len(), 1);
    let notices = stack.wait_for(&member, "INBOX", 1, LONG);
    assert_eq!(notices.len(), 1);
    stop(daemon);
    let report = env.report(1);
    assert_eq!(the_ack_row(&report).status, "sent");
    assert_eq!(outbox(&report, "notification")[0].status, "sent");
    assert_metadata_only(
        &notices[0].raw,
        &format!("SEC-{}-0001", year()),
        &["Vulnerability 1", "Details of the problem"],
    );
}

#[test]
fn a_uidvalidity_change_rescans_without_duplicates() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let env = live_env(&stack, &security, "", "");
    for n in 0..3 {
        stack.append(&security, &report_mail(&researcher, &security, n));
    }
    env.run_once();
    let before = stack.uidvalidity(&security);
    stack.script("renumber", &[&security]);
    let after = stack.uidvalidity(&security);
    assert_ne!(before, after, "renumber did not change UIDVALIDITY");
    stack.append(&security, &report_mail(&researcher, &security, 3));

    let out = env.run_once();
    assert!(
        out.contains("processed 1 new message(s) (3 already stored)"),
        "{out}"
    );
    assert_eq!(env.messages().len(), 4);
    let store = env.store();
    let cursor = store
        .read()
        .cursor(&env.messages()[0].source, "INBOX")
        .expect("read cursor")
        .expect("cursor");
    assert_eq!(cursor.uidvalidity, Some(after));
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let stack = MailStack::start();
    let security = unique("security");
    let env = live_env(&stack, &security, "", "");
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replacen(
        &format!("password = \"{}\"", stack.password()),
        "password = \"wrong\"",
        1,
    ));
    let out = env.cmd(&["run", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refused the login"), "{stderr}");
    assert!(stderr.contains(&security), "{stderr}");
    assert!(
        !stderr.contains("wrong"),
        "the password appears in: {stderr}"
    );

    let out = env.cmd(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED   source: IMAP server"), "{stdout}");
}

#[test]
fn check_reaches_both_servers_over_every_tls_mode() {
    let stack = MailStack::start();
    let security = unique("security");
    let ca = stack.ca_file().display().to_string();
    let cases = [
        ("IMAP_PORT", "none", "SMTP_PORT", "none", false),
        ("IMAP_PORT", "starttls", "SUBMISSION_PORT", "starttls", true),
        (
            "IMAPS_PORT",
            "implicit",
            "SUBMISSIONS_PORT",
            "implicit",
            true,
        ),
    ];
    for (imap_port, imap_tls, smtp_port, smtp_tls, auth) in cases {
        let host = if imap_tls == "none" {
            "127.0.0.1"
        } else {
            "localhost"
        };
        let source = format!(
            "[source]\nkind = \"imap\"\nhost = \"{host}\"\nport = {}\ntls = \"{imap_tls}\"\n\
             ca_file = \"{ca}\"\nusername = \"{security}\"\npassword = \"{}\"\n",
            stack.port(imap_port),
            stack.password()
        );
        let auth_keys = if auth {
            format!(
                "username = \"{security}\"\npassword = \"{}\"\n",
                stack.password()
            )
        } else {
            String::new()
        };
        let transport = format!(
            "[transport]\nkind = \"smtp\"\nhost = \"{host}\"\nport = {}\ntls = \"{smtp_tls}\"\n\
             ca_file = \"{ca}\"\n{auth_keys}",
            stack.port(smtp_port)
        );
        let env = Env::with_sections(&security, &source, &transport);
        env.init();
        let text = env.ok(&["check"]);
        assert!(text.contains("ok       source: IMAP"), "{imap_tls}: {text}");
        assert!(text.contains("IDLE supported"), "{text}");
        assert!(
            text.contains("ok       transport: SMTP"),
            "{smtp_tls}: {text}"
        );
        if auth {
            assert!(text.contains("AUTH accepted"), "{text}");
        }
        let offline = env.ok(&["check", "--offline"]);
        assert!(offline.contains("skipped  source:"), "{offline}");
    }
}

#[test]
fn a_permanent_smtp_refusal_fails_the_mail_at_once_and_tells_the_team() {
    let stack = MailStack::start();
    let security = unique("security");
    let member = unique("alice");
    let env = live_env(&stack, &security, "", "");
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replace("alice@example.org", &member));
    // The test Postfix relays nowhere: mail to other domains is refused (5xx).
    let outsider = "researcher@elsewhere.test";
    stack.append(&security, &report_mail(outsider, &security, 1));
    let out = env.cmd(&["run", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = env.report(1);
    let ack = report
        .outbox
        .iter()
        .find(|o| o.kind == "acknowledgement")
        .expect("acknowledgement row");
    assert_eq!(ack.status, "failed", "{ack:?}");
    assert_eq!(ack.attempts, 1, "failed at once: {ack:?}");
    let error = ack.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("refused the mail") && error.contains("55"),
        "{error}"
    );
    assert!(report.events.iter().any(|e| e.kind == "delivery-failed"));
    // The team hears of it by mail, besides the notification of the report.
    let notification = outbox(&report, "notification");
    assert_eq!(notification.len(), 1, "{:?}", report.outbox);
    assert_eq!(notification[0].status, "sent", "{:?}", notification[0]);
    let failed = outbox(&report, "delivery-failed");
    assert_eq!(failed.len(), 1, "{:?}", report.outbox);
    assert_eq!(failed[0].recipients, [member.as_str()]);
    let notices = stack.wait_for(&member, "INBOX", 2, LONG);
    assert_eq!(notices.len(), 2);
    let (undeliverable, other): (Vec<_>, Vec<_>) = notices
        .iter()
        .partition(|n| parse_subject(&n.raw).is_some_and(|s| s.contains("Undeliverable")));
    assert_eq!((undeliverable.len(), other.len()), (1, 1));
    // The member has no key: the notice names the report, not the recipient
    // or the server's answer (which quotes the recipient).
    assert_metadata_only(
        &undeliverable[0].raw,
        &format!("SEC-{}-0001", year()),
        &[outsider, "Vulnerability 1"],
    );
    assert_metadata_only(
        &other[0].raw,
        &format!("SEC-{}-0001", year()),
        &["Vulnerability 1", "Details of the problem"],
    );
}

#[test]
fn an_oversized_message_is_recorded_from_its_headers_and_marked_processed() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let env = live_env(
        &stack,
        &security,
        "",
        "[limits]\nmax_message_size = \"64 KiB\"\n",
    );
    let mut big = report_mail(&researcher, &security, 1);
    big.extend(std::iter::repeat_n(b'A', 200_000));
    big.extend_from_slice(b"\r\n");
    stack.append_all(
        &security,
        &[big.clone(), report_mail(&researcher, &security, 2)],
    );
    let out = env.run_once();
    assert!(out.contains("processed 2 new message(s)"), "{out}");

    let stored = env.messages();
    let oversized = stored
        .iter()
        .find(|m| m.size == big.len() as u64)
        .expect("the large message is recorded with its full size");
    assert!(!oversized.raw_stored, "its body was not loaded");
    assert!(
        oversized
            .problems
            .iter()
            .any(|p| p.starts_with("oversized")),
        "{:?}",
        oversized.problems
    );
    assert_eq!(oversized.subject, "Vulnerability 1", "headers were read");
    // It is not fetched again, and both are flagged on the server.
    let out = env.run_once();
    assert!(out.contains("processed 0 new message(s)"), "{out}");
    assert!(stack.messages(&security, "INBOX").iter().all(|m| m.seen));
}

#[test]
fn a_large_mailbox_is_ingested_in_several_batches() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    // The file transport: this test is about fetching, not sending.
    let env = Env::with_sections(
        &security,
        &stack.imap_source(&security, ""),
        "[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
    );
    env.init();
    let total = 1100; // more than two batches of 512
    let reports: Vec<Vec<u8>> = (0..total)
        .map(|n| report_mail(&researcher, &security, n))
        .collect();
    stack.append_all(&security, &reports);
    let out = env.run_once();
    assert!(
        out.contains(&format!("processed {total} new message(s)")),
        "{out}"
    );
    assert_eq!(env.messages().len(), total);
    let inbox = stack.messages(&security, "INBOX");
    assert_eq!(inbox.iter().filter(|m| m.seen).count(), total);
    let cursor = env
        .store()
        .read()
        .cursor(&env.messages()[0].source, "INBOX")
        .expect("read cursor")
        .expect("cursor");
    assert_eq!(cursor.last_uid, inbox.last().map(|m| m.uid));
}

#[test]
fn a_reload_with_the_right_password_connects_a_daemon_that_was_refused() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let env = live_env(&stack, &security, "", "");
    let good = std::fs::read_to_string(env.config()).expect("config");
    let right = format!("password = \"{}\"", stack.password());
    env.write_config(&good.replacen(&right, "password = \"wrong\"", 1));
    let log = std::fs::File::create(env.path("daemon.log")).expect("log file");
    let daemon = std::process::Command::new(crate::common::BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("RUST_LOG", "info")
        .stderr(log)
        .spawn()
        .expect("spawn");
    let read_log = || std::fs::read_to_string(env.path("daemon.log")).unwrap_or_default();
    let started = Instant::now();
    while !read_log().contains("refused the login") {
        assert!(
            started.elapsed() < LONG,
            "no refusal logged:\n{}",
            read_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stack.append(&security, &report_mail(&researcher, &security, 1));
    // A permanent error waits for a fix, not a hot loop of logins.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        read_log().matches("refused the login").count(),
        1,
        "{}",
        read_log()
    );
    assert!(env.messages().is_empty());

    env.write_config(&good);
    crate::common::signal(&daemon, libc::SIGHUP);
    let acks = stack.wait_for(&researcher, "INBOX", 1, LONG);
    assert_eq!(acks.len(), 1);
    assert!(
        read_log().contains("IMAP connection restored"),
        "{}",
        read_log()
    );
    stop(daemon);
}

/// Per SMTP session Postfix held on its plain port, the mails it took, from
/// its log (`disconnect from … mail=N …`); sessions without MAIL (the stack's
/// own probes) are left out.
fn postfix_sessions(stack: &MailStack) -> Vec<usize> {
    let log = std::fs::read_to_string(stack.var("POSTFIX_LOG")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(" postfix/smtpd[") && l.contains(" disconnect from "))
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("mail=")))
        .map(|n| {
            n.split('/')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
        .collect()
}

#[test]
fn a_batch_of_mail_goes_to_postfix_over_the_configured_connections() {
    let stack = MailStack::start();
    let security = unique("security");
    let member = unique("alice");
    let env = live_env(&stack, &security, "", "");
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replace(ALICE, &member));
    let total = 20;
    let researchers: Vec<String> = (0..total).map(|_| unique("r")).collect();
    let reports: Vec<Vec<u8>> = researchers
        .iter()
        .enumerate()
        .map(|(n, r)| report_mail(r, &security, n))
        .collect();
    stack.append_all(&security, &reports);
    let out = env.run_once();
    // An acknowledgement to each reporter and a notification to the member.
    assert!(
        out.contains(&format!("processed {total} new message(s)"))
            && out.contains(&format!("sent {} mail(s)", 2 * total)),
        "{out}"
    );
    for r in &researchers {
        assert_eq!(stack.wait_for(r, "INBOX", 1, LONG).len(), 1, "{r}");
    }
    assert_eq!(stack.wait_for(&member, "INBOX", total, LONG).len(), total);
    let started = Instant::now();
    let mut sessions = postfix_sessions(&stack);
    while sessions.iter().sum::<usize>() < 2 * total {
        assert!(started.elapsed() < LONG, "Postfix logged {sessions:?}");
        std::thread::sleep(Duration::from_millis(100));
        sessions = postfix_sessions(&stack);
    }
    // Ingest commits the 20 reports at once, so one delivery pass carries all
    // 40 mails, spread over the default four connections (not one per mail).
    assert_eq!(sessions.len(), 4, "mails per SMTP session: {sessions:?}");
    assert_eq!(sessions.iter().sum::<usize>(), 2 * total, "{sessions:?}");
}
