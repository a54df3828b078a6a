//! The control address's read-only queries (`#outbox`, `#search`,
//! `#hall-of-fame`, `#advisory`) answered only to an authenticated member,
//! and in clear only with what a metadata notice may say.

use std::path::PathBuf;

use crate::common::{Env, body_text};
use crate::team_auth::{DKIM_PASS, RITA, Setup, plain, report, setup};

const CONTROL: &str = "security+control@example.org";
const BOB: &str = "bob@example.org";

/// What answers to the queries would say: none of it may reach anyone but an
/// authenticated member, and a member without a key never in clear.
const ANSWERS: [&str; 4] = [
    "Failed or held mail",
    "550 5.1.1",
    "Reports found",
    "Search:",
];

/// Alice (key) and Bob (no key, commands by DKIM from the trusted MX), Rita's
/// plain report, and one failed mail to Rita in the outbox.
fn with_failed_mail() -> Setup {
    let s = setup(
        "command_auth = [\"openpgp\", \"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"",
        "[sla]\ndigest = \"off\"",
    );
    report(&s.env, "Open redirect in the login page");
    let recipients = vec![RITA.to_owned()];
    s.env
        .store()
        .write(|w| {
            let tx = w.tx();
            let id = tx.enqueue(
                &disclosed::store::NewMail {
                    report_id: None,
                    kind: "acknowledgement",
                    message_id: "failing@example.org",
                    envelope_from: "security@example.org",
                    return_token: None,
                    recipients: &recipients,
                    rate_key: None,
                    raw: b"Subject: x\r\n\r\nbody\r\n",
                    held: false,
                    team_lines: &[],
                },
                disclosed::clock::Clock::now(&disclosed::clock::SystemClock),
            )?;
            tx.mark_failed(id, "550 5.1.1 mailbox unknown")
        })
        .expect("a failed row");
    s
}

/// The mails written since `before` (the outbox's file names then): each
/// raw, and whole with its decoded text.
fn sent_after(env: &Env, before: &[PathBuf]) -> Vec<(Vec<u8>, String)> {
    env.sent()
        .into_iter()
        .filter(|(path, _)| !before.contains(path))
        .map(|(_, raw)| {
            let text = format!("{}\n{}", String::from_utf8_lossy(&raw), body_text(&raw));
            (raw, text)
        })
        .collect()
}

fn names(env: &Env) -> Vec<PathBuf> {
    env.sent().into_iter().map(|(path, _)| path).collect()
}

const QUERIES: &str = "#outbox\r\n#search redirect\r\n#hall-of-fame\r\n";

#[test]
fn forged_queries_on_the_control_address_are_answered_to_nobody() {
    let s = with_failed_mail();
    let env = &s.env;
    let before = names(env);
    // A member's address without any proof; a DKIM pass claimed by a server
    // we do not trust; Alice's address on mail that is not signed by her.
    let untrusted = DKIM_PASS.replace("mx.example.org", "mx.attacker.example");
    for (from, extra, id) in [
        (format!("Bob <{BOB}>"), String::new(), "f1@attacker.example"),
        (format!("Bob <{BOB}>"), untrusted, "f2@attacker.example"),
        (
            "Alice <alice@example.org>".to_owned(),
            String::new(),
            "f3@attacker.example",
        ),
    ] {
        env.deliver(&plain(&from, CONTROL, "queries", id, &extra, QUERIES));
    }
    env.run_once();
    let sent = sent_after(env, &before);
    assert!(
        !sent.is_empty(),
        "the members were not told of mail in their name"
    );
    for (raw, mail) in sent {
        // Alice's copy is encrypted: read it as she would.
        let text = if mail.contains("To: Alice") {
            s.alice.read(&raw, &s.team.fpr)
        } else {
            mail
        };
        assert!(text.contains("Not accepted"), "not a refusal:\n{text}");
        for answer in ANSWERS.iter().chain(&["your commands"]) {
            assert!(!text.contains(answer), "{answer:?} answered:\n{text}");
        }
    }
}

#[test]
fn a_keyless_members_outbox_query_gets_no_addresses_or_errors_in_clear() {
    let s = with_failed_mail();
    let env = &s.env;
    let before = names(env);
    let to_bob = env.sent_to(BOB).len();
    env.deliver(&plain(
        &format!("Bob <{BOB}>"),
        CONTROL,
        "queries",
        "b1@example.org",
        DKIM_PASS,
        "#outbox\r\n",
    ));
    env.run_once();
    // Bob is answered (the honest case), with the metadata notice only.
    assert!(env.sent_to(BOB).len() > to_bob, "Bob got no answer");
    for (_, mail) in sent_after(env, &before) {
        for secret in ["Failed or held mail", "550 5.1.1", RITA] {
            assert!(!mail.contains(secret), "{secret:?} sent in clear:\n{mail}");
        }
    }
}
