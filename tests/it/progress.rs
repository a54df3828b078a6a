//! The reporter hears of the team's progress: a state change by a signed
//! command sends the reporter's update (encrypted to their key, threaded,
//! from the program address) in the same run, with a copy to the other members
//! and a line in the command reply; `#quiet`, forged mail, side exits and a
//! reporter whose key is unknown after writing encrypted get nothing out.

use disclosed::report::ReportState;
use disclosed::store::ReportDetail;
use jiff::ToSpan;

use crate::common::{Env, header, outbox, y};
use crate::pgp::{crlf, encrypted_payload};
use crate::team::Person;
use crate::team_auth::{
    RITA, SECURITY, Setup, deliver_forged_commands, reply_address, report, uninitialised,
};

const UPDATES: [&str; 5] = [
    "reporter-triaged",
    "reporter-accepted",
    "reporter-fixed",
    "reporter-risk-accepted",
    "reporter-disclosed",
];

struct Desk {
    env: Env,
    team: Person,
    alice: Person,
    rita: Person,
}

/// The team key, Alice (with her key) and Bob (without) as members, Rita's
/// key in the keyring when `rita_known`, and `extra` config.
fn desk(rita_known: bool, extra: &str) -> Desk {
    let keyring = if rita_known {
        "keyring = \"rita.asc\""
    } else {
        ""
    };
    let Setup { env, team, alice } = uninitialised(keyring, "", extra);
    let rita = Person::new("Rita", RITA);
    rita.gpg.import(&team.public());
    if rita_known {
        std::fs::write(env.path("rita.asc"), rita.public()).expect("rita's key");
    }
    env.init();
    Desk {
        env,
        team,
        alice,
        rita,
    }
}

impl Desk {
    /// Alice's signed mail with `text` to report 1's reply address.
    fn command(&self, text: &str, id: &str) -> ReportDetail {
        self.env.deliver(&self.alice.signed_mail(
            &reply_address(),
            &y("Re: [SEC-2026-0001] the report"),
            text,
            &self.team,
            id,
        ));
        self.env.run_once();
        self.env.report(1)
    }

    /// What the command reply to Alice says.
    fn reply(&self, d: &ReportDetail) -> String {
        let replies = self.env.sent_of(d, "command-reply");
        let last = replies.last().expect("a command reply");
        self.alice.read(last, &self.team.fpr)
    }
}

/// Every outbox row of report `d` that is a reporter update.
fn updates(d: &ReportDetail) -> Vec<String> {
    UPDATES
        .iter()
        .flat_map(|kind| outbox(d, kind))
        .map(|row| row.kind.clone())
        .collect()
}

/// The fix target for a report accepted at `at`: the fix clock runs 90
/// calendar days from acceptance, counted in program time.
fn fix_target(at: jiff::Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"))
        .date()
        .checked_add(90.days())
        .expect("date")
        .to_string()
}

#[test]
fn an_accepted_report_sends_the_reporter_an_encrypted_update_with_the_fix_date() {
    let desk = desk(true, "");
    report(&desk.env, "IDOR in invoices");
    let d = desk.command("#state triaged\n#state accepted\n", "a1");
    assert_eq!(d.summary.state, ReportState::Accepted);
    assert_eq!(
        updates(&d),
        ["reporter-accepted"],
        "one update, for the last state"
    );

    let sent = desk.env.sent_of(&d, "reporter-accepted");
    assert_eq!(sent.len(), 1, "written by the file transport");
    let raw = &sent[0];
    assert!(
        header(raw, "To").is_some_and(|to| to.contains(RITA)),
        "{:?}",
        header(raw, "To")
    );
    assert!(header(raw, "From").is_some_and(|f| f.contains(SECURITY)));
    assert_eq!(
        header(raw, "Reply-To").as_deref(),
        Some(reply_address().as_str())
    );
    assert_eq!(
        header(raw, "In-Reply-To").as_deref(),
        Some("<r1@researcher.example>")
    );
    let text = String::from_utf8_lossy(raw);
    assert!(text.contains("multipart/encrypted"), "{text}");
    assert!(
        !text.contains("working on a fix"),
        "nothing in clear:\n{text}"
    );

    let (plain, status) = desk.rita.gpg.decrypt(&encrypted_payload(&crlf(raw)));
    assert!(status.contains("DECRYPTION_OKAY"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(&desk.team.fpr)),
        "signed by the team key:\n{status}"
    );
    let plain = String::from_utf8_lossy(&plain);
    assert!(plain.contains("working on a fix"), "{plain}");
    let accepted_at = outbox(&d, "reporter-accepted")[0].created_at;
    let target = fix_target(accepted_at);
    assert!(
        plain.contains(&format!("fixed by {target}")),
        "no fix date {target} in:\n{plain}"
    );
    for internal in ["Alice", "alice@", "bob@"] {
        assert!(!plain.contains(internal), "{internal} in:\n{plain}");
    }

    // The team sees it: the author in the command reply, the others by copy.
    let reply = desk.reply(&d);
    assert!(
        reply.contains("Reporter update (reporter-accepted): queued, encrypted."),
        "{reply}"
    );
    assert_eq!(outbox(&d, "progress-copy").len(), 1, "Bob's copy");
    // It counts as the team's answer for the update cadence.
    let answer = d
        .events
        .iter()
        .find(|e| e.kind == "relayed-to-reporter")
        .expect("recorded as an answer to the reporter");
    assert_eq!(answer.detail["kind"], "reporter-accepted");
    assert_eq!(answer.actor, "alice@example.org");
}

/// The text of report `d`'s last `kind` update, decrypted by Rita.
fn update_text(desk: &Desk, d: &ReportDetail, kind: &str) -> String {
    let sent = desk.env.sent_of(d, kind);
    let raw = sent.last().expect("the update was written");
    desk.rita.read(raw, &desk.team.fpr)
}

#[test]
fn the_disclosed_update_names_where_the_advisory_is_published() {
    // The site's address: the advisory is at {base_url}/advisories/ID.html.
    let desk = desk(
        true,
        "[publish]\nbase_url = \"https://example.org/security\"\n",
    );
    report(&desk.env, "IDOR in invoices");
    desk.command("#state triaged\n#state accepted\n#state fixed\n", "u1");
    let d = desk.command("#publish\n", "u2");
    assert_eq!(d.summary.state, ReportState::Disclosed);
    let text = update_text(&desk, &d, "reporter-disclosed");
    let url = y("https://example.org/security/advisories/SEC-2026-0001.html");
    assert!(text.contains(&format!("Our advisory: {url}")), "{text}");

    // `[advisory] url` names it where the team publishes advisories itself.
    let desk = desk_with_advisory_url();
    report(&desk.env, "IDOR in invoices");
    desk.command("#state triaged\n#state accepted\n#state fixed\n", "v1");
    let d = desk.command("#publish\n", "v2");
    let text = update_text(&desk, &d, "reporter-disclosed");
    let url = y("https://advisories.example.org/SEC-2026-0001");
    assert!(text.contains(&format!("Our advisory: {url}")), "{text}");
}

fn desk_with_advisory_url() -> Desk {
    desk(
        true,
        "[publish]\nbase_url = \"https://example.org/security\"\n\n\
         [advisory]\nvendor = \"Example Org\"\nurl = \"https://advisories.example.org/{id}\"\n",
    )
}

#[test]
fn without_a_site_or_advisory_url_the_disclosed_update_names_no_address() {
    let desk = desk(true, "");
    report(&desk.env, "IDOR in invoices");
    desk.command("#state triaged\n#state accepted\n#state fixed\n", "w1");
    let d = desk.command("#publish\n", "w2");
    let text = update_text(&desk, &d, "reporter-disclosed");
    assert!(text.contains("is now public"), "{text}");
    assert!(!text.contains("Our advisory"), "{text}");
}

#[test]
fn a_quiet_state_change_sends_the_reporter_nothing() {
    let desk = desk(true, "");
    report(&desk.env, "IDOR in invoices");
    let d = desk.command("#state triaged\n#state accepted\n#quiet\n", "q1");
    assert_eq!(d.summary.state, ReportState::Accepted);
    assert!(updates(&d).is_empty(), "{:?}", updates(&d));
    assert!(outbox(&d, "progress-copy").is_empty());
    assert!(desk.reply(&d).contains("Reporter update: none (#quiet)."));

    // Triage tells nobody by default; `#notify` sends it.
    let desk = self::desk(true, "");
    report(&desk.env, "IDOR in invoices");
    let d = desk.command("#state triaged\n", "t1");
    assert!(updates(&d).is_empty());
    assert!(
        desk.reply(&d)
            .contains("[notify_reporter] triaged = false (add #notify to send it)")
    );
    let d = desk.command("#state accepted\n#state fixed\n#state accepted\n", "t2");
    assert_eq!(updates(&d), ["reporter-accepted"]);
    let desk = self::desk(
        true,
        "[notify_reporter]\ntriaged = true\naccepted = false\n",
    );
    report(&desk.env, "IDOR in invoices");
    let d = desk.command("#state triaged\n", "t3");
    assert_eq!(
        updates(&d),
        ["reporter-triaged"],
        "the config turns triage on"
    );
    let d = desk.command("#state accepted\n", "t4");
    assert_eq!(updates(&d), ["reporter-triaged"], "and acceptance off");
    let d = desk.command("#state fixed\n#fixed-in 3.1.1\n", "t5");
    let fixed = desk.env.sent_of(&d, "reporter-fixed");
    assert_eq!(fixed.len(), 1);
    let (plain, _) = desk.rita.gpg.decrypt(&encrypted_payload(&crlf(&fixed[0])));
    let plain = String::from_utf8_lossy(&plain);
    assert!(plain.contains("fixed in 3.1.1"), "{plain}");
    assert!(plain.contains("co-ordinate the disclosure"), "{plain}");
}

#[test]
fn a_forged_command_mail_sends_the_reporter_no_update() {
    let desk = desk(true, "[notify_reporter]\ntriaged = true\n");
    report(&desk.env, "IDOR in invoices");
    deliver_forged_commands(&desk.env, &desk.team, "#state triaged\n#notify\n");
    desk.env.run_once();
    let d = desk.env.report(1);
    assert_eq!(d.summary.state, ReportState::New, "nothing applied");
    assert!(updates(&d).is_empty(), "{:?}", updates(&d));
    assert!(outbox(&d, "progress-copy").is_empty());
    assert_eq!(
        desk.env.sent_to(RITA).len(),
        1,
        "Rita got her acknowledgement only"
    );
}

#[test]
fn a_side_exit_sends_no_progress_update() {
    let all = "[notify_reporter]\ntriaged = true\naccepted = true\nfixed = true\n\
               risk-accepted = true\ndisclosed = true\n";
    for exit in ["spam", "rejected", "out-of-scope"] {
        let desk = desk(true, all);
        report(&desk.env, "IDOR in invoices");
        let d = desk.command(&format!("#state {exit}\n"), "x1");
        assert_eq!(d.summary.state.as_str(), exit);
        assert!(updates(&d).is_empty(), "{exit}: {:?}", updates(&d));
        // `#notify` cannot force one: the whole mail is refused.
        let d = desk.command("#state triaged\n#state rejected\n#notify\n", "x2");
        assert_eq!(d.summary.state.as_str(), exit, "nothing applied");
        assert!(updates(&d).is_empty());
        let reply = desk.reply(&d);
        assert!(
            reply.contains("no update when a report becomes rejected"),
            "{reply}"
        );
    }
}

#[test]
fn a_reporter_who_wrote_encrypted_without_a_known_key_gets_no_update_in_clear() {
    let desk = desk(false, "");
    // Rita writes encrypted and signed, without her key: nothing of hers is known.
    desk.env.deliver(&desk.rita.signed_mail(
        SECURITY,
        "Secret finding",
        "The details of the secret finding.\n",
        &desk.team,
        "r1",
    ));
    desk.env.run_once();
    let d = desk.command("#state triaged\n#state accepted\n", "h1");
    assert_eq!(d.summary.state, ReportState::Accepted);
    let rows = outbox(&d, "reporter-accepted");
    assert_eq!(rows.len(), 1, "queued, to go once a key is known");
    assert_eq!(rows[0].status, "needs-key");
    for raw in desk.env.sent_to(RITA) {
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("working on a fix"), "sent in clear:\n{text}");
        assert!(!text.contains("Secret finding"), "sent in clear:\n{text}");
    }
    assert!(desk.env.sent_of(&d, "reporter-accepted").is_empty());
    assert!(
        desk.reply(&d)
            .contains("held until a key of the reporter is known")
    );
}
