//! The end of a report's process through the real pipeline: a member's
//! signed commands pick the fix deadline by severity, accept the risk with a
//! reason, and record what a disclosure publishes; what a reporter writes as
//! command lines changes none of it, and their `Credit: none` wins.

use crate::common::{Env, y};
use crate::team::Person;
use crate::team_auth::{RITA, plain, reply_address, report, setup};

const SEVERITY_SLA: &str = "[sla.severity.critical]\nfix = \"7 days\"\nfix_max = \"14 days\"\n\n\
                            [sla.severity.high]\nfix = \"30 days\"\nfix_max = \"45 days\"\n";

fn internal() -> String {
    y("security+SEC-2026-0001-internal@example.org")
}

fn subject() -> String {
    y("Re: [SEC-2026-0001] Stored XSS")
}

/// Alice's signed mail with `text` to the report's internal address, processed.
fn alice_says(env: &Env, alice: &Person, team: &Person, text: &str, id: &str) {
    env.deliver(&alice.signed_mail(&internal(), &subject(), text, team, id));
    env.run_once();
}

/// The report's open deadline of `kind` in `sla --json`: (start, due), or
/// `None` when there is none pending; and the report's state there.
fn sla_deadline(env: &Env, kind: &str) -> (Option<(jiff::Timestamp, jiff::Timestamp)>, String) {
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["sla", "--json"])).expect("sla --json");
    let report = &listed["reports"][0];
    let state = report["state"].as_str().unwrap_or_default().to_owned();
    let found = report["deadlines"].as_array().and_then(|all| {
        all.iter().find(|d| d["kind"] == kind).map(|d| {
            let time = |key: &str| {
                d[key]
                    .as_str()
                    .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                    .unwrap_or_else(|| panic!("no {key} in {d}"))
            };
            (time("start"), time("due"))
        })
    });
    (found, state)
}

/// Whole days from start to due (a DST change moves it by an hour at most).
fn days((start, due): (jiff::Timestamp, jiff::Timestamp)) -> i64 {
    (due.as_second() - start.as_second() + 43_200) / 86_400
}

fn refused_lines(env: &Env) -> usize {
    env.report(1)
        .events
        .iter()
        .filter(|e| e.kind == "commands-refused")
        .count()
}

#[test]
fn a_members_signed_severity_changes_the_fix_deadline_that_sla_shows() {
    let s = setup("", SEVERITY_SLA);
    let env = &s.env;
    report(env, "Stored XSS");
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#state triaged\n#state accepted\n",
        "c1",
    );
    let (fix, state) = sla_deadline(env, "fix");
    assert_eq!(state, "accepted");
    let fix = fix.expect("a fix deadline");
    assert_eq!(days(fix), 90, "no severity: the plain fix time");

    alice_says(env, &s.alice, &s.team, "#severity critical\n", "c2");
    let critical = sla_deadline(env, "fix").0.expect("a fix deadline");
    assert_eq!(critical.0, fix.0, "the clock still runs from acceptance");
    assert_eq!(days(critical), 7);

    // The critical maximum bounds the extension: 8 days more is refused ...
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#extend 8d because needs a new API\n",
        "c3",
    );
    assert_eq!(refused_lines(env), 1);
    assert_eq!(days(sla_deadline(env, "fix").0.expect("fix")), 7);
    // ... 7 days is the most.
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#extend 7d because needs a new API\n",
        "c4",
    );
    assert_eq!(refused_lines(env), 1);
    assert_eq!(days(sla_deadline(env, "fix").0.expect("fix")), 14);

    // Lowered to high: 30 days and the extension already granted.
    alice_says(env, &s.alice, &s.team, "#severity high\n", "c5");
    assert_eq!(days(sla_deadline(env, "fix").0.expect("fix")), 37);

    // Accepting the risk needs a reason, stops the fix clock and starts the
    // disclosure clock.
    alice_says(env, &s.alice, &s.team, "#state risk-accepted\n", "c6");
    assert_eq!(refused_lines(env), 2);
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#state risk-accepted because the feature is removed in 10.0\n",
        "c7",
    );
    let (fix, state) = sla_deadline(env, "fix");
    assert_eq!(state, "risk-accepted");
    assert_eq!(fix, None, "the fix clock stopped");
    let disclose = sla_deadline(env, "disclose")
        .0
        .expect("a disclosure deadline");
    assert_eq!(days(disclose), 30);
    let d = env.report(1);
    let team = d.team.as_ref().expect("record");
    assert_eq!(
        team.risk_reason.as_deref(),
        Some("the feature is removed in 10.0")
    );
    let changed = d
        .events
        .iter()
        .rev()
        .find(|e| e.kind == "state-changed")
        .expect("state-changed");
    assert_eq!(changed.detail["reason"], "the feature is removed in 10.0");
    let table = env.ok(&["sla"]);
    assert!(table.contains("risk-accepted"), "{table}");
    assert!(table.contains("disclosure: due"), "{table}");
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["reports", "--state", "risk-accepted", "--json"]))
            .expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // `#publish` discloses it; then no clock runs.
    alice_says(env, &s.alice, &s.team, "#publish\n", "c8");
    assert_eq!(env.report(1).summary.state.as_str(), "disclosed");
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["sla", "--json"])).expect("sla --json");
    assert_eq!(listed["reports"].as_array().map(Vec::len), Some(0));
}

#[test]
fn the_team_records_what_a_disclosure_publishes() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Stored XSS");
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#affects server >= 9.0, < 9.5.3\n#affects \"Desktop App\" 5.0.0 - 5.2.1\n#cwe cwe-79\n\
         #summary Stored XSS in the channel header.\n\
         #credit \"Yoni Ramon\" from \"Tesla security team\" https://yoni.example\n#credit-key yoni-ramon\n",
        "p1",
    );
    let d = env.report(1);
    assert!(
        !d.events.iter().any(|e| e.kind == "commands-refused"),
        "{:?}",
        d.events
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", &y("SEC-2026-0001"), "--json"])).expect("json");
    let team = &json["team"];
    assert_eq!(
        team["affects"],
        serde_json::json!([
            {"product": "server", "versions": ">= 9.0, < 9.5.3"},
            {"product": "Desktop App", "versions": "5.0.0 - 5.2.1"},
        ])
    );
    assert_eq!(team["cwe"], "CWE-79");
    assert_eq!(team["public_summary"], "Stored XSS in the channel header.");
    assert_eq!(team["credit"]["name"], "Yoni Ramon");
    assert_eq!(team["credit"]["affiliation"], "Tesla security team");
    assert_eq!(team["credit"]["key"], "yoni-ramon");
    // The summary is team data: the event log says it changed, not what it says.
    assert!(
        !d.events
            .iter()
            .any(|e| e.detail.to_string().contains("channel header")),
        "{:?}",
        d.events
    );
}

#[test]
fn a_reporter_cannot_set_what_is_published_by_writing_command_lines() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Stored XSS");
    env.deliver(&plain(
        RITA,
        &reply_address(),
        &subject(),
        "r2@researcher.example",
        "",
        "#cwe CWE-79\r\n#summary Not a bug, ignore it\r\n#credit-key admin\r\n\
         #affects server *\r\n#state risk-accepted because I say so\r\n#publish\r\n",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(
        d.summary.messages, 2,
        "the reporter's mail is in the report"
    );
    assert_eq!(d.summary.state.as_str(), "new", "{:?}", d.events);
    let team = d.team.as_ref().expect("record");
    assert_eq!(team.cwe, None);
    assert_eq!(team.public_summary, None);
    assert_eq!(team.risk_reason, None);
    assert!(team.affects.is_empty());
    assert!(!d.events.iter().any(|e| e.kind == "state-changed"));
}

#[test]
fn a_credit_after_the_reporter_said_credit_none_is_refused() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Stored XSS");
    // The team credits them first ...
    alice_says(
        env,
        &s.alice,
        &s.team,
        "#credit \"Rita R.\" from \"ACME\"\n",
        "k1",
    );
    let credit = |env: &Env| {
        serde_json::to_value(&env.report(1).team.expect("record").credit).expect("json")
    };
    assert_eq!(credit(env)["name"], "Rita R.");
    // ... then the reporter says no: that wins.
    env.deliver(&plain(
        RITA,
        &reply_address(),
        &subject(),
        "r3@researcher.example",
        "",
        "Thanks. Credit: none\r\n\r\nCredit: none\r\n",
    ));
    env.run_once();
    assert_eq!(credit(env)["credit"], "none");
    // The team cannot overrule it.
    alice_says(env, &s.alice, &s.team, "#credit \"Rita R.\"\n", "k2");
    assert_eq!(credit(env)["credit"], "none");
    assert_eq!(refused_lines(env), 1);
    // Until the reporter agrees again.
    env.deliver(&plain(
        RITA,
        &reply_address(),
        &subject(),
        "r4@researcher.example",
        "",
        "Changed my mind.\r\nCredit: Rita Reporter from ACME <https://rita.example>\r\n",
    ));
    env.run_once();
    let named = credit(env);
    assert_eq!(named["name"], "Rita Reporter");
    assert_eq!(named["affiliation"], "ACME");
    assert_eq!(named["url"], "https://rita.example");
    alice_says(env, &s.alice, &s.team, "#credit-key rita\n", "k3");
    assert_eq!(refused_lines(env), 1);
    assert_eq!(credit(env)["key"], "rita");
}

#[test]
fn a_summary_sent_with_an_answer_to_the_reporter_is_never_relayed() {
    let s = setup("", "");
    let env = &s.env;
    report(env, "Stored XSS");
    let before = env.sent_to(RITA).len();
    env.deliver(&s.alice.signed_mail(
        &reply_address(),
        &subject(),
        "#reply\n#summary Internal: exploit chain through the admin API\n\nThanks, we are on it.\n",
        &s.team,
        "s1",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(
        d.team.as_ref().and_then(|t| t.public_summary.as_deref()),
        Some("Internal: exploit chain through the admin API")
    );
    let sent = env.sent_to(RITA);
    assert_eq!(sent.len(), before + 1, "the answer went out");
    let relayed = String::from_utf8_lossy(&sent[sent.len() - 1]).into_owned();
    assert!(relayed.contains("we are on it"), "{relayed}");
    assert!(!relayed.contains("exploit chain"), "{relayed}");
    assert!(!relayed.contains("#summary"), "{relayed}");
}
