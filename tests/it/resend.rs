//! An acknowledgement that could not be composed is not lost: once the
//! template is fixed, `disclosed ack resend ID` or a member's `#resend-ack`
//! queues it.

use crate::common::{Env, mail, outbox, y};
use crate::pgp::encrypted_payload;
use crate::team::Person;
use crate::team_auth::{RITA, report, setup};

#[test]
fn a_failed_acknowledgement_is_sent_once_the_template_is_fixed() {
    let env = Env::with_file_transport("[templates]\ndir = \"tpl\"\n");
    std::fs::create_dir(env.path("tpl")).expect("mkdir");
    // Renders with the sample data (whose subject it names) but not with a
    // real report's: sample rendering cannot prove every template.
    std::fs::write(
        env.path("tpl/acknowledgement.txt.hbs"),
        "{{#if (eq subject \"XSS in search\")}}Thanks{{else}}{{report_idd}}{{/if}}\n",
    )
    .expect("write");
    env.init();
    let raw = mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "Open redirect",
        "resend1@researcher.example",
        "",
    );
    env.deliver(&raw);
    env.run_once();
    let report = env.report(1);
    assert!(
        report
            .events
            .iter()
            .any(|e| e.kind == "acknowledgement-failed"),
        "{:?}",
        report.events
    );
    assert!(env.sent_to("rita@researcher.example").is_empty());
    let id = y("SEC-2026-0001");
    assert_eq!(ack_failed(&env), [true]);
    let table = env.ok(&["reports"]);
    assert!(table.contains("Open redirect  !ack"), "{table}");
    assert!(table.contains(LEGEND), "{table}");

    // Still broken: nothing is queued, and the command says why.
    let out = env.cmd(&["ack", "resend", &id]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    std::fs::write(
        env.path("tpl/acknowledgement.txt.hbs"),
        "Thanks for {{report_id}}.\n",
    )
    .expect("write");
    let out = env.ok(&["ack", "resend", &id]);
    assert!(out.contains("queued the acknowledgement"), "{out}");
    // Queued: the report no longer stands out.
    assert_eq!(ack_failed(&env), [false]);
    let table = env.ok(&["reports"]);
    assert!(!table.contains("!ack"), "{table}");
    env.run_once();
    let sent = env.sent_to("rita@researcher.example");
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0]).contains(&format!("Thanks for {id}.")));

    // Once is enough.
    let out = env.cmd(&["ack", "resend", &id]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already"));
    env.run_once();
    assert_eq!(env.sent_to("rita@researcher.example").len(), 1);
}

const LEGEND: &str = "!ack: the acknowledgement could not be composed; fix the template, then `disclosed ack resend ID`";

/// The `ack_failed` flag of each report in `reports --json`.
fn ack_failed(env: &Env) -> Vec<bool> {
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["reports", "--json"])).expect("json");
    listed
        .iter()
        .map(|r| r["ack_failed"].as_bool().expect("ack_failed"))
        .collect()
}

#[test]
fn a_report_whose_acknowledgement_did_not_fail_cannot_be_resent() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "rita@researcher.example",
        "security@example.org",
        "x",
        "resend2@researcher.example",
        "",
    ));
    env.run_once();
    let out = env.cmd(&["ack", "resend", &y("SEC-2026-0001")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(env.sent_to("rita@researcher.example").len(), 1);
    // Nothing to point out in the list either.
    assert_eq!(ack_failed(&env), [false]);
    let table = env.ok(&["reports"]);
    assert!(!table.contains("!ack"), "{table}");
}

#[test]
fn a_member_resends_a_failed_acknowledgement_by_mail_once() {
    let s = setup("", "");
    let env = &s.env;
    std::fs::create_dir(env.path("tpl")).expect("mkdir");
    std::fs::write(
        env.path("tpl/acknowledgement.txt.hbs"),
        "{{#if (eq subject \"XSS in search\")}}Thanks{{else}}{{report_idd}}{{/if}}\n",
    )
    .expect("write");
    let config = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!("{config}\n[templates]\ndir = \"tpl\"\n"));
    let d = report(env, "Open redirect");
    assert!(
        d.events.iter().any(|e| e.kind == "acknowledgement-failed"),
        "{:?}",
        d.events
    );
    assert!(outbox(&d, "acknowledgement").is_empty());
    let notice = alices_notification(env, &d, &s.alice);
    assert!(
        notice.contains("The acknowledgement could not be composed"),
        "{notice}"
    );
    assert!(notice.contains("#resend-ack"), "{notice}");
    std::fs::write(
        env.path("tpl/acknowledgement.txt.hbs"),
        "Thanks for {{report_id}}.\n",
    )
    .expect("write");

    let internal = y("security+SEC-2026-0001-internal@example.org");
    let subject = y("Re: [SEC-2026-0001] Open redirect");
    env.deliver(
        &s.alice
            .signed_mail(&internal, &subject, "#resend-ack\n", &s.team, "ra1"),
    );
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "acknowledgement").len(), 1, "{:?}", d.events);
    assert!(!d.events.iter().any(|e| e.kind == "commands-refused"));
    let sent = env.sent_to(RITA);
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0]).contains(&y("Thanks for SEC-2026-0001.")));

    // Queued once: asking again (a new mail, not a replay) is refused and
    // queues nothing.
    env.deliver(&s.alice.signed_mail(
        &internal,
        &subject,
        "#resend-ack\n\nOnce more.\n",
        &s.team,
        "ra2",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "acknowledgement").len(), 1);
    assert_eq!(
        d.events
            .iter()
            .filter(|e| e.kind == "commands-refused")
            .count(),
        1,
        "{:?}",
        d.events
    );
    assert_eq!(env.sent_to(RITA).len(), 1);
}

#[test]
fn resend_ack_is_refused_when_the_acknowledgement_did_not_fail() {
    let s = setup("", "");
    let env = &s.env;
    let d = report(env, "Open redirect");
    assert_eq!(outbox(&d, "acknowledgement").len(), 1);
    let notice = alices_notification(env, &d, &s.alice);
    assert!(notice.contains("New report"), "{notice}");
    assert!(!notice.contains("could not be composed"), "{notice}");
    assert!(!notice.contains("#resend-ack"), "{notice}");
    env.deliver(&s.alice.signed_mail(
        &y("security+SEC-2026-0001-internal@example.org"),
        &y("Re: [SEC-2026-0001] Open redirect"),
        "#resend-ack\n",
        &s.team,
        "ra3",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(outbox(&d, "acknowledgement").len(), 1);
    let refused: Vec<_> = d
        .events
        .iter()
        .filter(|e| e.kind == "commands-refused")
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", d.events);
    assert!(refused[0].detail.to_string().contains("did not fail"));
}

/// What Alice reads of the team's notification of `d`.
fn alices_notification(env: &Env, d: &disclosed::store::ReportDetail, alice: &Person) -> String {
    let sent = env.sent_of(d, "notification");
    let mail = sent
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("alice@example.org"))
        .expect("a notification to Alice");
    let (plain, _) = alice.gpg.decrypt(&encrypted_payload(mail));
    String::from_utf8_lossy(&plain).into_owned()
}
