//! Search: `disclosed search` over the local store (decrypted text included),
//! `#search` on the control address, and what of it a member without a key,
//! a reporter or a crafted query can get.

use crate::common::{Env, body_text, y};
use crate::pgp::{Part, headers, inner_entity, pgp_mime};
use crate::team::Person;
use crate::team_auth::{DKIM_PASS, RITA, SECURITY, Setup, plain, setup};

const CONTROL: &str = "security+control@example.org";
const SAM: &str = "sam@example.net";
const BOB: &str = "bob@example.org";

/// What only Rita's encrypted report says.
const SECRET: &str = "crafted SVG runs code in the imagemagick resizer";

/// Alice (with a key) and Bob (without, commands by DKIM), an encrypted
/// report from Rita (report 1) and a plain one from Sam (report 2), both
/// about the resizer.
fn two_reports() -> Setup {
    let s = setup(
        "command_auth = [\"openpgp\", \"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"",
        "[sla]\ndigest = \"off\"",
    );
    let rita = Person::new("Rita Reporter", RITA);
    rita.gpg.import(&s.team.public());
    let from = format!("Rita Reporter <{RITA}>");
    let key = rita.public();
    let inner = inner_entity(
        "Resizer RCE",
        &from,
        &format!("Uploading a {SECRET}."),
        &[Part {
            name: "rita-key.asc",
            content_type: "application/pgp-keys",
            data: &key,
        }],
    );
    let armored = rita
        .gpg
        .encrypt(&inner, &[&s.team.fpr, &rita.fpr], Some(&rita.fpr));
    s.env.deliver(&pgp_mime(
        &headers(&from, "...", "e1@researcher.example", ""),
        &armored,
    ));
    s.env.deliver(&plain(
        SAM,
        SECURITY,
        "Resizer crash",
        "s1@example.net",
        "",
        "The resizer crashes on a zero-width PNG.\r\n",
    ));
    s.env.run_once();
    s
}

fn search(env: &Env, args: &[&str]) -> std::process::Output {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    env.cmd(&all)
}

#[test]
fn the_local_search_finds_decrypted_text_ranked_with_a_snippet() {
    let s = two_reports();
    let out = s.env.ok(&["search", "imagemagick"]);
    assert!(out.contains(&y("SEC-2026-0001")), "{out}");
    assert!(!out.contains(&y("SEC-2026-0002")), "{out}");
    assert!(out.contains("[imagemagick]"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&s.env.ok(&["search", "resizer", "--json"])).expect("json");
    assert_eq!(json["more"], false, "{json}");
    let ids: Vec<&str> = json["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2, "{json}");
    let out = s
        .env
        .ok(&["search", "resizer", "--state", "new", "--limit", "1"]);
    assert!(out.contains("1 of 2") || out.lines().count() >= 2, "{out}");
    assert!(
        s.env
            .ok(&["search", "nothing-like-this"])
            .contains("no reports match")
    );
}

#[test]
fn a_query_that_cannot_be_searched_is_a_usage_error_and_syntax_is_only_words() {
    let s = two_reports();
    for bad in ["\"unclosed", "( * )"] {
        let out = search(&s.env, &[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot search"), "{bad}: {err}");
    }
    let long = "a".repeat(300);
    assert_eq!(search(&s.env, &[&long]).status.code(), Some(2));
    assert_eq!(
        search(&s.env, &["x", "--limit", "0"]).status.code(),
        Some(2)
    );
    // FTS5 syntax is searched for as words: it neither fails nor widens the search.
    for injected in [
        r#""x" OR subject:*"#,
        "NEAR(",
        "NEAR(resizer crash)",
        "{body}:resizer",
    ] {
        let out = search(&s.env, &[injected]);
        assert_eq!(out.status.code(), Some(0), "{injected}: {out:?}");
    }
    let out = s.env.ok(&["search", r#""x" OR subject:*"#]);
    assert!(out.contains("no reports match"), "{out}");
}

/// Bob's mail to the control address, DKIM-signed by example.org.
fn bob_asks(env: &Env, text: &str, id: &str) {
    env.deliver(&plain(
        &format!("Bob <{BOB}>"),
        CONTROL,
        "search",
        id,
        DKIM_PASS,
        text,
    ));
    env.run_once();
}

#[test]
fn a_keyless_members_search_reply_holds_no_text_of_an_encrypted_report() {
    let s = two_reports();
    bob_asks(&s.env, "#search resizer\r\n", "b1@example.org");
    let replies = s.env.sent_to(BOB);
    let reply = replies
        .iter()
        .map(|raw| (String::from_utf8_lossy(raw).into_owned(), body_text(raw)))
        .find(|(_, text)| text.contains("Reports found"))
        .unwrap_or_else(|| panic!("no search answer to Bob: {} mails", replies.len()));
    let (whole, text) = reply;
    // Sam's plain report by id and state; Rita's encrypted one not at all.
    assert!(
        text.contains(&format!("{}  new", y("SEC-2026-0002"))),
        "{text}"
    );
    assert!(!text.contains(&y("SEC-2026-0001")), "{text}");
    for secret in [
        "imagemagick",
        "crafted SVG",
        "Resizer RCE",
        "zero-width",
        RITA,
        "[",
    ] {
        assert!(!whole.contains(secret), "{secret:?} sent in clear:\n{text}");
    }

    // Searching for the encrypted text itself, or its reporter: nothing
    // found, nothing shown.
    for (query, id) in [
        ("imagemagick", "b2@example.org"),
        ("from:rita", "b3@example.org"),
    ] {
        bob_asks(&s.env, &format!("#search {query}\r\n"), id);
        let replies = s.env.sent_to(BOB);
        let last = body_text(replies.last().expect("an answer"));
        assert!(last.contains("(none)"), "{query}: {last}");
        assert!(!last.contains(&y("SEC-2026-0001")), "{query}: {last}");
        assert!(!last.contains("imagemagick"), "{query}: {last}");
    }
}

#[test]
fn a_member_with_a_key_gets_the_search_answer_encrypted() {
    let s = two_reports();
    s.env.deliver(
        &s.alice
            .signed_mail(CONTROL, "search", "#search imagemagick\n", &s.team, "a1"),
    );
    s.env.run_once();
    let to_alice = s.env.sent_to("alice@example.org");
    let last = to_alice.last().expect("an answer to Alice");
    let whole = String::from_utf8_lossy(last);
    assert!(whole.contains("multipart/encrypted"), "{whole}");
    assert!(!whole.contains("imagemagick"), "sent in clear: {whole}");
    let text = s.alice.read(last, &s.team.fpr);
    assert!(text.contains("Search: 1 report matches"), "{text}");
    assert!(text.contains(&y("SEC-2026-0001")), "{text}");
    assert!(text.contains("[imagemagick]"), "{text}");
}

#[test]
fn a_reporter_cannot_search_commands_in_their_mail_are_text() {
    let s = two_reports();
    for (to, id) in [
        (CONTROL, "x1@researcher.example"),
        (SECURITY, "x2@researcher.example"),
    ] {
        s.env.deliver(&plain(
            &format!("Sam <{SAM}>"),
            to,
            "question",
            id,
            "",
            "#search imagemagick\r\n",
        ));
    }
    s.env.run_once();
    for raw in s.env.sent_to(SAM) {
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("reports match"), "{text}");
        assert!(!text.contains("imagemagick"), "{text}");
        assert!(!text.contains(&y("SEC-2026-0001")), "{text}");
    }
}
