//! The SLA clock on the real mail stack: `sla tick --now` before the first-answer
//! deadline puts one reminder in each member's mailbox, encrypted to them, and
//! ticking again sends nothing more; after the deadline the escalation address
//! gets one metadata-only escalation.

use std::time::Duration;

use crate::common::{body_text, header, parse_subject, y};
use crate::mailstack::{MailStack, unique};
use crate::team::{KeyedTeam, mailbox};

const WAIT: Duration = Duration::from_secs(30);

fn shift(at: jiff::Timestamp, minutes: i64) -> String {
    (at + jiff::SignedDuration::from_mins(minutes)).to_string()
}

#[test]
fn sla_tick_puts_one_reminder_in_each_members_mailbox_and_one_escalation() {
    let stack = MailStack::start();
    let leads = unique("leads");
    let rita = unique("rita");
    let KeyedTeam {
        security,
        team,
        alice,
        bob,
        env,
    } = KeyedTeam::start(
        &stack,
        &format!(
            "[team]\ncommand_auth = [\"openpgp\"]\n\n\
             [sla]\nacknowledge = \"5 business days\"\nremind_before = \"2 business days\"\n\
             escalate_to = \"{leads}\"\ndigest = \"off\"\n"
        ),
    );

    let report = format!(
        "From: Rita Reporter <{rita}>\r\nTo: {security}\r\nSubject: Stored XSS in comments\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <sla-report@example.test>\r\n\r\n\
         A comment with <script> runs in every reader's session.\r\n"
    );
    stack.send(&rita, &security, report.as_bytes());
    stack.wait_for(&security, "INBOX", 1, WAIT);
    env.run_once();
    let id = y("SEC-2026-0001");
    mailbox(&stack, &rita, 1);
    for member in [&alice, &bob] {
        let notified = mailbox(&stack, &member.address, 1);
        // The notification names the computed due time, not the policy's wording.
        let text = member.read(&notified[0], &team.fpr);
        assert!(
            text.contains("first answer to the reporter: due "),
            "{text}"
        );
    }

    // When is the first answer due? The deadline the program computed.
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["sla", "--json"])).expect("sla --json");
    let deadlines = &listed["reports"][0]["deadlines"];
    let ack = deadlines
        .as_array()
        .and_then(|all| all.iter().find(|d| d["kind"] == "acknowledge"))
        .unwrap_or_else(|| panic!("no acknowledge deadline in {listed}"));
    assert_eq!(ack["status"], "running", "{ack}");
    let due: jiff::Timestamp = ack["due"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no due time in {ack}"));

    // An hour before it is due: one reminder per member.
    let out = env.ok(&["sla", "tick", "--force", "--now", &shift(due, -60)]);
    assert!(
        out.contains("queued 1 reminder(s), 0 escalation(s)"),
        "{out}"
    );
    for member in [&alice, &bob] {
        let got = mailbox(&stack, &member.address, 2);
        let reminder = got
            .iter()
            .map(|m| member.read(m, &team.fpr))
            .find(|text| text.contains("Reminder"))
            .unwrap_or_else(|| panic!("no reminder for {}", member.address));
        for expected in [
            id.as_str(),
            "first answer to the reporter",
            "Stored XSS in comments",
            &rita,
        ] {
            assert!(reminder.contains(expected), "no {expected:?} in {reminder}");
        }
    }

    // Ticking again, and again later before the deadline: nothing more.
    for minutes in [-60, -30] {
        let out = env.ok(&["sla", "tick", "--force", "--now", &shift(due, minutes)]);
        assert!(
            out.contains("queued 0 reminder(s), 0 escalation(s)"),
            "{out}"
        );
    }
    for member in [&alice, &bob] {
        mailbox(&stack, &member.address, 2);
    }
    assert!(stack.messages(&leads, "INBOX").is_empty());

    // Past the deadline: one escalation to the leads, without the report's
    // content (they hold no key), and none to the members.
    for minutes in [5, 65] {
        env.ok(&["sla", "tick", "--force", "--now", &shift(due, minutes)]);
    }
    let escalations = mailbox(&stack, &leads, 1);
    let subject = parse_subject(&escalations[0]).unwrap_or_default();
    assert!(
        subject.contains(&id) && subject.contains("SLA breached"),
        "{subject}"
    );
    let text = body_text(&escalations[0]);
    assert!(!text.contains("Stored XSS"), "{text}");
    assert!(!text.contains(&rita), "{text}");
    assert_eq!(
        header(&escalations[0], "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    for member in [&alice, &bob] {
        mailbox(&stack, &member.address, 2);
    }
    let shown = env.ok(&["sla", "--now", &shift(due, 70)]);
    assert!(shown.contains("BREACHED"), "{shown}");

    // The control address answers #show, #digest and #stats from the engine.
    let control = security.replace('@', "+control@");
    let ask = alice.signed_mail(
        &control,
        "queries",
        &format!("#show {id}\n#digest\n#stats\n"),
        &team,
        "sla-queries",
    );
    stack.send(&alice.address, &control, &ask);
    stack.wait_for(&security, "INBOX", 2, WAIT);
    env.run_once();
    let alice_box = mailbox(&stack, &alice.address, 3);
    let answer = alice.read(&alice_box[2], &team.fpr);
    for expected in [
        "Deadlines:",
        "first answer to the reporter: due",
        "Digest as of",
        "Open reports: 1",
        "Reports: 1 (1 open, 0 closed)",
        "Time to answer:",
    ] {
        assert!(answer.contains(expected), "no {expected:?} in {answer}");
    }
    mailbox(&stack, &bob.address, 2);
}
