//! What goes out is well-formed whatever came in: the mail the file transport
//! wrote has no line over 998 octets, headers folded near 78, echoed subjects
//! and names cut short, `References` trimmed; and what the command line
//! prints obeys no escape sequence from a mail.

use crate::common::{ALICE, Env, header, mail, parse_subject, y};

const REPORTER: &str = "rita@researcher.example";

/// Every line of `raw` (CRLF or LF) with its number, without the line end.
fn lines(raw: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// The header block of `raw`, without the blank line.
fn head(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    &raw[..end]
}

/// Asserts RFC 5322's hard limit on every line of `raw` and the folding limit
/// on its header lines.
fn assert_well_formed(raw: &[u8]) {
    for (n, line) in lines(raw) {
        assert!(
            line.len() <= 998,
            "line {n} has {} octets:\n{}",
            line.len(),
            String::from_utf8_lossy(&line[..200])
        );
    }
    for (n, line) in lines(head(raw)) {
        assert!(
            line.len() <= 78,
            "header line {n} has {} octets: {}",
            line.len(),
            String::from_utf8_lossy(line)
        );
    }
}

/// The lines a header takes in `raw`: its first line and its continuations.
fn header_lines(raw: &[u8], name: &str) -> usize {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut count = 0;
    let mut inside = false;
    for (_, line) in lines(head(raw)) {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            count += usize::from(inside);
        } else {
            inside = line.to_ascii_lowercase().starts_with(prefix.as_bytes());
            count += usize::from(inside);
        }
    }
    count
}

/// Delivers `raw`, runs once, and returns everything the file transport wrote.
fn run_with(env: &Env, raw: &[u8]) -> Vec<Vec<u8>> {
    env.deliver(raw);
    env.run_once();
    env.sent().into_iter().map(|(_, raw)| raw).collect()
}

fn the_ack(env: &Env) -> Vec<u8> {
    let mut acks = env.sent_to(REPORTER);
    assert_eq!(acks.len(), 1, "one acknowledgement");
    acks.remove(0)
}

#[test]
fn an_ordinary_acknowledgement_keeps_its_subject_whole_on_short_lines() {
    let env = Env::with_file_transport("");
    env.init();
    let subject =
        "Überlauf im Parser: ein Heap-Fehler in der Anmeldung für Benutzer mit langen Namen";
    let sent = run_with(
        &env,
        &mail(
            "Rita <rita@researcher.example>",
            "security@example.org",
            subject,
            "r1@researcher.example",
            "",
        ),
    );
    assert_eq!(sent.len(), 2, "the acknowledgement and the notification");
    for raw in &sent {
        assert_well_formed(raw);
    }
    let ack = the_ack(&env);
    assert_eq!(
        parse_subject(&ack).as_deref(),
        Some(y(&format!("[SEC-2026-0001] Re: {subject}")).as_str())
    );
    assert!(header_lines(&ack, "Subject") > 1, "folded");
}

#[test]
fn a_hundred_thousand_character_subject_makes_an_acknowledgement_with_short_folded_lines() {
    let env = Env::with_file_transport("");
    env.init();
    // One word: nowhere to fold it as plain text.
    let subject = "A".repeat(100_000);
    let sent = run_with(
        &env,
        &mail(
            REPORTER,
            "security@example.org",
            &subject,
            "r1@researcher.example",
            "",
        ),
    );
    assert_eq!(sent.len(), 2, "the acknowledgement and the notification");
    for raw in &sent {
        assert_well_formed(raw);
        assert!(raw.len() < 8 * 1024, "{} bytes", raw.len());
    }
    let ack = the_ack(&env);
    assert!(header_lines(&ack, "Subject") > 1, "folded");
    let echoed = parse_subject(&ack).expect("a subject");
    assert!(
        echoed.starts_with(&y("[SEC-2026-0001] Re: AAAA")) && echoed.ends_with("A…"),
        "{echoed}"
    );
    assert!(echoed.chars().count() < 250, "{}", echoed.chars().count());
    // The body echoes the same short subject, never the long one.
    let whole = String::from_utf8_lossy(&ack);
    assert!(
        !whole.contains(&"A".repeat(201)),
        "the subject is echoed whole"
    );
    // The store keeps it short too; the raw message keeps it whole.
    let report = env.report(1);
    assert_eq!(report.summary.subject.chars().count(), 200);
}

#[test]
fn a_ten_megabyte_subject_does_not_multiply_into_the_notifications() {
    let env = Env::with_file_transport("");
    env.init();
    let subject = "word ".repeat(2 << 20);
    let raw = mail(
        REPORTER,
        "security@example.org",
        &subject,
        "r1@researcher.example",
        "",
    );
    assert!(raw.len() > 10_000_000);
    let sent = run_with(&env, &raw);
    let notifications = env.sent_to(ALICE);
    assert!(!notifications.is_empty(), "the team is told");
    the_ack(&env);
    let total: usize = sent.iter().map(Vec::len).sum();
    assert!(total < 32 * 1024, "{} mails, {total} bytes", sent.len());
    for raw in &sent {
        assert_well_formed(raw);
    }
}

#[test]
fn twenty_thousand_references_become_a_short_header() {
    let env = Env::with_file_transport("");
    env.init();
    let references: Vec<String> = (0..20_000).map(|i| format!("<{i}@x.example>")).collect();
    let extra = format!("References: {}\r\n", references.join("\r\n "));
    let sent = run_with(
        &env,
        &mail(
            REPORTER,
            "security@example.org",
            "XSS",
            "r1@researcher.example",
            &extra,
        ),
    );
    for raw in &sent {
        assert_well_formed(raw);
    }
    let ack = the_ack(&env);
    assert!(ack.len() < 8 * 1024, "{} bytes", ack.len());
    let kept = header(&ack, "References").expect("References");
    let ids: Vec<&str> = kept.split_whitespace().collect();
    assert_eq!(ids.len(), 10, "{kept}");
    assert_eq!(ids[0], "<0@x.example>");
    assert_eq!(ids[1], "<19992@x.example>");
    assert_eq!(ids[8], "<19999@x.example>");
    assert_eq!(ids[9], "<r1@researcher.example>");
    assert_eq!(
        header(&ack, "In-Reply-To").as_deref(),
        Some("<r1@researcher.example>")
    );
}

#[test]
fn invalid_references_are_dropped_and_a_long_message_id_is_not_repeated() {
    let env = Env::with_file_transport("");
    env.init();
    let long_id = format!("{}@researcher.example", "i".repeat(5000));
    let extra = format!(
        "References: <a@x.example> <ü@x.example> <a@x.example> <{}@x.example> <b@x.example>\r\n",
        "l".repeat(300)
    );
    run_with(
        &env,
        &mail(REPORTER, "security@example.org", "XSS", &long_id, &extra),
    );
    let ack = the_ack(&env);
    assert_well_formed(&ack);
    assert_eq!(
        header(&ack, "References").as_deref(),
        Some("<a@x.example> <b@x.example>")
    );
    assert_eq!(header(&ack, "In-Reply-To"), None);
}

#[test]
fn a_subject_with_an_encoded_line_break_cannot_add_a_header() {
    let env = Env::with_file_transport("");
    env.init();
    // "hi\r\nBcc: victim@evil.example\r\n\r\nforged body", as an encoded word.
    let subject = "=?utf-8?b?aGkNCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ0KDQpmb3JnZWQgYm9keQ==?=";
    let name = "=?utf-8?b?Uml0YQ0KQmNjOiB2aWN0aW1AZXZpbC5leGFtcGxl?="; // "Rita\r\nBcc: victim@…"
    let sent = run_with(
        &env,
        &mail(
            &format!("{name} <{REPORTER}>"),
            "security@example.org",
            subject,
            "r1@researcher.example",
            "",
        ),
    );
    assert_eq!(sent.len(), 2);
    for raw in &sent {
        assert_well_formed(raw);
        assert_eq!(header(raw, "Bcc"), None);
        let head = String::from_utf8_lossy(head(raw)).to_ascii_lowercase();
        assert!(!head.contains("\nbcc:"), "{head}");
    }
    let echoed = parse_subject(&the_ack(&env)).expect("subject");
    assert!(
        echoed.ends_with("hi Bcc: victim@evil.example forged body"),
        "{echoed}"
    );
}

#[test]
fn a_ten_thousand_character_display_name_is_cut_in_the_acknowledgement() {
    let env = Env::with_file_transport("");
    env.init();
    let name = "Rita ".repeat(2000);
    run_with(
        &env,
        &mail(
            &format!("\"{}\" <{REPORTER}>", name.trim()),
            "security@example.org",
            "XSS",
            "r1@researcher.example",
            "",
        ),
    );
    let ack = the_ack(&env);
    assert_well_formed(&ack);
    let parsed = mail_parser::MessageParser::default()
        .parse(&ack)
        .expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("To");
    assert_eq!(to.address(), Some(REPORTER));
    let shown = to.name().expect("a name");
    assert!(
        shown.starts_with("Rita Rita") && shown.ends_with('…'),
        "{shown}"
    );
    assert_eq!(shown.chars().count(), 100);
}

/// A message holding a message holding a message…, `levels` deep.
fn nested(levels: usize) -> Vec<u8> {
    let mut raw = String::new();
    for i in 0..levels {
        raw.push_str(&format!(
            "From: {REPORTER}\r\nTo: security@example.org\r\nSubject: Fwd {i}\r\n\
             Message-ID: <n{i}@researcher.example>\r\nContent-Type: message/rfc822\r\n\r\n"
        ));
    }
    raw.push_str("From: someone@x.example\r\nSubject: innermost\r\n\r\nthe bottom\r\n");
    raw.into_bytes()
}

#[test]
fn a_forwarded_message_is_not_too_deep() {
    let env = Env::with_file_transport("");
    env.init();
    run_with(&env, &nested(2));
    let report = env.report(1);
    let problems = &report.messages[0].problems;
    assert!(
        !problems.iter().any(|p| p.starts_with("mime-too-deep")),
        "{problems:?}"
    );
}

#[test]
fn a_mail_nesting_rfc822_past_max_mime_depth_is_classified_too_deep() {
    let env = Env::with_file_transport("[limits]\nmax_mime_depth = 8\n");
    env.init();
    run_with(&env, &nested(500));
    let report = env.report(1);
    let problems = &report.messages[0].problems;
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("mime-too-deep: MIME parts nest 9 deep (limit 8)")),
        "{problems:?}"
    );
}

#[test]
fn an_osc8_link_in_a_mail_is_not_a_link_in_the_terminal() {
    let env = Env::with_file_transport("");
    env.init();
    let trap = "Click \u{1b}]8;;https://evil.example/\u{7}the advisory\u{1b}]8;;\u{7} \
                \u{1b}[2J\u{1b}[1;1Hcleared \u{9b}31mred invoice\u{202e}fdp.exe";
    let raw = format!(
        "From: {REPORTER}\r\nTo: security@example.org\r\n\
         Subject: =?utf-8?b?{}?=\r\nMessage-ID: <r1@researcher.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{trap}\r\n",
        crate::pgp::base64("Report \u{1b}]8;;https://evil.example/\u{7}link".as_bytes())
    );
    run_with(&env, raw.as_bytes());
    let id = y("SEC-2026-0001");

    for args in [vec!["report", id.as_str()], vec!["reports"]] {
        let out = env.cmd(&args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(c), "{args:?} prints {c:?}:\n{text}");
        }
        assert!(text.contains("Report"), "{text}");
    }
    let text = env.ok(&["report", &id]);
    assert!(
        text.contains("Click the advisory cleared red invoice\u{fffd}fdp.exe"),
        "{text}"
    );

    // JSON keeps the text as the mail had it, escaped.
    let out = env.ok(&["report", &id, "--json"]);
    for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!out.contains(c), "the JSON prints {c:?} raw");
    }
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let body = json["messages"][0]["text"].as_str().expect("text");
    assert!(body.contains(trap), "{body:?}");
}
