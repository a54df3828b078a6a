//! Publishing on time: a signed command that discloses a report sends one
//! bulletin, cleartext-signed by the team key, to the announcement list, with
//! nothing of the reporter or the team in it; forged mail, side exits and
//! replays send none (or no second one). On the disclosure date the team is
//! mailed the advisory draft once per date. `#advisory` and `#hall-of-fame`
//! answer on the control address.

use disclosed::report::ReportState;
use disclosed::store::ReportDetail;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::common::{Env, body_text, header, outbox, parse_subject, y};
use crate::mailstack::{MailStack, unique};
use crate::team::{KeyedTeam, Person, mailbox};
use crate::team_auth::{
    RITA, SECURITY, Setup, deliver_forged_commands, plain, reply_address, setup,
};

/// How long mail may take through the mail stack.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const LIST: &str = "announce@lists.example.net";
/// Planted in the report: none may reach the list.
const SUBJECT_MARK: &str = "SUBJMARK4417";
const BODY_MARK: &str = "BODYMARK9021";

struct Desk {
    env: Env,
    team: Person,
    alice: Person,
}

/// The team key, Alice (with her key) and Bob (without) as members, and
/// `extra` config (the `[bulletin]` section).
fn desk(extra: &str) -> Desk {
    let Setup { env, team, alice } = setup("", extra);
    Desk { env, team, alice }
}

fn with_list() -> Desk {
    desk(&format!("[bulletin]\naddress = \"{LIST}\"\n"))
}

impl Desk {
    /// Rita's report, with markers in its subject and text.
    fn report(&self) {
        self.env.deliver(&plain(
            RITA,
            SECURITY,
            &format!("{SUBJECT_MARK} stored XSS in the wiki"),
            "r1@researcher.example",
            "",
            &format!("{BODY_MARK}: the page title is not escaped.\r\n"),
        ));
        self.env.run_once();
    }

    /// Alice's signed mail with `text` to report 1's reply address.
    fn command(&self, text: &str, id: &str) -> ReportDetail {
        self.env.deliver(&self.mail(text, id));
        self.env.run_once();
        self.env.report(1)
    }

    fn mail(&self, text: &str, id: &str) -> Vec<u8> {
        self.alice.signed_mail(
            &reply_address(),
            &y(&format!("Re: [SEC-2026-0001] {SUBJECT_MARK}")),
            text,
            &self.team,
            id,
        )
    }

    /// Alice's signed mail with `text` to the control address.
    fn control(&self, text: &str, id: &str) -> String {
        self.env.deliver(&self.alice.signed_mail(
            "security+control@example.org",
            // Differs per mail: the same signed text twice in one second
            // would be one mail replayed.
            &format!("commands {id}"),
            text,
            &self.team,
            id,
        ));
        self.env.run_once();
        let replies: Vec<Vec<u8>> = self
            .env
            .sent_to("alice@example.org")
            .into_iter()
            .filter(|raw| {
                self.alice
                    .gpg
                    .decrypt(&crate::pgp::encrypted_payload(&crate::pgp::crlf(raw)))
                    .1
                    .contains("DECRYPTION_OKAY")
            })
            .collect();
        let last = replies.last().expect("a reply to Alice");
        self.alice.read(last, &self.team.fpr)
    }

    /// Report 1 fixed, with its public fields set.
    fn fixed(&self) -> ReportDetail {
        self.report();
        self.command(
            "#state triaged\n#state accepted\n#state fixed\n#fixed-in 3.1.1\n\
             #cve CVE-2026-4242\n#severity high\n#credit \"Jane Public\"\n",
            "c1",
        )
    }

    /// What the last command reply to Alice says.
    fn reply(&self, d: &ReportDetail) -> String {
        let replies = self.env.sent_of(d, "command-reply");
        let last = replies.last().expect("a command reply");
        self.alice.read(last, &self.team.fpr)
    }
}

/// Verifies a cleartext-signed `text` with a keyring holding only the team's
/// public key: the `[GNUPG:]` status and the signed text.
fn verify(team: &Person, text: &str) -> (String, String) {
    let reader = crate::pgp::Gpg::new();
    reader.import(&team.public());
    let (signed, status) = reader.decrypt(text.as_bytes());
    (status, String::from_utf8_lossy(&signed).into_owned())
}

#[test]
fn a_signed_disclosure_queues_one_signed_bulletin_to_the_list_with_nothing_private() {
    let desk = with_list();
    let d = desk.fixed();
    assert_eq!(d.summary.state, ReportState::Fixed);
    assert!(outbox(&d, "bulletin").is_empty(), "not before disclosure");

    let d = desk.command("#state disclosed\n", "c2");
    assert_eq!(d.summary.state, ReportState::Disclosed);
    assert_eq!(outbox(&d, "bulletin").len(), 1);
    let sent = desk.env.sent_of(&d, "bulletin");
    assert_eq!(sent.len(), 1, "written by the file transport");
    let raw = &sent[0];
    assert_eq!(header(raw, "To").as_deref(), Some(LIST));
    assert!(
        header(raw, "From").is_some_and(|f| f.contains(SECURITY)),
        "{:?}",
        header(raw, "From")
    );
    assert_eq!(
        parse_subject(raw).as_deref(),
        Some(
            y("[Example advisory] SEC-2026-0001: CVE-2026-4242, high severity, fixed in 3.1.1")
                .as_str()
        )
    );
    assert_eq!(
        header(raw, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(header(raw, "Reply-To"), None, "no internal reply address");
    let text = String::from_utf8_lossy(raw);
    assert!(
        !text.contains("multipart/encrypted"),
        "public, not encrypted"
    );

    let body = body_text(raw);
    assert!(body.contains("BEGIN PGP SIGNED MESSAGE"), "{body}");
    let (status, signed) = verify(&desk.team, &body);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(&desk.team.fpr)),
        "signed by the team key:\n{status}"
    );
    for public in [y("SEC-2026-0001"), "CVE-2026-4242".into(), "3.1.1".into()] {
        assert!(signed.contains(&public), "no {public} in:\n{signed}");
    }
    assert!(signed.contains("Jane Public"), "the consented credit");
    for private in [
        RITA,
        "rita@",
        "researcher.example",
        SUBJECT_MARK,
        BODY_MARK,
        "stored XSS",
        "alice@",
        "bob@",
        "Alice",
        "Bob",
        "internal",
    ] {
        assert!(
            !text.contains(private),
            "{private} in the bulletin:\n{text}"
        );
    }

    let reply = desk.reply(&d);
    assert!(
        reply.contains(&format!(
            "bulletin: the signed advisory is queued to {LIST}"
        )),
        "{reply}"
    );
    // The reporter is still told, per `[notify_reporter]` (on by default).
    assert_eq!(outbox(&d, "reporter-disclosed").len(), 1);
}

#[test]
fn a_replayed_disclosure_mail_queues_the_bulletin_once() {
    let desk = with_list();
    desk.fixed();
    let mail = desk.mail("#state disclosed\n", "c2");
    desk.env.deliver(&mail);
    desk.env.run_once();
    // The same mail again (a crash before the source was told), then a
    // fresh one that asks for the same state.
    desk.env.deliver(&mail);
    desk.env.run_once();
    let d = desk.command("#state disclosed\n", "c3");
    assert_eq!(d.summary.state, ReportState::Disclosed);
    assert_eq!(outbox(&d, "bulletin").len(), 1, "one bulletin only");
    assert_eq!(desk.env.sent_to(LIST).len(), 1);
}

#[test]
fn a_forged_disclosure_mail_queues_no_bulletin() {
    let desk = with_list();
    desk.fixed();
    deliver_forged_commands(&desk.env, &desk.team, "#state disclosed\n");
    desk.env.run_once();
    let d = desk.env.report(1);
    assert_eq!(d.summary.state, ReportState::Fixed, "nothing applied");
    assert!(outbox(&d, "bulletin").is_empty());
    assert!(desk.env.sent_to(LIST).is_empty());
}

#[test]
fn a_report_marked_spam_never_sends_a_bulletin() {
    let desk = with_list();
    desk.report();
    let d = desk.command("#state spam\n", "s1");
    assert_eq!(d.summary.state, ReportState::Spam);
    let d = desk.command("#state disclosed\n", "s2");
    assert_eq!(d.summary.state, ReportState::Spam, "refused");
    assert!(outbox(&d, "bulletin").is_empty());
    assert!(desk.env.sent_to(LIST).is_empty());
}

#[test]
fn without_a_list_address_disclosure_sends_no_bulletin_and_says_so() {
    let desk = desk("");
    desk.fixed();
    let d = desk.command("#state disclosed\n", "c2");
    assert_eq!(d.summary.state, ReportState::Disclosed);
    assert!(outbox(&d, "bulletin").is_empty());
    let reply = desk.reply(&d);
    assert!(
        reply.contains("bulletin: none sent, no [bulletin] address is configured"),
        "{reply}"
    );
}

#[test]
fn the_control_address_answers_advisory_and_hall_of_fame_for_ready_reports_only() {
    let desk = with_list();
    desk.report();
    desk.command("#state triaged\n#state accepted\n", "a1");
    let id = y("SEC-2026-0001");
    let reply = desk.control(&format!("#advisory {id}\n"), "k1");
    assert!(
        reply.contains(&format!(
            "{id} is accepted: an advisory is drafted once the report is fixed"
        )),
        "{reply}"
    );

    desk.command(
        "#state fixed\n#fixed-in 3.1.1\n#cve CVE-2026-4242\n#credit \"Jane Public\"\n",
        "a2",
    );
    let reply = desk.control(&format!("#advisory {id}\n"), "k2");
    assert!(reply.contains("CVE-2026-4242"), "{reply}");
    assert!(reply.contains("Fixed in 3.1.1."), "{reply}");
    assert!(!reply.contains(BODY_MARK), "{reply}");

    let reply = desk.control("#hall-of-fame\n", "k3");
    assert!(reply.contains("No one is listed yet."), "{reply}");
    desk.command("#state disclosed\n", "a3");
    let reply = desk.control("#hall-of-fame\n", "k4");
    assert!(reply.contains("1. Jane Public (1 contribution"), "{reply}");
}

/// `hour` o'clock on `day` in program time, as `sla tick --now` takes it.
fn at(day: Date, hour: i8) -> String {
    day.at(hour, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"))
        .expect("time")
        .timestamp()
        .to_string()
}

/// Today in program time, by the clock the daemon reads.
fn today() -> Date {
    use disclosed::clock::Clock;
    disclosed::clock::SystemClock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"))
        .date()
}

#[test]
fn the_team_is_mailed_the_advisory_on_the_disclosure_date_once_per_date() {
    let desk = with_list();
    desk.fixed();
    let first = today().checked_add(5.days()).expect("date");
    desk.command(&format!("#disclose {first}\n"), "d1");
    let days = |d: &ReportDetail| outbox(d, "disclosure-day").len();

    desk.env.ok(&[
        "sla",
        "tick",
        "--force",
        "--now",
        &at(first.yesterday().expect("day"), 23),
    ]);
    assert_eq!(days(&desk.env.report(1)), 0, "not before the day");

    let out = desk
        .env
        .ok(&["sla", "tick", "--force", "--now", &at(first, 0)]);
    assert!(
        out.contains(", 1 disclosure-day advisory mail(s);"),
        "{out}"
    );
    let d = desk.env.report(1);
    // Alice encrypted; Bob, without a key, a notice without the advisory.
    assert_eq!(days(&d), 2, "one per member, on the day");
    let logged: Vec<_> = d
        .events
        .iter()
        .filter(|e| e.kind == "team-mail-queued" && e.detail["kind"] == "disclosure-day")
        .collect();
    assert_eq!(logged.len(), 1, "one event for the day");
    assert_eq!(logged[0].detail["day"], first.to_string());
    let sent = desk.env.sent_of(&d, "disclosure-day");
    let to_alice = sent
        .iter()
        .find(|raw| header(raw, "To").is_some_and(|t| t.contains("alice@")))
        .expect("Alice's copy");
    let text = desk.alice.read(to_alice, &desk.team.fpr);
    assert!(
        text.contains(&format!("Disclosure date today: {first}")),
        "{text}"
    );
    assert!(
        text.contains("CVE-2026-4242"),
        "the advisory draft:\n{text}"
    );
    let to_bob = sent
        .iter()
        .find(|raw| header(raw, "To").is_some_and(|t| t.contains("bob@")))
        .expect("Bob's copy");
    assert!(!String::from_utf8_lossy(to_bob).contains("CVE-2026-4242"));

    for hour in [0, 12, 23] {
        desk.env
            .ok(&["sla", "tick", "--force", "--now", &at(first, hour)]);
    }
    desk.env.ok(&[
        "sla",
        "tick",
        "--force",
        "--now",
        &at(first.tomorrow().expect("day"), 9),
    ]);
    assert_eq!(days(&desk.env.report(1)), 2, "not twice");

    // A new date is a new disclosure day.
    let second = first.checked_add(3.days()).expect("date");
    desk.command(&format!("#disclose {second}\n"), "d2");
    desk.env
        .ok(&["sla", "tick", "--force", "--now", &at(second, 8)]);
    assert_eq!(days(&desk.env.report(1)), 4, "once more for the new date");

    // Disclosed before a third date: nothing more on that date.
    let third = second.checked_add(3.days()).expect("date");
    desk.command(&format!("#disclose {third}\n#state disclosed\n"), "d3");
    desk.env
        .ok(&["sla", "tick", "--force", "--now", &at(third, 8)]);
    let d = desk.env.report(1);
    assert_eq!(d.summary.state, ReportState::Disclosed);
    assert_eq!(days(&d), 4, "not for a disclosed report");
    assert_eq!(outbox(&d, "bulletin").len(), 1);
}

#[test]
fn over_the_real_mail_stack_the_bulletin_reaches_the_list() {
    let stack = MailStack::start();
    let list = unique("announce");
    let KeyedTeam {
        security,
        team,
        alice,
        env,
        ..
    } = KeyedTeam::start(&stack, &format!("[bulletin]\naddress = \"{list}\"\n"));
    let rita = unique("rita");
    let report = crate::common::mail(
        &rita,
        &security,
        &format!("{SUBJECT_MARK} SQL injection in search"),
        "report1@example.test",
        "",
    );
    stack.send(&rita, &security, &report);
    stack.wait_for(&security, "INBOX", 1, WAIT);
    env.run_once();

    let id = y("SEC-2026-0001");
    let internal = security.replace('@', &format!("+{id}-internal@"));
    let mail = alice.signed_mail(
        &internal,
        &format!("Re: [{id}] New report"),
        "#state triaged\n#state accepted\n#state fixed\n#fixed-in 2.4.1\n#state disclosed\n",
        &team,
        "publish1",
    );
    stack.send(&alice.address, &internal, &mail);
    stack.wait_for(&security, "INBOX", 2, WAIT);
    env.run_once();
    assert_eq!(env.report(1).summary.state, ReportState::Disclosed);

    let got = mailbox(&stack, &list, 1);
    let raw = &got[0];
    assert!(
        parse_subject(raw).is_some_and(|s| s.contains(&id) && s.contains("fixed in 2.4.1")),
        "{:?}",
        parse_subject(raw)
    );
    let (status, signed) = verify(&team, &body_text(raw));
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(&team.fpr)),
        "signed by the team key:\n{status}"
    );
    assert!(signed.contains("2.4.1"), "{signed}");
    let text = String::from_utf8_lossy(raw);
    for private in [rita.as_str(), SUBJECT_MARK, alice.address.as_str()] {
        assert!(
            !text.contains(private),
            "{private} reached the list:\n{text}"
        );
    }
}
