//! Golden transcripts: whole report threads through the real binary, written
//! out as a reader would follow them and compared with the files checked in
//! under `tests/data/golden/`, one per scenario: a report in clear from the
//! first mail to an SLA reminder, and an encrypted first contact whose
//! acknowledgement waits until the reporter confirms her key. Each step lists
//! what the store recorded (messages with their kind, how they were threaded
//! and their report; events with actor, authentication and details; outbox
//! rows with kind, recipients and protection) and the readable text of every
//! mail sent, decrypted with the test keys where it was encrypted.
//!
//! What differs from run to run (times and dates, Message-IDs, return-path and
//! confirmation tokens, key data and fingerprints, the year in report ids,
//! business time left) is replaced with stable placeholders, and MIME
//! boundaries and signature blocks are not shown, so a file only changes when
//! the daemon's behaviour does. A mismatch fails with a line diff; after a
//! change that is meant, regenerate the files and review their diff:
//!
//! ```sh
//! DISCLOSED_GOLDEN=regenerate cargo nextest run --test it golden
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use jiff::SignedDuration;
use mail_parser::{MessageParser, MimeHeaders as _};
use regex::Regex;

use disclosed::clock::{Clock, SystemClock};
use disclosed::report::ReportState;
use disclosed::store::ReportDetail;

use crate::common::{Env, header, keyed_file_config, year};
use crate::keys::token_in;
use crate::pgp::{
    Part, content_type, crlf, encrypted_payload, grouped, inner_entity, pgp_mime,
    verify_signed_mail, write_secret,
};
use crate::team::Person;

const SECURITY: &str = "security@example.org";
const RITA: &str = "rita@researcher.example";
const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";

/// The environment variable that rewrites the golden files instead of
/// comparing with them.
const REGENERATE: &str = "DISCLOSED_GOLDEN";

/// The program with its team key, Alice and Bob as members with keys of their
/// own, and Rita, who reports (with a key the daemon learns only if she sends
/// it); the file transport; no digest, so that only the report's own mail is
/// sent.
struct Desk {
    env: Env,
    team: Person,
    alice: Person,
    bob: Person,
    rita: Person,
}

impl Desk {
    fn new() -> Self {
        let team = Person::new("Example Security", SECURITY);
        let alice = Person::new("Alice", ALICE);
        let bob = Person::new("Bob", BOB);
        let rita = Person::new("Rita Reporter", RITA);
        for member in [&alice, &bob, &rita] {
            member.gpg.import(&team.public());
        }
        let env = Env::with_file_transport("");
        write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
        std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
        std::fs::write(env.path("bob.asc"), bob.public()).expect("bob's key");
        env.write_config(&keyed_file_config(&format!(
            r#"
[sla]
acknowledge = "5 business days"
triage = "10 business days"
update_every = "14 days"
remind_before = "2 business days"
digest = "off"

[[team.members]]
name = "Alice"
email = "{ALICE}"
key = "alice.asc"

[[team.members]]
name = "Bob"
email = "{BOB}"
key = "bob.asc"
"#
        )));
        env.init();
        Self {
            env,
            team,
            alice,
            bob,
            rita,
        }
    }

    /// The GnuPG of whoever reads mail sent to `address`.
    fn reader(&self, address: &str) -> Option<&Person> {
        [&self.alice, &self.bob, &self.rita]
            .into_iter()
            .find(|p| p.address == address)
    }
}

/// Report ids carry this year; the transcript shows them as `SEC-YYYY-…`.
fn report_id(seq: u32) -> String {
    format!("SEC-{}-{seq:04}", year())
}

#[test]
fn a_report_thread_from_first_mail_to_reminder() {
    let desk = Desk::new();
    let env = &desk.env;
    let mut t = Transcript::new(&desk);

    let report = format!(
        "From: Rita Reporter <{RITA}>\r\nTo: {SECURITY}\r\n\
         Subject: Stored XSS in the comment preview\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <r1@researcher.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello,\r\n\r\na comment containing <img src=x onerror=alert(1)> runs script\r\n\
         when the preview is opened.\r\n\r\nRita\r\n"
    );
    env.deliver(report.as_bytes());
    t.step(
        &desk,
        "Rita reports a vulnerability, in clear",
        &report,
        &["run", "--once"],
    );

    // Alice answers from her mail client: signed, encrypted to the team, to
    // the report's reply address, quoting the notification.
    let id = report_id(1);
    let subject = format!("Re: [{id}] Stored XSS in the comment preview");
    let answer = format!(
        "#reply\n#state triaged\n\nHello Rita,\n\nthank you, we can reproduce it and are \
         working on a fix.\n\nAlice\n\nOn Mon, Example disclosed <{SECURITY}> wrote:\n\
         > New report: {id}\n> a comment containing <img src=x onerror=alert(1)> runs script\n"
    );
    let reply_address = format!("security+{id}@example.org");
    env.deliver(
        &desk
            .alice
            .signed_mail(&reply_address, &subject, &answer, &desk.team, "a1"),
    );
    t.step(
        &desk,
        "Alice answers Rita and triages the report",
        &format!(
            "From: {ALICE}\nTo: {reply_address}\nSubject: ...\n\
             [PGP/MIME: signed by <alice-key>, encrypted to <team-key> and <alice-key>]\n\
             Subject: {subject}\nTo: {reply_address}\n\n{answer}"
        ),
        &["run", "--once"],
    );

    // Thirteen days later nobody has written to Rita again: her 14-day update
    // is due within two business days.
    let later = SystemClock
        .now()
        .checked_add(SignedDuration::from_hours(13 * 24))
        .expect("a time")
        .to_string();
    t.step(
        &desk,
        "Thirteen days later, the SLA tick reminds the team",
        "",
        &["sla", "tick", "--force", "--now", &later],
    );

    let d = the_report(env);
    assert_eq!(d.summary.state, ReportState::Triaged);
    assert_eq!(
        kinds(&d),
        [
            "acknowledgement",
            "notification",
            "notification",
            "command-reply",
            "relay",
            "relay-copy",
            "sla-reminder",
            "sla-reminder"
        ]
    );
    t.compare("report-thread.txt");
}

#[test]
fn an_encrypted_report_from_first_contact_to_an_encrypted_answer() {
    let desk = Desk::new();
    let env = &desk.env;
    let mut t = Transcript::new(&desk);
    let rita = &desk.rita;

    // Rita writes encrypted to the team, signed, her key attached: the key
    // proves she holds it, not that the mailbox is hers.
    let subject = "Password reset links never expire";
    let text = "Hello,\n\na password reset link still works weeks after it was sent.\n\nRita\n";
    let key = rita.public();
    let inner = inner_entity(
        subject,
        &format!("Rita Reporter <{RITA}>"),
        text,
        &[Part {
            name: "rita.asc",
            content_type: "application/pgp-keys",
            data: &key,
        }],
    );
    let outer = format!(
        "From: Rita Reporter <{RITA}>\r\nTo: {SECURITY}\r\nSubject: ...\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <r1@researcher.example>\r\n"
    );
    let armored = rita.gpg.encrypt(&inner, &[&desk.team.fpr], Some(&rita.fpr));
    env.deliver(&pgp_mime(&outer, &armored));
    t.step(
        &desk,
        "Rita reports, encrypted and signed, with her key attached",
        &format!(
            "{outer}[PGP/MIME: signed by <rita-key>, encrypted to <team-key>]\n\
             Subject: {subject}\n[attached: rita.asc, her public key]\n\n{text}"
        ),
        &["run", "--once"],
    );

    // She answers the confirmation from her mailbox, encrypted, quoting the
    // token only her key could read.
    let confirmation = env
        .sent_of(&the_report(env), "key-confirmation")
        .pop()
        .expect("a confirmation mail");
    let token = token_in(&rita.gpg, &confirmation).expect("Rita reads the token");
    let reply_to = header(&confirmation, "Reply-To").expect("Reply-To");
    let parent = header(&confirmation, "Message-ID").expect("Message-ID");
    let text = format!("Yes, that is my key.\n\n>     {token}\n");
    let inner = inner_entity(
        "Re: Please confirm your OpenPGP key",
        &format!("Rita Reporter <{RITA}>"),
        &text,
        &[],
    );
    let outer = format!(
        "From: Rita Reporter <{RITA}>\r\nTo: {reply_to}\r\nSubject: ...\r\n\
         Date: Mon, 23 Nov 2026 10:05:00 +0000\r\nMessage-ID: <r2@researcher.example>\r\n\
         In-Reply-To: {parent}\r\nReferences: {parent}\r\n"
    );
    let armored = rita.gpg.encrypt(&inner, &[&desk.team.fpr], Some(&rita.fpr));
    env.deliver(&pgp_mime(&outer, &armored));
    t.step(
        &desk,
        "Rita confirms her key: the held acknowledgement goes out",
        &format!(
            "{outer}[PGP/MIME: signed by <rita-key>, encrypted to <team-key>]\n\
             Subject: Re: Please confirm your OpenPGP key\n\n{text}"
        ),
        &["run", "--once"],
    );

    // Alice answers; the relay is encrypted to Rita's confirmed key.
    let id = report_id(1);
    let reply_address = format!("security+{id}@example.org");
    let subject = format!("Re: [{id}] {subject}");
    let answer = "#reply\n#severity medium\n\nHello Rita,\n\nconfirmed: links now expire \
                  after an hour from the next release.\n";
    env.deliver(
        &desk
            .alice
            .signed_mail(&reply_address, &subject, answer, &desk.team, "a1"),
    );
    t.step(
        &desk,
        "Alice answers Rita and sets the severity",
        &format!(
            "From: {ALICE}\nTo: {reply_address}\nSubject: ...\n\
             [PGP/MIME: signed by <alice-key>, encrypted to <team-key> and <alice-key>]\n\
             Subject: {subject}\nTo: {reply_address}\n\n{answer}"
        ),
        &["run", "--once"],
    );

    let d = the_report(env);
    assert_eq!(d.summary.state, ReportState::Acknowledged);
    assert!(
        d.outbox.iter().all(|row| row.status == "sent"),
        "the held acknowledgement went out: {:?}",
        d.outbox
    );
    t.compare("encrypted-report.txt");
}

/// What has been written so far, and what of the store it has shown.
struct Transcript {
    text: String,
    messages: usize,
    events: usize,
    /// Each outbox row shown, by id, with the status it was shown with.
    rows: std::collections::HashMap<i64, String>,
    /// The Message-IDs of the mails shown.
    mails: std::collections::HashSet<String>,
    names: Names,
}

impl Transcript {
    fn new(desk: &Desk) -> Self {
        let mut names = Names::new();
        for (person, placeholder) in [
            (&desk.team, "<team-key>"),
            (&desk.alice, "<alice-key>"),
            (&desk.bob, "<bob-key>"),
            (&desk.rita, "<rita-key>"),
        ] {
            names.fixed(&person.fpr, placeholder);
            names.fixed(&person.fpr.to_ascii_lowercase(), placeholder);
            names.fixed(&grouped(&person.fpr), placeholder);
        }
        names.fixed(&format!("SEC-{}-", year()), "SEC-YYYY-");
        names.fixed(&format!("sec-{}-", year()), "sec-YYYY-");
        Self {
            text: HEADER.to_owned(),
            messages: 0,
            events: 0,
            rows: std::collections::HashMap::new(),
            mails: std::collections::HashSet::new(),
            names,
        }
    }

    /// Runs `disclosed args…` after `input` was delivered, and lists what it
    /// changed: new messages and events, new outbox rows and rows whose status
    /// changed, and the mail sent since the last step.
    fn step(&mut self, desk: &Desk, title: &str, input: &str, args: &[&str]) {
        let env = &desk.env;
        let printed = env.ok(args);
        let mut out = format!("\n=== {title}\n\n");
        if !input.is_empty() {
            out.push_str("--- in\n");
            out.push_str(input.replace("\r\n", "\n").trim_end());
            out.push_str("\n\n");
        }
        let command: Vec<&str> = args.iter().take(2).copied().collect();
        let _ = writeln!(
            out,
            "$ disclosed {}\n{}",
            command.join(" "),
            printed.trim_end()
        );

        let messages = env.messages();
        out.push_str("\nmessages stored:\n");
        for m in messages.iter().skip(self.messages) {
            let _ = writeln!(
                out,
                "  #{} from {}: kind={} threaded_by={} report={} openpgp={} encryption={} \
                 signature={}{}",
                m.id,
                m.from.as_deref().unwrap_or("-"),
                m.kind,
                m.threaded_by,
                m.report_id.as_ref().map_or("-", |r| r.as_str()),
                m.openpgp,
                m.encryption,
                m.signature,
                if m.problems.is_empty() {
                    String::new()
                } else {
                    format!(" problems={:?}", m.problems)
                }
            );
        }
        self.messages = messages.len();

        let d = the_report(env);
        // Name the rows' Message-IDs, in the order queued, before any text
        // mentions them.
        for row in &d.outbox {
            self.names.name(&row.message_id, "mail");
        }
        out.push_str("\nevents:\n");
        for e in d.events.iter().skip(self.events) {
            let _ = writeln!(
                out,
                "  {} actor={} auth={}{}",
                e.kind,
                e.actor,
                e.auth,
                detail(&e.detail)
            );
        }
        self.events = d.events.len();

        let sent = env.sent();
        let file_of = |message_id: &str| {
            let id = format!("<{message_id}>");
            sent.iter()
                .find(|(_, raw)| header(raw, "Message-ID").as_deref() == Some(id.as_str()))
                .map(|(_, raw)| raw.clone())
        };
        out.push_str("\noutbox:\n");
        let mut mails = Vec::new();
        for row in &d.outbox {
            let name = self.names.name(&row.message_id, "mail");
            let before = self.rows.insert(row.id, row.status.clone());
            let raw = file_of(&row.message_id);
            if before.as_deref() != Some(row.status.as_str()) {
                let protection = raw.as_deref().map_or("none yet", protection);
                let was = before.map(|b| format!(" (was {b})")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {name} kind={} to={} status={}{was} protection={protection}",
                    row.kind,
                    row.recipients.join(","),
                    row.status,
                );
            }
            if let Some(raw) = raw
                && self.mails.insert(row.message_id.clone())
            {
                mails.push((name, row.kind.clone(), row.recipients.clone(), raw));
            }
        }
        assert_eq!(
            self.mails.len(),
            sent.len(),
            "every mail written belongs to the report's outbox rows"
        );
        self.text.push_str(&self.names.normalise(&out));

        // Mail that only differs by the member it went to reads "as <mail-N>".
        let mut shown: Vec<(String, String)> = Vec::new();
        for (name, kind, recipients, raw) in mails {
            let to = recipients.join(", ");
            let text = self.names.normalise(&readable(desk, &recipients, &raw));
            let neutral = member_neutral(&text);
            let _ = write!(self.text, "\n--- {name}: {kind} to {to}\n");
            match shown.iter().find(|(_, n)| *n == neutral) {
                Some((first, _)) => {
                    let _ = writeln!(self.text, "(as {first}, addressed and encrypted to {to})");
                }
                None => {
                    self.text.push_str(&text);
                    shown.push((name, neutral));
                }
            }
        }
    }

    /// Compares the transcript with `tests/data/golden/<file>`, or rewrites
    /// that file when [`REGENERATE`] is set.
    fn compare(&self, file: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/golden")
            .join(file);
        if std::env::var(REGENERATE).is_ok_and(|v| v == "regenerate") {
            std::fs::create_dir_all(path.parent().expect("a directory")).expect("golden dir");
            std::fs::write(&path, &self.text).expect("write the golden file");
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            expected == self.text,
            "{} differs from this run (- expected, + actual); if the change is meant, \
             rerun with {REGENERATE}=regenerate and review the file's diff:\n{}",
            path.display(),
            diff(&expected, &self.text)
        );
    }
}

/// The top of every transcript: how to read it.
const HEADER: &str = "\
# A report thread as `disclosed` runs it, written by tests/it/golden.rs.
# Each step: what arrived, the command run, then what the store recorded
# (messages, events, outbox rows) and each mail sent, as its recipient reads
# it (decrypted with their key, signatures checked with GnuPG).
# Placeholders for what differs between runs: <mail-N> our Message-IDs in the
# order queued, <token> return-path and key confirmation tokens, <key> key
# data and sizes, <time> and <date>, <span> time left, <team-key>, <alice-key>,
# <bob-key> and <rita-key> fingerprints, YYYY the year.
# Regenerate: DISCLOSED_GOLDEN=regenerate cargo nextest run --test it golden
";

/// The kinds of `d`'s outbox rows, in the order queued.
fn kinds(d: &ReportDetail) -> Vec<&str> {
    d.outbox.iter().map(|row| row.kind.as_str()).collect()
}

/// The one report of these scenarios.
fn the_report(env: &Env) -> ReportDetail {
    env.report(1)
}

/// How a sent mail is protected, from its top-level type.
fn protection(raw: &[u8]) -> &'static str {
    match content_type(raw).as_str() {
        "multipart/encrypted" => "encrypted",
        "multipart/signed" => "signed",
        _ => "clear",
    }
}

/// A mail as its recipient reads it: the outer headers that matter, how it is
/// protected, then for encrypted mail the protected headers, and the text.
fn readable(desk: &Desk, recipients: &[String], raw: &[u8]) -> String {
    let mut out = String::new();
    for name in OUTER_HEADERS {
        if let Some(value) = header(raw, name) {
            let _ = writeln!(out, "{name}: {value}");
        }
    }
    match content_type(raw).as_str() {
        "multipart/encrypted" => {
            let reader = recipients
                .iter()
                .find_map(|r| desk.reader(r))
                .unwrap_or(&desk.team);
            let (plain, status) = reader.gpg.decrypt(&encrypted_payload(&crlf(raw)));
            assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
            let _ = writeln!(
                out,
                "[PGP/MIME: encrypted to {}, {}]",
                reader.address,
                signer(&status)
            );
            let inner = MessageParser::default()
                .parse(&plain)
                .expect("a decrypted entity");
            for name in INNER_HEADERS {
                if let Some(value) = inner.header_raw(name) {
                    let _ = writeln!(out, "{name}: {}", unfold(value));
                }
            }
            out.push_str(&text_of(&plain));
        }
        "multipart/signed" => {
            let status = verify_signed_mail(&desk.team.gpg, &crlf(raw));
            let _ = writeln!(out, "[PGP/MIME: {}]", signer(&status));
            out.push_str(&text_of(raw));
        }
        other => {
            let _ = writeln!(out, "[{other}, in clear]");
            out.push_str(&text_of(raw));
        }
    }
    out
}

/// The outer headers a transcript shows.
const OUTER_HEADERS: [&str; 10] = [
    "Return-Path",
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Autocrypt",
];

/// The protected headers of an encrypted mail that a transcript shows.
const INNER_HEADERS: [&str; 4] = ["Subject", "From", "To", "Cc"];

fn unfold(value: &str) -> String {
    value
        .replace("\r\n", "")
        .replace('\n', "")
        .trim()
        .to_owned()
}

/// A blank line, the text of `entity`'s first text part (LF line ends), and
/// the names of its attachments other than a signature.
fn text_of(entity: &[u8]) -> String {
    let msg = MessageParser::default()
        .parse(entity)
        .expect("a parseable entity");
    let mut out = String::from("\n");
    out.push_str(
        msg.body_text(0)
            .unwrap_or_default()
            .replace("\r\n", "\n")
            .trim_end(),
    );
    out.push('\n');
    for part in msg.attachments() {
        let is_signature = part
            .content_type()
            .is_some_and(|ct| ct.subtype() == Some("pgp-signature"));
        if !is_signature {
            let _ = writeln!(
                out,
                "[attached: {}]",
                part.attachment_name().unwrap_or("(no name)")
            );
        }
    }
    out
}

/// Who signed, from GnuPG's status lines.
fn signer(status: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
        .and_then(|rest| rest.split(' ').nth(9))
        .map_or_else(|| "not signed".to_owned(), |fpr| format!("signed by {fpr}"))
}

/// An event's details as `key=value`, in key order, without empty ones.
fn detail(value: &serde_json::Value) -> String {
    let Some(map) = value.as_object() else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(key, v)| format!(" {key}={v}"))
        .collect()
}

/// `text` with each member named alike, to find mail that differs only by
/// the member it went to.
fn member_neutral(text: &str) -> String {
    text.replace(&format!("Alice <{ALICE}>"), "<member>")
        .replace(&format!("Bob <{BOB}>"), "<member>")
        .replace(ALICE, "<member>")
        .replace(BOB, "<member>")
}

/// Stable names for what differs between runs.
struct Names {
    /// (what, its placeholder), applied longest first.
    fixed: Vec<(String, String)>,
    counters: std::collections::HashMap<&'static str, usize>,
    patterns: Vec<(Regex, &'static str)>,
}

impl Names {
    fn new() -> Self {
        let patterns = [
            (r"security\+bounce-[0-9a-f]+@", "security+bounce-<token>@"),
            (r"keydata=[A-Za-z0-9+/= ]+", "keydata=<key>"),
            (r"key-confirm-[0-9a-f]{32}", "key-confirm-<token>"),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "<time>",
            ),
            (
                r"((Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\d{4}-\d{2}-\d{2} \d{2}:\d{2}( [A-Z]{2,5})?",
                "<time>",
            ),
            (r"\b\d{4}-\d{2}-\d{2}\b", "<date>"),
            // Generated keys differ in size by a byte or two.
            (
                r"\(application/pgp-keys, \d+ B\)",
                "(application/pgp-keys, <size>)",
            ),
            (
                r"\b\d+ (business days?|business hours?|days?|h|min)( \d+ (h|min))?( of business hours)? (left|overdue)",
                "<span> $5",
            ),
            (r"<disclosed\.[^>]+>", "<other-mail>"),
        ];
        Self {
            fixed: Vec::new(),
            counters: std::collections::HashMap::new(),
            patterns: patterns
                .into_iter()
                .map(|(re, to)| (Regex::new(re).expect("a pattern"), to))
                .collect(),
        }
    }

    fn fixed(&mut self, what: &str, placeholder: &str) {
        self.fixed.push((what.to_owned(), placeholder.to_owned()));
        self.fixed
            .sort_by_key(|(what, _)| std::cmp::Reverse(what.len()));
    }

    /// The placeholder for `what` (`<mail-1>`…), numbered in order of first use.
    fn name(&mut self, what: &str, kind: &'static str) -> String {
        if let Some((_, name)) = self.fixed.iter().find(|(w, _)| w == what) {
            return name.clone();
        }
        let n = self.counters.entry(kind).or_default();
        *n += 1;
        let name = format!("<{kind}-{n}>");
        // Also in angle brackets, as headers write Message-IDs.
        self.fixed(&format!("<{what}>"), &name);
        self.fixed(what, &name);
        name
    }

    fn normalise(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (what, placeholder) in &self.fixed {
            text = text.replace(what.as_str(), placeholder);
        }
        for (re, to) in &self.patterns {
            text = re.replace_all(&text, *to).into_owned();
        }
        text
    }
}

/// A line diff of `expected` and `actual` (longest common subsequence), with
/// two lines of context around each change.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        let from = k.saturating_sub(2);
        let to = (k + 3).min(lines.len());
        lines[from..to].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in lines.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            let _ = writeln!(out, "{c} {line}");
        } else {
            skipped = true;
        }
    }
    out
}
