//! Nothing internal reaches a reporter, whatever form a member's answer takes:
//! through the whole pipeline with signed, encrypted team mail and the file
//! transport. Lines of mail the team was sent (notifications, answers to
//! commands, other members' notes) hold a relay back and the member is told;
//! quoting the reporter back, or one's own words, does not. HTML answers are
//! stripped from their HTML.

use disclosed::report::ReportState;
use disclosed::store::ReportDetail;

use crate::common::{Env, body_text, keyed_file_config, outbox, y};
use crate::pgp::{crlf, pgp_mime, write_secret};
use crate::team::Person;

const SECURITY: &str = "security@example.org";
const RITA: &str = "rita@researcher.example";
const SAM: &str = "sam@example.net";

/// What report 1 (Rita's) says; none of it may reach Sam.
const RITAS_TEXT: &str = "The q parameter of /search is concatenated into the SQL query unescaped.";
const SAMS_TEXT: &str = "The display name is rendered without escaping on the profile page.";

struct Setup {
    env: Env,
    team: Person,
    alice: Person,
    bob: Person,
}

/// An installation with a team key and Alice and Bob, each with their own
/// key, and two reports: Rita's SQL injection (report 1) and Sam's XSS
/// (report 2), both acknowledged and notified to the team.
fn setup() -> Setup {
    let team = Person::new("Example Security", SECURITY);
    let alice = Person::new("Alice Liddell", "alice@example.org");
    let bob = Person::new("Bob Builder", "bob@example.org");
    for member in [&alice, &bob] {
        member.gpg.import(&team.public());
    }
    let env = Env::with_file_transport("");
    write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
    std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
    std::fs::write(env.path("bob.asc"), bob.public()).expect("bob's key");
    env.write_config(&keyed_file_config(
        r#"
[sla]
digest = "off"

[[team.members]]
name = "Alice Liddell"
email = "alice@example.org"
key = "alice.asc"

[[team.members]]
name = "Bob Builder"
email = "bob@example.org"
key = "bob.asc"
"#,
    ));
    env.init();
    env.deliver(&plain(
        RITA,
        SECURITY,
        "SQL injection in /search",
        "r1@researcher.example",
        &format!("{RITAS_TEXT}\r\nPoC: /search?q=1' OR '1'='1\r\n"),
    ));
    env.deliver(&plain(
        SAM,
        SECURITY,
        "XSS in the profile page",
        "s1@example.net",
        &format!(
            "{SAMS_TEXT}\r\nA name like <script>alert(1)</script> runs for every visitor.\r\n"
        ),
    ));
    env.run_once();
    Setup {
        env,
        team,
        alice,
        bob,
    }
}

fn plain(from: &str, to: &str, subject: &str, id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

fn reply_address(seq: u32) -> String {
    y(&format!("security+SEC-2026-{seq:04}@example.org"))
}

fn internal_address(seq: u32) -> String {
    y(&format!("security+SEC-2026-{seq:04}-internal@example.org"))
}

/// `who` writes `text` (signed and encrypted, the whole body) about report
/// `seq` to `to`.
fn send(s: &Setup, who: &Person, to: &str, seq: u32, text: &str, id: &str) {
    let subject = y(&format!("Re: [SEC-2026-{seq:04}] answer"));
    s.env
        .deliver(&who.signed_mail(to, &subject, text, &s.team, id));
    s.env.run_once();
}

/// Like [`send`] with an HTML-only body.
fn send_html(s: &Setup, who: &Person, to: &str, seq: u32, html: &str, id: &str) {
    let subject = y(&format!("Re: [SEC-2026-{seq:04}] answer"));
    let inner = crlf(
        format!(
            "Content-Type: text/html; charset=utf-8; protected-headers=\"v1\"\r\n\
             Content-Transfer-Encoding: 8bit\r\nTo: {to}\r\nSubject: {subject}\r\nFrom: {}\r\n\r\n{html}\r\n",
            who.address
        )
        .as_bytes(),
    );
    let armored = who
        .gpg
        .encrypt(&inner, &[&s.team.fpr, &who.fpr], Some(&who.fpr));
    let mail = pgp_mime(
        &format!(
            "From: {}\r\nTo: {to}\r\nSubject: ...\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             Message-ID: <{id}@example.test>\r\n",
            who.address
        ),
        &armored,
    );
    s.env.deliver(&mail);
    s.env.run_once();
}

/// The decrypted text of every mail `who` was sent whose text contains `needle`.
fn read_mail_to(s: &Setup, who: &Person, needle: &str) -> Vec<String> {
    s.env
        .sent_to(&who.address)
        .iter()
        .map(|raw| who.read(raw, &s.team.fpr))
        .filter(|text| text.contains(needle))
        .collect()
}

/// The relayed text of `report`'s relays, as the reporter reads them.
fn relayed(s: &Setup, report: &ReportDetail) -> Vec<String> {
    s.env
        .sent_of(report, "relay")
        .iter()
        .map(|raw| body_text(raw).replace("\r\n", "\n"))
        .collect()
}

fn events<'a>(report: &'a ReportDetail, kind: &str) -> Vec<&'a serde_json::Value> {
    report
        .events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| &e.detail)
        .collect()
}

#[test]
fn a_relay_carrying_another_reports_notification_lines_never_reaches_the_reporter() {
    let s = setup();
    let notification = read_mail_to(&s, &s.alice, RITAS_TEXT);
    assert_eq!(notification.len(), 1, "Alice's notification of report 1");
    let reporter_line = notification[0]
        .lines()
        .find(|l| l.contains("Reporter:"))
        .expect("the notification names the reporter");
    let text_line = notification[0]
        .lines()
        .find(|l| l.contains("concatenated"))
        .expect("the notification has the report's text");
    // Pasted unquoted into the answer to Sam, reformatted: other spacing and
    // case, as list items.
    let reformatted = reporter_line
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    let answer = format!(
        "Hi Sam,\n\nthanks, we are looking into it. It may be related to this:\n\n\
         * {reformatted}\n* {}\n\nAlice\n",
        text_line.trim().to_lowercase()
    );
    send(&s, &s.alice, &reply_address(2), 2, &answer, "leak1");

    let d = s.env.report(2);
    assert!(outbox(&d, "relay").is_empty(), "relayed: {:?}", d.outbox);
    assert!(outbox(&d, "relay-copy").is_empty(), "{:?}", d.outbox);
    let to_sam: Vec<String> = s
        .env
        .sent_to(SAM)
        .iter()
        .map(|raw| body_text(raw))
        .collect();
    assert_eq!(to_sam.len(), 1, "only the acknowledgement: {to_sam:?}");
    assert!(!to_sam[0].contains(RITA));
    assert_eq!(d.summary.state, ReportState::New, "nobody answered Sam");
    let refused = events(&d, "relay-refused");
    assert_eq!(refused.len(), 1, "{:?}", d.events);
    assert_eq!(refused[0]["internal_lines"], 2);
    assert_eq!(refused[0]["about_other_reports"], 2);
    let detail = refused[0].to_string();
    assert!(
        !detail.contains("rita") && !detail.contains("concatenated"),
        "the event log holds no text: {detail}"
    );

    // Alice is told which lines, and how to send it again.
    let notice = read_mail_to(&s, &s.alice, "NOT relayed");
    assert_eq!(notice.len(), 1);
    assert!(notice[0].contains(&reformatted), "{}", notice[0]);
    assert!(notice[0].contains(&reply_address(2)), "{}", notice[0]);
    assert!(
        !notice[0].contains("thanks, we are looking into it"),
        "{}",
        notice[0]
    );
    assert_eq!(outbox(&d, "relay-refused").len(), 1);
    assert_eq!(
        outbox(&d, "relay-refused")[0].recipients,
        ["alice@example.org"]
    );

    // Her answer without the pasted lines goes through.
    send(
        &s,
        &s.alice,
        &reply_address(2),
        2,
        "Hi Sam,\n\nthanks, we are looking into it.\n",
        "leak2",
    );
    let d = s.env.report(2);
    let relays = relayed(&s, &d);
    assert_eq!(relays.len(), 1, "{:?}", d.outbox);
    assert!(
        relays[0].contains("we are looking into it"),
        "{}",
        relays[0]
    );
    assert!(!relays[0].contains(RITA));
}

#[test]
fn an_honest_answer_quoting_the_reporter_is_relayed_and_the_members_own_words_may_be_repeated() {
    let s = setup();
    let answer = format!(
        "Hi Sam,\n\nyou wrote:\n\n  {}\n\nWe confirm it and will ship the fix with release 4.2 next week.\n\n\
         > A name like <script>alert(1)</script> runs for every visitor.\n\nAlice Liddell\n",
        SAMS_TEXT.to_uppercase()
    );
    send(&s, &s.alice, &reply_address(2), 2, &answer, "honest1");
    let d = s.env.report(2);
    assert!(events(&d, "relay-refused").is_empty(), "{:?}", d.events);
    let relays = relayed(&s, &d);
    assert_eq!(relays.len(), 1, "{:?}", d.outbox);
    assert!(
        relays[0].contains(&SAMS_TEXT.to_uppercase()),
        "{}",
        relays[0]
    );
    assert!(relays[0].contains("release 4.2"), "{}", relays[0]);
    assert!(
        !relays[0].contains("Liddell"),
        "the member's name: {}",
        relays[0]
    );
    assert_eq!(d.summary.state, ReportState::Acknowledged);

    // Bob's copy of the relay is team mail now; Alice may still use her own
    // sentence for Rita.
    send(
        &s,
        &s.alice,
        &reply_address(1),
        1,
        "Hi Rita,\n\nWe confirm it and will ship the fix with release 4.2 next week.\n",
        "honest2",
    );
    let d1 = s.env.report(1);
    assert!(events(&d1, "relay-refused").is_empty(), "{:?}", d1.events);
    assert_eq!(relayed(&s, &d1).len(), 1, "{:?}", d1.outbox);
}

#[test]
fn another_members_note_is_refused_and_a_members_own_draft_is_relayed() {
    let s = setup();
    send(
        &s,
        &s.alice,
        &internal_address(2),
        2,
        "Draft for Sam: the fix for the profile page ships with release 4.2 on Tuesday.\n",
        "draft1",
    );
    send(
        &s,
        &s.bob,
        &internal_address(2),
        2,
        "Between us: the same bug is in the admin console and stays there until 2027.\n",
        "note1",
    );
    assert_eq!(outbox(&s.env.report(2), "internal-note").len(), 2);

    // Bob's note, pasted by Alice.
    send(
        &s,
        &s.alice,
        &reply_address(2),
        2,
        "Hi Sam,\n\nthe same bug is in the admin console and stays there until 2027.\n",
        "paste1",
    );
    let d = s.env.report(2);
    assert!(outbox(&d, "relay").is_empty(), "{:?}", d.outbox);
    let refused = events(&d, "relay-refused");
    assert_eq!(refused.len(), 1, "{:?}", d.events);
    assert_eq!(refused[0]["internal_lines"], 1);
    assert_eq!(refused[0]["about_other_reports"], 0);

    // Her own draft.
    send(
        &s,
        &s.alice,
        &reply_address(2),
        2,
        "Hi Sam,\n\nthe fix for the profile page ships with release 4.2 on Tuesday.\n",
        "draft2",
    );
    let d = s.env.report(2);
    let relays = relayed(&s, &d);
    assert_eq!(relays.len(), 1, "{:?}", d.events);
    assert!(
        relays[0].contains("release 4.2 on Tuesday"),
        "{}",
        relays[0]
    );

    // Bob may not send Alice's draft: it reached him as her note.
    send(
        &s,
        &s.bob,
        &reply_address(2),
        2,
        "Hello Sam,\n\nthe fix for the profile page ships with release 4.2 on Tuesday.\n",
        "draft3",
    );
    assert_eq!(events(&s.env.report(2), "relay-refused").len(), 2);
}

#[test]
fn an_html_answer_quoting_a_control_answer_relays_only_the_members_words() {
    let s = setup();
    let control = "security+control@example.org";
    s.env.deliver(
        &s.alice
            .signed_mail(control, "list", "#list\n", &s.team, "list1"),
    );
    s.env.run_once();
    let listed = read_mail_to(&s, &s.alice, "Open reports");
    assert_eq!(listed.len(), 1);
    let rita_line = listed[0]
        .lines()
        .find(|l| l.contains(RITA))
        .expect("the list names Rita's report")
        .trim()
        .to_owned();

    // Gmail's HTML reply: the control answer in a blockquote.
    let html = format!(
        r#"<div dir="ltr">Hi Sam,<div><br></div><div>we will fix it this week.</div><div><br></div><div>Alice</div></div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, Nov 23, 2026 at 10:00&#8239;AM Example disclosed &lt;<a href="mailto:security+control@example.org">security+control@example.org</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Open reports: 2<br><br>{rita_line}<br></blockquote></div>"#
    );
    send_html(&s, &s.alice, &reply_address(2), 2, &html, "html1");
    let d = s.env.report(2);
    let relays = relayed(&s, &d);
    assert_eq!(relays.len(), 1, "{:?}", d.events);
    assert_eq!(relays[0].trim_end(), "Hi Sam,\n\nwe will fix it this week.");
    for secret in [RITA, "SQL injection", "security+control", "Alice"] {
        assert!(
            !relays[0].contains(secret),
            "{secret:?} relayed: {}",
            relays[0]
        );
    }

    // The same line pasted into the HTML without quote markup: held back.
    let html = format!("<div>Hi Sam, see also:</div><div>{rita_line}</div>");
    send_html(&s, &s.alice, &reply_address(2), 2, &html, "html2");
    let d = s.env.report(2);
    assert_eq!(relayed(&s, &d).len(), 1, "{:?}", d.events);
    assert_eq!(events(&d, "relay-refused").len(), 1, "{:?}", d.events);
}
