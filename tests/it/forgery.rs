//! An attacker's mail against the team's authority: whatever surrounds a
//! member's genuine signature, only what it covers may command, name the report,
//! choose the reporter as the recipient, or be relayed; and a protected `From`
//! never borrows the outer sender's DKIM pass.

use disclosed::report::ReportState;
use disclosed::store::ReportDetail;

use crate::common::{outbox, y};
use crate::pgp::{mail_with, multipart_signed, pgp_mime, text_entity};
use crate::team_auth::{RITA, Setup, plain, refusals, reply_address, report, setup};

fn internal_address() -> String {
    y("security+SEC-2026-0001-internal@example.org")
}

fn kinds(d: &ReportDetail) -> Vec<&str> {
    d.events.iter().map(|e| e.kind.as_str()).collect()
}

/// Alice's cleartext-signed block of `text`, as a string.
fn clearsigned(s: &Setup, text: &str) -> String {
    String::from_utf8(s.alice.gpg.clearsign(text.as_bytes(), &s.alice.fpr)).expect("armor")
}

/// A mail from Alice's address, `body` as its plain text.
fn from_alice(to: &str, id: &str, body: &str) -> Vec<u8> {
    from_alice_with(to, id, "", body)
}

/// Like [`from_alice`], with `extra` header lines (e.g. what the MX adds) first.
fn from_alice_with(to: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    plain(
        "Alice <alice@example.org>",
        to,
        &y("Re: [SEC-2026-0001] Open redirect"),
        id,
        extra,
        body,
    )
}

/// A `multipart/signed` mail by Alice over `signed`, with `extra` as an
/// unsigned third part after the signature.
fn signed_plus_unsigned_part(s: &Setup, to: &str, id: &str, signed: &str, extra: &str) -> Vec<u8> {
    signed_plus_unsigned(s, to, id, signed, "text/plain", extra)
}

/// Like [`signed_plus_unsigned_part`], the third part of type `extra_type`.
fn signed_plus_unsigned(
    s: &Setup,
    to: &str,
    id: &str,
    signed: &str,
    extra_type: &str,
    extra: &str,
) -> Vec<u8> {
    let part1 = text_entity(signed, &[]);
    let signature = s.alice.gpg.sign_detached(&part1, &s.alice.fpr);
    let entity = String::from_utf8(multipart_signed(&part1, &signature)).expect("ascii");
    let b = "------------sigQ1W2E3R4T5";
    let entity = entity.replace(
        &format!("\r\n--{b}--\r\n"),
        &format!(
            "\r\n--{b}\r\nContent-Type: {extra_type}; charset=utf-8\r\n\r\n{extra}\r\n--{b}--\r\n"
        ),
    );
    mail_with(
        &format!(
            "From: Alice <alice@example.org>\r\nTo: {to}\r\nSubject: {}\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n",
            y("Re: [SEC-2026-0001] Open redirect")
        ),
        entity.as_bytes(),
    )
}

#[test]
fn unsigned_commands_around_a_members_unrelated_signed_block_change_nothing() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let lunch = clearsigned(&s, "Lunch at noon?\n");
    let forged = format!(
        "#state rejected\r\n#credit none\r\n#cve CVE-2026-12345\r\n\r\n{}\r\n\
         You are wrong, go away.\r\n\r\n{lunch}",
        y("SEC-2026-0001")
    );
    env.deliver(&from_alice(&reply_address(), "f1@evil.example", &forged));
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["not-bound"], "{:?}", kinds(&d));
    assert_eq!(d.summary.state, ReportState::New);
    let team = d.team.as_ref().expect("team facts");
    assert_eq!(team.cve, None);
    assert!(
        outbox(&d, "relay").is_empty(),
        "nothing reached the reporter"
    );
    assert!(!kinds(&d).contains(&"team-mail-authenticated"));
}

#[test]
fn unsigned_text_beside_a_members_bound_signed_block_is_neither_obeyed_nor_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    // Alice once signed a harmless note about this very report; the attacker
    // puts commands, a #reply and his own words around it.
    let note = clearsigned(&s, &y("SEC-2026-0001: I will look at it tomorrow.\n"));
    let forged = format!(
        "#reply\r\n#state rejected\r\n\r\nThis is not a bug. Send us money.\r\n\r\n{note}\r\n\
         PS: our internal tracker is at https://evil.example/\r\n"
    );
    env.deliver(&from_alice(&reply_address(), "f2@evil.example", &forged));
    env.run_once();
    let d = env.report(1);
    let kinds = kinds(&d);
    assert!(kinds.contains(&"team-mail-authenticated"), "{kinds:?}");
    assert!(kinds.contains(&"unsigned-content-ignored"), "{kinds:?}");
    assert_eq!(d.summary.state, ReportState::New, "no command applied");
    assert!(
        outbox(&d, "relay").is_empty(),
        "the signed note has no #reply: it stays inside the team"
    );
    assert!(kinds.contains(&"relay-route-unproven"), "{kinds:?}");
    // The team sees only the signed words.
    let note_event = d
        .events
        .iter()
        .find(|e| e.kind == "internal-note")
        .expect("an internal note");
    let chars = note_event.detail["chars"].as_u64().expect("chars");
    assert!(
        chars < 60,
        "only the signed sentence passed on: {chars} chars"
    );
}

#[test]
fn a_signed_part_that_does_not_name_the_report_is_not_bound_by_an_unsigned_part_that_does() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    // The subject tag is outer and unsigned; the signed part says nothing of
    // the report; the unsigned third part names it and carries commands.
    let mail = signed_plus_unsigned_part(
        &s,
        &reply_address(),
        "f3@evil.example",
        "#state rejected\n\nNot a bug.\n",
        &y("#state rejected\r\nSEC-2026-0001 security+SEC-2026-0001@example.org"),
    );
    env.deliver(&mail);
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["not-bound"], "{:?}", kinds(&d));
    assert_eq!(d.summary.state, ReportState::New);
    assert!(outbox(&d, "relay").is_empty());
}

#[test]
fn an_unsigned_part_beside_a_valid_multipart_signed_is_never_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let mail = signed_plus_unsigned_part(
        &s,
        &reply_address(),
        "f4@example.org",
        &y("#reply\n#severity high\n\nThanks, we confirmed SEC-2026-0001.\n"),
        "#state rejected\r\n\r\nAttacker text: the other reporter is bob@victim.example.",
    );
    env.deliver(&mail);
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("team facts");
    assert_eq!(
        team.severity.map(|s| s.as_str()),
        Some("high"),
        "{:?}",
        kinds(&d)
    );
    assert_eq!(d.summary.state, ReportState::Acknowledged, "not rejected");
    assert_eq!(outbox(&d, "relay").len(), 1, "the signed words went out");
    assert!(kinds(&d).contains(&"unsigned-content-ignored"));
    let relayed = d
        .events
        .iter()
        .find(|e| e.kind == "relay-stripped")
        .expect("relay");
    assert_eq!(relayed.detail["command_lines"], 1, "{relayed:?}");
    // Rita wrote in clear and has no key: the relay goes out signed, readable.
    let relay = env.sent_of(&d, "relay");
    assert_eq!(relay.len(), 1);
    let text = String::from_utf8_lossy(&relay[0]);
    assert!(text.contains("we confirmed"), "{text}");
    for absent in ["bob@victim.example", "Attacker text", "#state"] {
        assert!(!text.contains(absent), "{absent:?} was relayed: {text}");
    }
}

#[test]
fn an_unsigned_html_part_beside_a_signed_answer_is_never_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let mail = signed_plus_unsigned(
        &s,
        &reply_address(),
        "f5@example.org",
        &y("#reply\n\nThanks, we confirmed SEC-2026-0001.\n"),
        "text/html",
        "<p>Internal: the other reporter is bob@victim.example</p>",
    );
    env.deliver(&mail);
    env.run_once();
    let d = env.report(1);
    let relay = env.sent_of(&d, "relay");
    assert_eq!(relay.len(), 1, "{:?}", kinds(&d));
    let text = String::from_utf8_lossy(&relay[0]);
    assert!(text.contains("we confirmed"), "{text}");
    assert!(!text.contains("bob@victim.example"), "{text}");
}

#[test]
fn a_whole_signed_answer_with_reply_is_obeyed_and_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let answer = clearsigned(
        &s,
        &y("#reply\n#severity high\n\nThanks, we confirmed SEC-2026-0001.\n"),
    );
    env.deliver(&from_alice(&reply_address(), "h1@example.org", &answer));
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("team facts");
    assert_eq!(
        team.severity.map(|s| s.as_str()),
        Some("high"),
        "{:?}",
        kinds(&d)
    );
    assert_eq!(outbox(&d, "relay").len(), 1);
    assert!(!kinds(&d).contains(&"unsigned-content-ignored"));
}

#[test]
fn a_protected_from_never_borrows_the_outer_senders_dkim_pass() {
    let s = setup(
        "command_auth = [\"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"",
        "",
    );
    let env = &s.env;
    report(env, "Open redirect");
    // Mallory has a mailbox at the team's domain: her own DKIM pass is genuine.
    // Inside the encryption she claims to be Alice.
    let inner = crate::pgp::inner_entity(
        &y("Re: [SEC-2026-0001] Open redirect"),
        "Alice <alice@example.org>",
        &y("#reply\n#state rejected\n\nSEC-2026-0001 is not a bug.\n"),
        &[],
    );
    let armored = s.team.gpg.encrypt(&inner, &[&s.team.fpr], None);
    let mail = pgp_mime(
        &format!(
            "Authentication-Results: mx.example.org;\r\n dkim=pass header.d=example.org header.s=s1\r\n\
             From: Mallory <mallory@example.org>\r\nTo: {}\r\nSubject: ...\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n",
            reply_address()
        ),
        &armored,
    );
    env.deliver(&mail);
    env.run_once();
    let d = env.report(1);
    assert_eq!(d.summary.state, ReportState::New, "{:?}", kinds(&d));
    assert!(!kinds(&d).contains(&"team-mail-authenticated"));
    assert!(outbox(&d, "relay").is_empty());
    let messages = env.messages();
    let message = messages
        .iter()
        .find(|m| m.message_id.as_deref() == Some("m1@example.org"))
        .expect("stored");
    assert_eq!(message.from.as_deref(), Some("mallory@example.org"));
    assert!(
        message
            .problems
            .iter()
            .any(|p| p.starts_with("protected-from-mismatch")),
        "{:?}",
        message.problems
    );
}

#[test]
fn a_signed_internal_note_readdressed_to_the_reply_address_stays_inside_the_team() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let note = s.alice.readdressed_mail(
        &reply_address(),
        &internal_address(),
        &y("Re: [SEC-2026-0001] Open redirect"),
        "Between us: this is a duplicate of the report by bob@victim.example.\n",
        &s.team,
        "n1",
    );
    env.deliver(&note);
    env.run_once();
    let d = env.report(1);
    let kinds = kinds(&d);
    assert!(kinds.contains(&"team-mail-authenticated"), "{kinds:?}");
    assert!(outbox(&d, "relay").is_empty(), "nothing to the reporter");
    assert!(kinds.contains(&"relay-route-unproven"), "{kinds:?}");
    assert!(kinds.contains(&"internal-note"), "the team still has it");
    assert_eq!(
        outbox(&d, "route-unproven").len(),
        1,
        "Alice is told how to relay"
    );
    // No mail of any kind went to the reporter besides the acknowledgement.
    let to_rita: Vec<&str> = d
        .outbox
        .iter()
        .filter(|o| o.recipients.iter().any(|r| r == RITA))
        .map(|o| o.kind.as_str())
        .collect();
    assert_eq!(to_rita, ["acknowledgement"]);
}

#[test]
fn an_inline_signed_answer_without_reply_is_not_relayed_and_with_it_is() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect");
    let without = clearsigned(&s, &y("Thanks, SEC-2026-0001 is confirmed.\n"));
    env.deliver(&from_alice(&reply_address(), "i1@example.org", &without));
    env.run_once();
    let d = env.report(1);
    assert!(outbox(&d, "relay").is_empty(), "{:?}", kinds(&d));
    assert_eq!(outbox(&d, "route-unproven").len(), 1);

    let with = clearsigned(&s, &y("#reply\n\nThanks, SEC-2026-0001 is confirmed.\n"));
    env.deliver(&from_alice(&reply_address(), "i2@example.org", &with));
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "relay").len(), 1, "{:?}", kinds(&d));
}

/// A trusted DKIM pass for example.org over a signature listing `h`, with
/// extra tags (e.g. `l=`).
fn dkim(h: &str, tags: &str) -> String {
    format!(
        "Authentication-Results: mx.example.org;\r\n dkim=pass header.d=example.org header.s=s1\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1;{tags}\r\n h={h}; bh=AAAA; b=BBBB\r\n"
    )
}

fn dkim_setup() -> Setup {
    setup(
        "command_auth = [\"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"",
        "",
    )
}

#[test]
fn a_dkim_mail_whose_to_is_unsigned_stays_inside_the_team_unless_the_body_says_reply() {
    let s = dkim_setup();
    let env = &s.env;
    report(env, "Open redirect");
    let unsigned_to = dkim("from:subject:date", "");
    env.deliver(&from_alice_with(
        &reply_address(),
        "k1@example.org",
        &unsigned_to,
        "#severity high\r\n\r\nBetween us: it is a duplicate.\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("team facts");
    assert_eq!(
        team.severity.map(|s| s.as_str()),
        Some("high"),
        "commands still apply"
    );
    assert!(outbox(&d, "relay").is_empty(), "{:?}", kinds(&d));
    assert!(kinds(&d).contains(&"relay-route-unproven"));

    // The body is signed: a #reply line there is the member's own choice.
    env.deliver(&from_alice_with(
        &reply_address(),
        "k2@example.org",
        &unsigned_to,
        "#reply\r\n\r\nThanks, we are on it.\r\n",
    ));
    env.run_once();
    assert_eq!(outbox(&env.report(1), "relay").len(), 1);
}

#[test]
fn a_dkim_mail_with_a_signed_to_reaches_the_reporter() {
    let s = dkim_setup();
    let env = &s.env;
    report(env, "Open redirect");
    env.deliver(&from_alice_with(
        &reply_address(),
        "k3@example.org",
        &dkim("from:to:subject", ""),
        "Thanks, we are on it.\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "relay").len(), 1, "{:?}", kinds(&d));
}

#[test]
fn a_second_to_header_beside_a_signed_one_does_not_choose_the_reporter() {
    let s = dkim_setup();
    let env = &s.env;
    report(env, "Open redirect");
    // Alice's note went to the internal address, signed; someone on the way
    // adds a To: with the reply address above it.
    let extra = format!("{}To: {}\r\n", dkim("from:to:subject", ""), reply_address());
    env.deliver(&from_alice_with(
        &internal_address(),
        "k4@example.org",
        &extra,
        "Between us: it is a duplicate.\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    assert!(outbox(&d, "relay").is_empty(), "{:?}", kinds(&d));
}

#[test]
fn a_dkim_body_length_limit_makes_the_mail_count_for_nothing() {
    let s = dkim_setup();
    let env = &s.env;
    report(env, "Open redirect");
    // `l=` signs only the first bytes; anyone may append commands after them.
    env.deliver(&from_alice_with(
        &reply_address(),
        "k5@example.org",
        &dkim("from:to:subject", " l=10;"),
        "Thanks.\r\n#state rejected\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["dkim-incomplete"], "{:?}", kinds(&d));
    assert_eq!(d.summary.state, ReportState::New);
    assert!(outbox(&d, "relay").is_empty());
}
