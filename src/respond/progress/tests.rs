//! The decision table (state × `[notify_reporter]` × `#notify`/`#quiet`), and
//! what each update says and does not say.

use jiff::civil::date;

use super::*;
use crate::report::ReportId;

fn all_on() -> NotifyReporter {
    NotifyReporter {
        triaged: true,
        accepted: true,
        fixed: true,
        risk_accepted: true,
        disclosed: true,
    }
}

fn all_off() -> NotifyReporter {
    NotifyReporter {
        triaged: false,
        accepted: false,
        fixed: false,
        risk_accepted: false,
        disclosed: false,
    }
}

#[test]
fn the_decision_follows_the_state_the_config_and_the_flag() {
    use Decision::{Send, Skip as S};
    use ReportState::*;
    let defaults = NotifyReporter::default();
    let force = Some(Notify::Force);
    let quiet = Some(Notify::Quiet);
    let u = |s| Update::for_state(s).expect("an update state");
    #[rustfmt::skip]
    let table: &[(Option<ReportState>, NotifyReporter, Option<Notify>, Decision)] = &[
        // The defaults: everything but triage.
        (Some(Triaged), defaults, None, S(Skip::Config(u(Triaged)))),
        (Some(Accepted), defaults, None, Send(u(Accepted))),
        (Some(Fixed), defaults, None, Send(u(Fixed))),
        (Some(RiskAccepted), defaults, None, Send(u(RiskAccepted))),
        (Some(Disclosed), defaults, None, Send(u(Disclosed))),
        // `#notify` sends what the config would not.
        (Some(Triaged), defaults, force, Send(u(Triaged))),
        (Some(Fixed), all_off(), force, Send(u(Fixed))),
        // `#quiet` holds back what the config would send.
        (Some(Accepted), defaults, quiet, S(Skip::Quiet(u(Accepted)))),
        (Some(Disclosed), all_on(), quiet, S(Skip::Quiet(u(Disclosed)))),
        (Some(Triaged), all_on(), None, Send(u(Triaged))),
        (Some(Accepted), all_off(), None, S(Skip::Config(u(Accepted)))),
        // No state change, or one without an update: nothing, whatever the flag.
        (None, all_on(), force, S(Skip::NoStateChange)),
        (None, all_on(), None, S(Skip::NoStateChange)),
    ];
    for (reached, config, flag, expected) in table {
        assert_eq!(
            decide(*reached, config, *flag),
            *expected,
            "{reached:?} {config:?} {flag:?}"
        );
    }
}

#[test]
fn side_exits_and_early_states_never_tell_the_reporter() {
    for state in [
        ReportState::New,
        ReportState::Acknowledged,
        ReportState::Rejected,
        ReportState::Duplicate,
        ReportState::OutOfScope,
        ReportState::Spam,
    ] {
        for flag in [None, Some(Notify::Force), Some(Notify::Quiet)] {
            assert_eq!(
                decide(Some(state), &all_on(), flag),
                Decision::Skip(Skip::NoUpdate(state)),
                "{state} {flag:?}"
            );
        }
    }
}

#[test]
fn every_update_state_has_its_template() {
    let names: Vec<&str> = crate::respond::templates::names().collect();
    for state in ReportState::ALL {
        if let Some(update) = Update::for_state(state) {
            assert_eq!(update.state(), state);
            assert!(names.contains(&update.template()), "{}", update.template());
        }
    }
}

fn record() -> ReportRecord {
    let mut r = ReportRecord::sample(42, "2026-12-01T10:00:00Z".parse().expect("time"));
    r.id = ReportId::new("SEC", 2026, 42);
    r.subject = "XSS in search".into();
    r.reporter = "rita@researcher.example".into();
    r.fixed_in = Some("3.1.1".into());
    r.credit = Credit::Named {
        name: "Rita Researcher".into(),
        affiliation: Some("ACME Red Team".into()),
        url: Some("https://rita.example".into()),
        key: None,
    };
    r.severity = Some(crate::report::Severity::Critical);
    r.assignee = Some("alice@example.org".into());
    r
}

fn facts() -> Facts {
    Facts {
        fix_target: Some(date(2027, 3, 4)),
        disclosure_date: Some(date(2027, 4, 3)),
        risk_reason: Some("only an administrator can reach it".into()),
        advisory_url: Some("https://example.org/advisories/SEC-2026-0042.html".into()),
    }
}

fn config() -> Config {
    Config::parse(
        crate::config::tests::MINIMAL,
        std::path::Path::new("/etc/disclosed/config.toml"),
    )
    .expect("valid")
}

fn body(update: Update, record: &ReportRecord, facts: &Facts) -> String {
    let now = "2026-12-04T10:00:00Z".parse().expect("time");
    let (mail, text) = compose(
        &config(),
        &Templates::builtin(),
        update,
        record,
        facts,
        Some("rita-1@researcher.example"),
        now,
    )
    .expect("composes");
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(
        raw.contains("In-Reply-To: <rita-1@researcher.example>"),
        "{raw}"
    );
    assert!(
        raw.contains("Reply-To: security+SEC-2026-0042@example.org"),
        "{raw}"
    );
    assert!(
        raw.contains("Subject: [SEC-2026-0042] Re: XSS in search"),
        "{raw}"
    );
    assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
    assert_eq!(mail.recipients, ["rita@researcher.example"]);
    text
}

#[test]
fn each_update_says_its_own_facts() {
    let r = record();
    let f = facts();
    let cases: &[(Update, &[&str])] = &[
        (Update::Triaged, &["first review", "SEC-2026-0042"]),
        (
            Update::Accepted,
            &["working on a fix", "fixed by 2027-03-04"],
        ),
        (
            Update::Fixed,
            &[
                "fixed in 3.1.1",
                "disclose it publicly on 2027-04-03",
                "co-ordinate the disclosure",
            ],
        ),
        (
            Update::RiskAccepted,
            &["accept the risk", "only an administrator can reach it"],
        ),
        (
            Update::Disclosed,
            &[
                "https://example.org/advisories/SEC-2026-0042.html",
                "You are credited as Rita Researcher from ACME Red Team (https://rita.example).",
            ],
        ),
    ];
    for (update, expected) in cases {
        let text = body(*update, &r, &f);
        for e in *expected {
            assert!(text.contains(e), "{update:?}: no {e:?} in\n{text}");
        }
    }
}

#[test]
fn an_update_says_nothing_of_the_team_or_the_severity() {
    let r = record();
    for update in [
        Update::Triaged,
        Update::Accepted,
        Update::Fixed,
        Update::RiskAccepted,
        Update::Disclosed,
    ] {
        let text = body(update, &r, &facts());
        for internal in ["alice", "critical", "Critical", "rita@researcher.example"] {
            assert!(
                !text.contains(internal),
                "{update:?} shows {internal:?}:\n{text}"
            );
        }
        // Only its own facts: the fix date is the accepted update's alone.
        if update != Update::Accepted {
            assert!(!text.contains("2027-03-04"), "{update:?}:\n{text}");
        }
    }
}

#[test]
fn a_reporter_who_declined_credit_is_not_named_in_the_disclosed_update() {
    let mut r = record();
    for credit in [Credit::None, Credit::Unknown] {
        r.credit = credit;
        let text = body(Update::Disclosed, &r, &facts());
        assert!(!text.contains("credited"), "{text}");
        assert!(!text.contains("Rita Researcher"), "{text}");
    }
    r.credit = Credit::Named {
        name: "Rita".into(),
        affiliation: None,
        url: None,
        key: None,
    };
    let text = body(Update::Disclosed, &r, &Facts::default());
    assert!(text.contains("You are credited as Rita."), "{text}");
    assert!(
        !text.contains("advisory"),
        "no URL, no advisory line:\n{text}"
    );
}

#[test]
fn missing_facts_leave_out_their_sentences() {
    let mut r = record();
    r.fixed_in = None;
    let text = body(Update::Accepted, &r, &Facts::default());
    assert!(!text.contains("fixed by"), "{text}");
    let text = body(Update::Fixed, &r, &Facts::default());
    assert!(text.contains("The issue is fixed."), "{text}");
    assert!(text.contains("not set a date"), "{text}");
    let text = body(Update::RiskAccepted, &r, &Facts::default());
    assert!(!text.contains("Our reason"), "{text}");
}

#[test]
fn the_command_reply_line_says_what_became_of_the_update() {
    let queued = Outcome::Queued {
        update: Update::Accepted,
        protection: Protection::Encrypt,
        message_id: "m@example.org".into(),
        text: String::new(),
    };
    assert_eq!(
        queued.describe(),
        "Reporter update (reporter-accepted): queued, encrypted."
    );
    let held = Outcome::Queued {
        update: Update::Accepted,
        protection: Protection::Hold,
        message_id: "m@example.org".into(),
        text: String::new(),
    };
    assert!(
        held.describe().contains("held until a key"),
        "{}",
        held.describe()
    );
    let skipped = Outcome::Skipped(Skip::Config(Update::Triaged));
    assert_eq!(
        skipped.describe(),
        "Reporter update: none ([notify_reporter] triaged = false (add #notify to send it))."
    );
}

#[test]
fn an_override_replaces_an_update_and_cannot_reach_internal_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("reporter-accepted.txt.hbs");
    std::fs::write(&path, "Fix for {{report_id}} by {{fix_target}}.\n").expect("write");
    let templates = Templates::load(Some(dir.path())).expect("loads");
    let now = "2026-12-04T10:00:00Z".parse().expect("time");
    let (_, text) = compose(
        &config(),
        &templates,
        Update::Accepted,
        &record(),
        &facts(),
        None,
        now,
    )
    .expect("composes");
    assert_eq!(text, "Fix for SEC-2026-0042 by 2027-03-04.\n");

    // What the update is not given, an override cannot show: strict mode
    // refuses it when the templates are loaded.
    for internal in ["severity", "assignee", "reporter", "notes"] {
        std::fs::write(&path, format!("{{{{{internal}}}}}\n")).expect("write");
        let errors = Templates::load(Some(dir.path())).expect_err("internal variable loaded");
        assert!(errors[0].to_string().contains(internal), "{errors:?}");
    }
}
