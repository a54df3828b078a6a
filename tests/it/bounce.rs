//! Mail that claims to be ours or to be a bounce: our own mail is
//! recognised only as a copy of an outbox row, a bounce only when it comes back
//! to the return path of a mail we sent, and the team's notice of a bounce
//! quotes its delivery-status fields, never its text. A member without a key
//! gets metadata only (id, state, deadlines) of every team mail. With the file
//! transport here, and once over the real mail stack, where Postfix writes the
//! bounce.

use std::time::Duration;

use disclosed::store::{MessageView, ReportDetail};

use crate::common::{Env, body_text, header, parse_subject, y};
use crate::mailstack::{MailStack, unique};
use crate::pgp::{Part, grouped, headers, inner_entity, pgp_mime, write_secret};
use crate::team::Person;
use crate::team_auth::Setup;

const SECURITY: &str = "security@example.org";
const RITA: &str = "rita@researcher.example";
const MALLORY: &str = "mallory@evil.example";
const BOB: &str = "bob@example.org";

/// A team key, Alice (with her key) and Bob (without one), on Maildir with the
/// file transport, no digest.
fn setup() -> Setup {
    crate::team_auth::setup("", "[sla]\ndigest = \"off\"")
}

fn plain(from: &str, to: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{id}>\r\n{extra}\r\n{body}"
    )
    .into_bytes()
}

/// Rita's report (report 1) and Mallory's (report 2), processed.
fn two_reports(env: &Env) {
    env.deliver(&plain(
        RITA,
        SECURITY,
        "Token leak in export",
        "r1@researcher.example",
        "",
        "The export endpoint leaks session tokens.\r\n",
    ));
    env.deliver(&plain(
        MALLORY,
        SECURITY,
        "Mallory's own report",
        "m1@evil.example",
        "",
        "Nothing to see.\r\n",
    ));
    env.run_once();
}

/// The one mail the file transport wrote to `to`, of `report`'s outbox `kind`.
fn sent_row<'a>(
    report: &'a ReportDetail,
    kind: &str,
    to: &str,
) -> &'a disclosed::store::OutboxView {
    let rows: Vec<_> = report
        .outbox
        .iter()
        .filter(|o| o.kind == kind && o.recipients == [to])
        .collect();
    assert_eq!(rows.len(), 1, "one {kind} to {to}: {:?}", report.outbox);
    rows[0]
}

/// The file the file transport wrote for the outbox row with `message_id`.
fn file_of(env: &Env, message_id: &str) -> Vec<u8> {
    let id = format!("<{message_id}>");
    env.sent()
        .into_iter()
        .map(|(_, raw)| raw)
        .find(|raw| header(raw, "Message-ID").as_deref() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("no file for {message_id}"))
}

/// The return path (envelope sender) the file transport recorded for a mail.
fn return_path(raw: &[u8]) -> String {
    header(raw, "Return-Path")
        .expect("a Return-Path line")
        .trim_matches(['<', '>'])
        .to_owned()
}

/// The return path of `report`'s acknowledgement.
fn ack_return_path(env: &Env, report: &ReportDetail) -> String {
    let ack = sent_row(report, "acknowledgement", &report.participants[0].address);
    return_path(&file_of(env, &ack.message_id))
}

/// A `multipart/report` DSN to `to`: `free_text` as its human part, `status`
/// as its `message/delivery-status` part, `returned` as the returned headers.
fn dsn(
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    free_text: &str,
    status: &str,
    returned: &str,
) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nDelivered-To: {to}\r\nFrom: Mail Delivery System <{from}>\r\nTo: {to}\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"DSN\"\r\n\r\n\
         --DSN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{free_text}\r\n\
         --DSN\r\nContent-Type: message/delivery-status\r\n\r\n{status}\r\n\
         --DSN\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--DSN--\r\n"
    )
    .into_bytes()
}

const STATUS: &str = "Reporting-MTA: dns; mx.researcher.example\r\n\r\n\
    Final-Recipient: rfc822; rita@researcher.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
    Remote-MTA: dns; mx.researcher.example\r\nDiagnostic-Code: smtp; 550 5.1.1 mailbox unknown";

fn unattached(env: &Env) -> Vec<MessageView> {
    env.messages()
        .into_iter()
        .filter(|m| m.report_id.is_none())
        .collect()
}

fn has_problem(m: &MessageView, code: &str) -> bool {
    m.problems
        .iter()
        .any(|p| p.starts_with(&format!("{code}:")))
}

/// What report 1 looked like, to compare after an attack.
fn snapshot(env: &Env) -> (usize, usize, usize) {
    let d = env.report(1);
    (d.messages.len(), d.events.len(), d.outbox.len())
}

/// Asserts the last message stored is unattached with problem `code` and kind
/// `kind`, and that nothing was sent and report 1 did not change.
fn assert_refused(env: &Env, before: (usize, usize, usize), sent: usize, kind: &str, code: &str) {
    let all = env.messages();
    let last = all.last().expect("a message");
    assert_eq!(last.report_id, None, "attached: {last:?}");
    assert_eq!(last.kind, kind, "{last:?}");
    assert!(has_problem(last, code), "no {code}: {:?}", last.problems);
    assert!(has_problem(last, "not-answered"), "{:?}", last.problems);
    assert_eq!(snapshot(env), before, "report 1 changed");
    assert_eq!(env.sent().len(), sent, "something was sent");
    assert_eq!(
        env.store().read().reports(None).expect("list").len(),
        2,
        "a report was opened"
    );
}

#[test]
fn a_forged_disclosed_message_id_does_not_write_into_the_victims_report() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let victim = env.report(1);
    let ack_id = sent_row(&victim, "acknowledgement", RITA)
        .message_id
        .clone();
    let (before, sent) = (snapshot(env), env.sent().len());
    // A Message-ID shaped like ours, the victim's reply address, subject tag
    // and a reference to our acknowledgement to her.
    env.deliver(&plain(
        MALLORY,
        &y("security+SEC-2026-0001@example.org"),
        &y("[SEC-2026-0001] Re: Token leak in export"),
        "disclosed.0190aaaabbbbcccc@example.org",
        &format!("In-Reply-To: <{ack_id}>\r\n"),
        "Please send the PoC to mallory@evil.example.\r\n",
    ));
    env.run_once();
    assert_refused(env, before, sent, "spoofed", "spoofed-own-address");
}

#[test]
fn a_copied_message_id_of_ours_with_another_body_is_not_our_mail() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    // Mallory knows the Message-ID of our acknowledgement to her; she sends her
    // own text under it, naming Rita's report.
    let own_ack = sent_row(&env.report(2), "acknowledgement", MALLORY)
        .message_id
        .clone();
    let (before, sent) = (snapshot(env), env.sent().len());
    env.deliver(&plain(
        &format!("Example Security <{SECURITY}>"),
        &y("security+SEC-2026-0001-internal@example.org"),
        &y("[SEC-2026-0001] Decision"),
        &own_ack,
        "",
        "#state rejected\r\n",
    ));
    env.run_once();
    assert_refused(env, before, sent, "spoofed", "spoofed-own-address");
}

#[test]
fn a_forged_program_from_does_not_write_into_the_victims_report() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let (before, sent) = (snapshot(env), env.sent().len());
    env.deliver(&plain(
        &format!("Example Security <{SECURITY}>"),
        &y("security+SEC-2026-0001@example.org"),
        &y("[SEC-2026-0001] Re: Token leak in export"),
        "forged-from@evil.example",
        "",
        "We have fixed it, please disclose now.\r\n",
    ));
    env.run_once();
    assert_refused(env, before, sent, "spoofed", "spoofed-own-address");
}

#[test]
fn our_own_mail_coming_back_joins_the_report_it_belongs_to() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let ack = sent_row(&env.report(1), "acknowledgement", RITA)
        .message_id
        .clone();
    let sent = env.sent().len();
    // The acknowledgement as a mail server delivers it back (say, Bcc'd to
    // ourselves): a header on top, LF line endings.
    let mut copy = b"Delivered-To: security@example.org\r\n".to_vec();
    copy.extend_from_slice(&file_of(env, &ack));
    let copy = String::from_utf8(copy)
        .expect("utf-8")
        .replace("\r\n", "\n");
    env.deliver(copy.as_bytes());
    env.run_once();
    let d = env.report(1);
    let last = d.messages.last().expect("messages");
    assert_eq!(
        (last.kind.as_str(), last.threaded_by.as_str()),
        ("own", "outbox")
    );
    assert!(
        !has_problem(last, "spoofed-own-address"),
        "{:?}",
        last.problems
    );
    assert_eq!(env.sent().len(), sent, "never answered, no team mail");
}

#[test]
fn a_forged_bounce_is_not_attached_to_the_victims_report() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let ack_id = sent_row(&env.report(1), "acknowledgement", RITA)
        .message_id
        .clone();
    let (before, sent) = (snapshot(env), env.sent().len());
    let to = y("security+SEC-2026-0001@example.org");
    let subject = y("Undelivered Mail: [SEC-2026-0001] Token leak in export");
    // A DSN from "MAILER-DAEMON" with the victim's plus address, subject tag
    // and the Message-ID of our mail to her.
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.evil.example",
        &to,
        &subject,
        "forged-dsn@mx.evil.example",
        "ATTACKER TEXT: the fix is wrong, mail details to mallory@evil.example",
        STATUS,
        &format!("Message-ID: <{ack_id}>\r\nSubject: ATTACKER RETURNED"),
    ));
    env.run_once();
    assert_refused(env, before, sent, "bounce", "unverified-bounce");
    // A plain one from postmaster@, naming the report by reference only.
    env.deliver(&plain(
        "postmaster@mx.evil.example",
        &to,
        &subject,
        "forged-dsn-2@mx.evil.example",
        &format!("In-Reply-To: <{ack_id}>\r\nReturn-Path: <>\r\n"),
        "ATTACKER TEXT 2\r\n",
    ));
    env.run_once();
    assert_refused(env, before, sent, "bounce", "unverified-bounce");
    for n in [1, 2] {
        let d = env.report(n);
        assert!(d.events.iter().all(|e| e.kind != "delivery-problem"), "{n}");
        assert!(d.outbox.iter().all(|o| o.kind != "delivery-problem"), "{n}");
    }
}

#[test]
fn a_bounce_with_an_unknown_or_garbled_token_is_not_attached() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let ack_id = sent_row(&env.report(1), "acknowledgement", RITA)
        .message_id
        .clone();
    let (before, sent) = (snapshot(env), env.sent().len());
    for (n, to) in [
        "security+bounce-00000000000000000000000000000000@example.org",
        "security+bounce-0123456789abcdef@example.org",
        "security+bounce-zz@example.org",
    ]
    .into_iter()
    .enumerate()
    {
        env.deliver(&dsn(
            "MAILER-DAEMON@mx.researcher.example",
            to,
            &y("Undelivered Mail: [SEC-2026-0001] Token leak in export"),
            &format!("guess-{n}@mx.evil.example"),
            "ATTACKER TEXT",
            STATUS,
            &format!("Message-ID: <{ack_id}>"),
        ));
        env.run_once();
        assert_refused(env, before, sent, "bounce", "unverified-bounce");
    }
    assert_eq!(unattached(env).len(), 3);
}

/// Alice's and Bob's delivery-problem notices of report `n`: Alice's decrypted.
fn delivery_notices(s: &Setup, n: u32) -> (String, Vec<u8>) {
    let env = &s.env;
    let d = env.report(n);
    let alice = sent_row(&d, "delivery-problem", "alice@example.org");
    let bob = sent_row(&d, "delivery-problem", BOB);
    let alices = s.alice.read(&file_of(env, &alice.message_id), &s.team.fpr);
    (alices, file_of(env, &bob.message_id))
}

#[test]
fn an_honest_bounce_reaches_the_report_of_the_mail_it_returns() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let victim = env.report(1);
    let ack_id = sent_row(&victim, "acknowledgement", RITA)
        .message_id
        .clone();
    let to = ack_return_path(env, &victim);
    assert!(
        to.starts_with("security+bounce-") && to.ends_with("@example.org"),
        "{to}"
    );
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.researcher.example",
        &to,
        "Undelivered Mail Returned to Sender",
        "dsn1@mx.researcher.example",
        "Sorry, we could not deliver your mail.",
        STATUS,
        &format!("Message-ID: <{ack_id}>"),
    ));
    env.run_once();
    let d = env.report(1);
    let last = d.messages.last().expect("messages");
    assert_eq!(
        (last.kind.as_str(), last.threaded_by.as_str()),
        ("bounce", "return-path")
    );
    assert!(
        !has_problem(last, "unverified-bounce"),
        "{:?}",
        last.problems
    );
    let event = d
        .events
        .iter()
        .find(|e| e.kind == "delivery-problem")
        .expect("a delivery-problem event");
    assert_eq!(event.detail["returned"], ack_id.as_str());
    assert_eq!(event.detail["returned_kind"], "acknowledgement");
    assert_eq!(event.detail["recipients"], serde_json::json!([RITA]));
    assert_eq!(event.detail["status"][0]["status"], "5.1.1");
    let (alices, _) = delivery_notices(&s, 1);
    for needle in [
        "Final-Recipient: rfc822; rita@researcher.example",
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mx.researcher.example",
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown",
        &ack_id,
        "acknowledgement",
    ] {
        assert!(alices.contains(needle), "{needle} missing in:\n{alices}");
    }
    assert!(!alices.contains("Sorry, we could not"), "{alices}");
    // Mallory's report heard nothing of it.
    assert!(
        env.report(2)
            .events
            .iter()
            .all(|e| e.kind != "delivery-problem")
    );
}

#[test]
fn a_bounce_quotes_only_its_delivery_status_fields_to_the_team() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let victim = env.report(1);
    let to = ack_return_path(env, &victim);
    // The bounce's free text, an unknown field and the returned message carry
    // another report's data (as a relaying server that quotes mail might).
    let leak = y("SEC-2026-0002 Mallory's own report: Nothing to see");
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.researcher.example",
        &to,
        &format!("Undelivered: {leak}"),
        "dsn2@mx.researcher.example",
        &format!("Here is what you sent: {leak}\r\nmallory@evil.example"),
        &format!(
            "Reporting-MTA: dns; mx\r\nX-Leak: {leak}\r\n\r\nFinal-Recipient: rfc822; rita@researcher.example\r\n\
             Action: failed\r\nStatus: 5.7.1\r\nX-Other: {leak}\r\nDiagnostic-Code: smtp; 554 rejected\r\n\
             \x20{}",
            "x".repeat(400)
        ),
        &format!("Subject: {leak}\r\nFrom: {MALLORY}"),
    ));
    env.run_once();
    let (alices, bobs) = delivery_notices(&s, 1);
    assert!(alices.contains("Status: 5.7.1"), "{alices}");
    for secret in [
        "Mallory",
        MALLORY,
        "Nothing to see",
        "Here is what you sent",
    ] {
        assert!(!alices.contains(secret), "{secret} quoted:\n{alices}");
    }
    let diagnostic = alices
        .lines()
        .find(|l| l.contains("Diagnostic-Code:"))
        .expect("diagnostic line");
    assert!(diagnostic.chars().count() < 230, "{diagnostic}");
    crate::common::assert_metadata_only(
        &bobs,
        &y("SEC-2026-0001"),
        &[RITA, "Token leak", "Mallory's", "5.7.1", "Diagnostic-Code"],
    );
}

#[test]
fn a_bounce_joins_the_report_of_its_return_path_not_the_one_it_names() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    // Mallory sees the return path of our acknowledgement to her, and uses it
    // on a "bounce" naming Rita's report every other way.
    let to = ack_return_path(env, &env.report(2));
    let before = snapshot(env);
    let mut raw = y("Cc: security+SEC-2026-0001@example.org\r\n").into_bytes();
    raw.extend(dsn(
        "MAILER-DAEMON@mx.evil.example",
        &to,
        &y("Undelivered: [SEC-2026-0001] Token leak in export"),
        "dsn3@mx.evil.example",
        "ATTACKER TEXT",
        STATUS,
        "Subject: x",
    ));
    env.deliver(&raw);
    env.run_once();
    assert_eq!(snapshot(env), before, "Rita's report changed");
    let mallorys = env.report(2);
    let last = mallorys.messages.last().expect("messages");
    assert_eq!(
        (last.kind.as_str(), last.threaded_by.as_str()),
        ("bounce", "return-path")
    );
}

#[test]
fn a_bounce_of_a_delivery_problem_notice_is_not_announced_again() {
    let s = setup();
    let env = &s.env;
    two_reports(env);
    let to = ack_return_path(env, &env.report(1));
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.researcher.example",
        &to,
        "Undelivered",
        "dsn4@mx.researcher.example",
        "",
        STATUS,
        "",
    ));
    env.run_once();
    let d = env.report(1);
    let bobs = sent_row(&d, "delivery-problem", BOB);
    let bob_path = return_path(&file_of(env, &bobs.message_id));
    let rows = d.outbox.len();
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.example.org",
        &bob_path,
        "Undelivered",
        "dsn5@mx.example.org",
        "",
        "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.2.2",
        "",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(
        d.outbox.len(),
        rows,
        "a notice of the notice: {:?}",
        d.outbox
    );
    let problems: Vec<_> = d
        .events
        .iter()
        .filter(|e| e.kind == "delivery-problem")
        .collect();
    assert_eq!(problems.len(), 2, "both bounces are recorded");
    assert_eq!(problems[1].detail["recipients"], serde_json::json!([BOB]));
}

/// Every mail to `who` of `report` whose outbox kind is `kind`.
fn mails_to(env: &Env, report: &ReportDetail, kind: &str, who: &str) -> Vec<Vec<u8>> {
    report
        .outbox
        .iter()
        .filter(|o| o.kind == kind && o.recipients == [who])
        .map(|o| file_of(env, &o.message_id))
        .collect()
}

#[test]
fn a_keyless_members_notices_carry_metadata_only() {
    let s = setup();
    let env = &s.env;
    let rita = Person::new("Rita Reporter", RITA);
    rita.gpg.import(&s.team.public());
    let from = format!("Rita Reporter <{RITA}>");
    let encrypted = |subject: &str, text: &str, to: &str, id: &str| {
        let key = rita.public();
        let inner = inner_entity(
            subject,
            &from,
            text,
            &[Part {
                name: "rita-key.asc",
                content_type: "application/pgp-keys",
                data: &key,
            }],
        );
        let armored = rita
            .gpg
            .encrypt(&inner, &[&s.team.fpr, &rita.fpr], Some(&rita.fpr));
        let outer = headers(&from, "...", id, "").replace(SECURITY, to);
        pgp_mime(&outer, &armored)
    };
    env.deliver(&encrypted(
        "RCE in the image resizer",
        "Uploading a crafted SVG runs code as www-data.",
        SECURITY,
        "e1@researcher.example",
    ));
    env.run_once();
    // The key Rita attached is unproven until the team vouches for it; then
    // the held acknowledgement goes out.
    env.ok(&["key", "accept", RITA, &rita.fpr, "--by", "alice"]);
    env.run_once();
    env.deliver(&encrypted(
        "More on the resizer",
        "It also works through the avatar endpoint.",
        &y("security+SEC-2026-0001@example.org"),
        "e2@researcher.example",
    ));
    env.run_once();
    let to = ack_return_path(env, &env.report(1));
    env.deliver(&dsn(
        "MAILER-DAEMON@mx.researcher.example",
        &to,
        "Undelivered Mail Returned to Sender",
        "dsn6@mx.researcher.example",
        "Your mail to rita@researcher.example about the resizer bounced.",
        STATUS,
        "Subject: ...",
    ));
    env.run_once();

    let d = env.report(1);
    let signed = d
        .events
        .iter()
        .any(|e| e.detail["openpgp"]["signature"] == "valid");
    assert!(signed, "the report was not read as signed: {:?}", d.events);
    let key_id = &rita.fpr[rita.fpr.len() - 16..];
    // Short words could turn up in a signature's base64 by chance: those
    // checked here have a space or a character base64 lacks.
    let secrets = [
        "Rita Reporter",
        RITA,
        "researcher.example",
        "the image resizer",
        "crafted SVG",
        "www-data",
        "avatar",
        "rita-key.asc",
        &rita.fpr,
        &grouped(&rita.fpr),
        key_id,
        "5.1.1",
    ];
    let mut seen = 0;
    for kind in ["notification", "delivery-problem"] {
        let mails = mails_to(env, &d, kind, BOB);
        let want = if kind == "notification" { 2 } else { 1 };
        assert_eq!(mails.len(), want, "{kind} to Bob: {:?}", d.outbox);
        for raw in &mails {
            crate::common::assert_metadata_only(raw, &y("SEC-2026-0001"), &secrets);
            let text = body_text(raw);
            assert!(text.contains("State:"), "{text}");
            seen += 1;
        }
        // Alice, who has a key, gets the whole story.
        let full = mails_to(env, &d, kind, "alice@example.org");
        let read = s.alice.read(&full[0], &s.team.fpr);
        assert!(read.contains(RITA), "{kind}: {read}");
    }
    assert_eq!(seen, 3);
    // Every mail Bob got is one of those.
    assert_eq!(env.sent_to(BOB).len(), seen, "other mail reached Bob");
    let subjects: Vec<String> = env
        .sent_to(BOB)
        .iter()
        .filter_map(|raw| parse_subject(raw))
        .collect();
    assert!(
        subjects
            .iter()
            .all(|s| s.starts_with(&y("[SEC-2026-0001]"))),
        "{subjects:?}"
    );
}

/// Over the real mail stack: an acknowledgement to an address Dovecot does not
/// have makes Postfix bounce it, to the acknowledgement's own return path; the
/// daemon attaches that bounce to the right report and the team's notice holds
/// the delivery-status fields only.
#[test]
fn a_real_postfix_bounce_reaches_the_right_report_with_status_fields_only() {
    const WAIT: Duration = Duration::from_secs(30);
    let stack = MailStack::start();
    let security = unique("security");
    let team = Person::new("Example Security", &security);
    let alice = Person::new("Alice", &unique("alice"));
    alice.gpg.import(&team.public());
    let bob = unique("bob");
    let researcher = unique("researcher");
    // Every local part is a user, except one Dovecot refuses ('=' is not a
    // user-name character there): its mail is accepted, then bounced.
    let ghost = format!("ghost={}", unique("r"));
    let env = Env::with_sections(&security, "", "");
    write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
    std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
    env.write_config(&stack.keyed_config(
        &security,
        &format!(
            r#"
[sla]
digest = "off"

[[team.members]]
name = "Alice"
email = "{alice}"
key = "alice.asc"

[[team.members]]
name = "Bob"
email = "{bob}"
"#,
            alice = alice.address,
        ),
    ));
    env.init();
    stack.append(
        &security,
        &plain(
            &researcher,
            &security,
            "First report",
            "live1@r.test",
            "",
            "One.\r\n",
        ),
    );
    stack.append(
        &security,
        &plain(
            &ghost,
            &security,
            "Second report",
            "live2@r.test",
            "",
            "Two.\r\n",
        ),
    );
    env.run_once();
    // The two reports, and Postfix's bounce of the second acknowledgement.
    stack.wait_for(&security, "INBOX", 3, WAIT);
    env.run_once();

    let ghosts = env.report(2);
    assert_eq!(ghosts.participants[0].address, ghost);
    let ack = sent_row(&ghosts, "acknowledgement", &ghost);
    let last = ghosts.messages.last().expect("messages");
    assert_eq!(
        (last.kind.as_str(), last.threaded_by.as_str()),
        ("bounce", "return-path")
    );
    let event = ghosts
        .events
        .iter()
        .find(|e| e.kind == "delivery-problem")
        .expect("a delivery-problem event");
    assert_eq!(event.detail["returned"], ack.message_id.as_str());
    assert_eq!(event.detail["status"][0]["status"], "5.1.1");
    assert!(
        env.report(1)
            .events
            .iter()
            .all(|e| e.kind != "delivery-problem"),
        "the other report got it"
    );
    assert!(unattached(&env).is_empty(), "{:?}", unattached(&env));

    // Alice: two notifications and the delivery problem, all encrypted.
    let alices = stack.wait_for(&alice.address, "INBOX", 3, WAIT);
    let texts: Vec<String> = alices
        .iter()
        .map(|m| alice.read(&m.raw, &team.fpr))
        .collect();
    let notice = texts
        .iter()
        .find(|t| t.contains("Delivery problem"))
        .unwrap_or_else(|| panic!("no delivery problem among {texts:?}"));
    for needle in [
        format!("Final-Recipient: rfc822; {ghost}"),
        "Action: failed".to_owned(),
        "Status: 5.1.1".to_owned(),
        "Diagnostic-Code: smtp; 550 5.1.1".to_owned(),
        ack.message_id.clone(),
    ] {
        assert!(notice.contains(&needle), "{needle} missing in:\n{notice}");
    }
    // Postfix's own words stay in the stored bounce.
    for free_text in ["I'm sorry", "The mail system", "postmaster"] {
        assert!(!notice.contains(free_text), "{free_text} quoted:\n{notice}");
    }
    // Bob, without a key: the report's metadata only.
    let bobs = stack.wait_for(&bob, "INBOX", 3, WAIT);
    let problem = bobs
        .iter()
        .find(|m| parse_subject(&m.raw).is_some_and(|s| s.contains("Delivery problem")))
        .expect("Bob's delivery-problem notice");
    crate::common::assert_metadata_only(
        &problem.raw,
        &format!("SEC-{}-0002", crate::common::year()),
        &[&ghost, "Second report", "5.1.1", "Two."],
    );
}
