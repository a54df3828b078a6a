//! Who may steer a report and what counts as the reporter answering,
//! with the file transport: DKIM results from the trusted server only, signed
//! mail applied once, bound to its report and fresh, commands all or none,
//! triage rules, automatic mail from the reporter, `Credit:` answers.

use disclosed::report::{Credit, ReportState};
use disclosed::store::ReportDetail;

use crate::common::{Env, assert_metadata_only, keyed_file_config, outbox, y};
use crate::pgp::write_secret;
use crate::team::Person;

pub(crate) const SECURITY: &str = "security@example.org";
pub(crate) const RITA: &str = "rita@researcher.example";

/// What the trusted MX adds for a mail that passed DKIM for example.org, and the
/// signature it checked, which lists `From`, `To` and `Subject`.
pub(crate) const DKIM_PASS: &str = "Authentication-Results: mx.example.org;\r\n \
    dkim=pass header.d=example.org header.s=s1\r\n\
    DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s1;\r\n \
    h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n \
    b=dGVzdA==\r\n";

pub(crate) struct Setup {
    pub env: Env,
    pub team: Person,
    pub alice: Person,
}

/// An installation with a team key, Alice (with her key) and Bob (without),
/// `team` lines for `[team]` and `extra` config after the members.
pub(crate) fn setup(team_lines: &str, extra: &str) -> Setup {
    let s = uninitialised("", team_lines, extra);
    s.env.init();
    s
}

/// [`setup`] with `openpgp` lines for `[openpgp]`, before `init`: the files
/// those lines name are the caller's to write.
pub(crate) fn uninitialised(openpgp: &str, team_lines: &str, extra: &str) -> Setup {
    let team = Person::new("Example Security", SECURITY);
    let alice = Person::new("Alice", "alice@example.org");
    alice.gpg.import(&team.public());
    let env = Env::with_file_transport("");
    write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
    std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
    env.write_config(&keyed_file_config(&format!(
        r#"{openpgp}

[team]
{team_lines}

[[team.members]]
name = "Alice"
email = "alice@example.org"
key = "alice.asc"

[[team.members]]
name = "Bob"
email = "bob@example.org"

{extra}
"#
    )));
    Setup { env, team, alice }
}

pub(crate) fn plain(
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    extra: &str,
    body: &str,
) -> Vec<u8> {
    format!(
        "{extra}From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{id}>\r\n\r\n{body}"
    )
    .into_bytes()
}

/// Rita's report, processed: report 1.
pub(crate) fn report(env: &Env, subject: &str) -> ReportDetail {
    env.deliver(&plain(
        RITA,
        SECURITY,
        subject,
        "r1@researcher.example",
        "",
        "Details.\r\n",
    ));
    env.run_once();
    env.report(1)
}

/// Two forgeries of Alice's command mail with `text` to report 1: in her
/// name unsigned, then signed by a key that is not hers (`team` is the
/// program's key, which the forger encrypts to).
pub(crate) fn deliver_forged_commands(env: &Env, team: &Person, text: &str) {
    let subject = y("Re: [SEC-2026-0001] the report");
    env.deliver(&plain(
        "Alice <alice@example.org>",
        &reply_address(),
        &subject,
        "forged1@evil.example",
        "",
        &text.replace('\n', "\r\n"),
    ));
    let mallory = Person::new("Alice", "alice@example.org");
    mallory.gpg.import(&team.public());
    env.deliver(&mallory.signed_mail(&reply_address(), &subject, text, team, "forged2"));
}

pub(crate) fn reply_address() -> String {
    y("security+SEC-2026-0001@example.org")
}

pub(crate) fn refusals(d: &ReportDetail) -> Vec<String> {
    d.events
        .iter()
        .filter(|e| e.kind == "team-mail-refused")
        .map(|e| e.detail["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn dkim_counts_only_from_the_trusted_server_and_only_once() {
    let s = setup(
        "command_auth = [\"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"",
        "",
    );
    let env = &s.env;
    report(env, "Open redirect");
    let to = reply_address();
    let subject = y("Re: [SEC-2026-0001] Open redirect");
    let genuine = DKIM_PASS;
    env.deliver(&plain(
        "Alice <alice@example.org>",
        &to,
        &subject,
        "d1@example.org",
        genuine,
        "#severity high\r\n\r\nThanks, confirmed.\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("team facts");
    assert_eq!(team.severity.map(|s| s.as_str()), Some("high"));
    let relayed = d
        .events
        .iter()
        .find(|e| e.kind == "relayed-to-reporter")
        .expect("relayed");
    assert_eq!(
        (relayed.actor.as_str(), relayed.auth.as_str()),
        ("alice@example.org", "dkim")
    );
    assert_eq!(outbox(&d, "relay").len(), 1);

    // A header from another server; a forged pass below a genuine failure; the
    // same Message-ID again (a replay, with another Received line).
    for (n, extra, body) in [
        (
            2,
            "Authentication-Results: relay.evil.example; dkim=pass header.d=example.org\r\n"
                .to_owned(),
            "#severity low\r\n",
        ),
        (
            3,
            "Authentication-Results: mx.example.org; dkim=fail header.d=example.org\r\n\
             Authentication-Results: mx.example.org; dkim=pass header.d=example.org\r\n"
                .to_owned(),
            "#severity low\r\n",
        ),
        (
            4,
            format!("Received: from elsewhere\r\n{genuine}"),
            "#severity low\r\n\r\nThanks, confirmed.\r\n",
        ),
    ] {
        let id = if n == 4 {
            "d1@example.org".to_owned()
        } else {
            format!("d{n}@example.org")
        };
        env.deliver(&plain(
            "Alice <alice@example.org>",
            &to,
            &subject,
            &id,
            &extra,
            body,
        ));
    }
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["no-dkim", "no-dkim", "replayed"]);
    assert_eq!(
        d.team.as_ref().and_then(|t| t.severity.map(|s| s.as_str())),
        Some("high")
    );
    assert_eq!(
        outbox(&d, "relay").len(),
        1,
        "nothing more reached the reporter"
    );
    assert_eq!(outbox(&d, "refusal").len(), 3, "Alice heard of each");
}

#[test]
fn a_signed_mail_applies_once_and_only_to_the_report_it_names() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "IDOR in invoices");
    let to = reply_address();
    let bound = s.alice.signed_mail(
        &to,
        &y("Re: [SEC-2026-0001] IDOR in invoices"),
        "#severity medium\n\nWe are looking into it.\n",
        &s.team,
        "s1",
    );
    env.deliver(&bound);
    env.run_once();
    let d = env.report(1);
    assert_eq!(
        d.team.as_ref().and_then(|t| t.severity.map(|s| s.as_str())),
        Some("medium")
    );
    assert_eq!(
        d.summary.state,
        ReportState::Acknowledged,
        "the first answer acknowledges"
    );

    // The same signed payload under other outer headers is a replay.
    let text = String::from_utf8(bound).expect("ascii");
    let replay = text.replace(
        "Message-ID: <s1@example.test>",
        "Message-ID: <s1-again@example.test>",
    );
    assert_ne!(replay, text);
    env.deliver(replay.as_bytes());
    // Signed text and protected subject without the report id: not bound, so it
    // could be replayed against any report.
    env.deliver(&s.alice.readdressed_mail(
        &to,
        SECURITY,
        "Re: your report",
        "#state rejected\n\nNo.\n",
        &s.team,
        "s2",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["replayed", "not-bound"]);
    assert_eq!(d.summary.state, ReportState::Acknowledged);
    assert_eq!(outbox(&d, "relay").len(), 1);
}

#[test]
fn an_old_signature_is_refused() {
    let s = setup("signature_max_age = \"2s\"", "");
    let env = &s.env;
    report(env, "SSRF in webhooks");
    let mail = s.alice.signed_mail(
        &reply_address(),
        &y("Re: [SEC-2026-0001] SSRF"),
        "#severity critical\n",
        &s.team,
        "old1",
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    env.deliver(&mail);
    env.run_once();
    let d = env.report(1);
    assert_eq!(refusals(&d), ["signature-too-old"]);
    assert_eq!(
        d.team.as_ref().and_then(|t| t.severity.map(|s| s.as_str())),
        None
    );
}

#[test]
fn commands_apply_all_or_none_and_a_refused_mail_is_not_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "XSS in search");
    let to = reply_address();
    env.deliver(&s.alice.signed_mail(
        &to,
        &y("Re: [SEC-2026-0001] XSS"),
        "#severity high\n#state fixed\n\nFixed already!\n",
        &s.team,
        "c1",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(d.summary.state, ReportState::New);
    assert_eq!(
        d.team.as_ref().and_then(|t| t.severity.map(|s| s.as_str())),
        None
    );
    assert!(outbox(&d, "relay").is_empty(), "nothing relayed");
    let refused = d
        .events
        .iter()
        .find(|e| e.kind == "commands-refused")
        .expect("refusal recorded");
    let reason = refused.detail.to_string();
    assert!(
        reason.contains("#state fixed") && reason.contains("allowed next"),
        "{reason}"
    );
    let replies = env.sent_of(&d, "command-reply");
    assert_eq!(replies.len(), 1);
    let answer = s.alice.read(&replies[0], &s.team.fpr);
    assert!(
        answer.contains("Refused") && answer.contains("#state fixed"),
        "{answer}"
    );

    env.deliver(&s.alice.signed_mail(
        &to,
        &y("Re: [SEC-2026-0001] XSS"),
        "#state triaged\n#state accepted\n#cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N\n#extend 30d because complex fix\n",
        &s.team,
        "c2",
    ));
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("facts");
    assert_eq!(d.summary.state, ReportState::Accepted);
    assert_eq!(team.cvss_score, Some(6.1));
    assert_eq!(
        team.severity.map(|s| s.as_str()),
        Some("medium"),
        "from the CVSS score"
    );
    assert_eq!(team.fix_extension_days, 30);
    assert!(
        outbox(&d, "relay").is_empty(),
        "only commands, nothing to relay"
    );
    let replies = env.sent_of(&d, "command-reply");
    let answer = s.alice.read(&replies[1], &s.team.fpr);
    assert!(
        answer.contains("Applied to") && answer.contains("6.1"),
        "{answer}"
    );
}

#[test]
fn automatic_mail_is_no_answer_and_a_credit_line_is_recorded() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "CSRF on settings");
    env.deliver(&s.alice.signed_mail(
        &reply_address(),
        &y("Re: [SEC-2026-0001] CSRF"),
        "#waiting\n\nCould you send the request you used?\n",
        &s.team,
        "w1",
    ));
    env.run_once();
    assert!(env.report(1).team.as_ref().is_some_and(|t| t.waiting));
    let notices = outbox(&env.report(1), "notification").len();

    let subject = y("Re: [SEC-2026-0001] CSRF");
    env.deliver(&plain(
        RITA,
        SECURITY,
        &subject,
        "ooo@researcher.example",
        "Auto-Submitted: auto-replied\r\n",
        "I am away until Monday.\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    assert!(
        d.team.as_ref().is_some_and(|t| t.waiting),
        "an auto-reply is no answer"
    );
    assert_eq!(outbox(&d, "notification").len(), notices, "nor a follow-up");

    env.deliver(&plain(
        RITA,
        SECURITY,
        &subject,
        "r2@researcher.example",
        "",
        "Here it is.\r\n\r\nCredit: Rita Reporter <https://rita.example>\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    let team = d.team.as_ref().expect("facts");
    assert!(!team.waiting, "the reporter answered");
    assert_eq!(
        team.credit,
        Credit::Named {
            name: "Rita Reporter".into(),
            affiliation: None,
            url: Some("https://rita.example".into()),
            key: None,
        }
    );
    assert_eq!(
        outbox(&d, "notification").len(),
        notices + 2,
        "both members told"
    );
}

#[test]
fn a_rule_answers_a_non_issue_and_the_team_can_reopen_it() {
    let s = setup(
        "",
        "[[rules]]\nname = \"email-auth\"\nsubject = '\\b(spf|dmarc|dkim)\\b'\nstate = \"out-of-scope\"\n\
         tags = [\"non-issue\"]\nreply = \"out-of-scope\"\n",
    );
    let env = &s.env;
    let d = report(env, "Missing DMARC record on example.org");
    assert_eq!(d.summary.state, ReportState::OutOfScope);
    assert_eq!(
        d.team.as_ref().map(|t| t.tags.clone()),
        Some(vec!["non-issue".to_owned()])
    );
    let answers = env.sent_of(&d, "acknowledgement");
    assert_eq!(answers.len(), 1);
    let text = String::from_utf8_lossy(&answers[0]);
    assert!(
        text.contains("scope"),
        "the out-of-scope template answered: {text}"
    );

    env.deliver(&s.alice.signed_mail(
        &reply_address(),
        &y("Re: [SEC-2026-0001] DMARC"),
        "#state triaged\n",
        &s.team,
        "t1",
    ));
    env.run_once();
    assert_eq!(env.report(1).summary.state, ReportState::Triaged);
}

#[test]
fn a_member_without_a_key_learns_of_a_relay_and_a_note_by_metadata_only() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Open redirect in the login page");
    let id = y("SEC-2026-0001");
    let answer = "#reply\n\nThanks, the redirect token leaks to evil.example; fixing.\n";
    env.deliver(&s.alice.signed_mail(
        &reply_address(),
        &y("Re: [SEC-2026-0001] Open redirect"),
        answer,
        &s.team,
        "m1",
    ));
    env.deliver(&s.alice.signed_mail(
        &y("security+SEC-2026-0001-internal@example.org"),
        &y("Re: [SEC-2026-0001] Open redirect"),
        "Between us: the same bug is in the admin console.\n",
        &s.team,
        "m2",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "relay").len(), 1, "the answer went out");
    for kind in ["relay-copy", "internal-note"] {
        let to_bob = env.sent_of(&d, kind);
        assert_eq!(to_bob.len(), 1, "Bob got one {kind}");
        assert_metadata_only(
            &to_bob[0],
            &id,
            &[
                RITA,
                "Open redirect in the login page",
                "redirect token leaks",
                "admin console",
            ],
        );
    }
}
