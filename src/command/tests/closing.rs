//! The commands that prepare a disclosure: risk acceptance, `#publish`,
//! `#affects`, `#cwe`, `#summary`, `#credit` with an affiliation and
//! `#credit-key`, and the per-severity `#extend` maximum.

use super::*;
use crate::report::Affected;

fn on(state: ReportState) -> Scope {
    Scope::Report(report(state))
}

fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

fn affected(product: &str, versions: &str) -> Affected {
    Affected {
        product: product.to_owned(),
        versions: versions.to_owned(),
    }
}

#[test]
fn risk_acceptance_carries_its_reason() {
    let changes = plan_body(
        "#state risk-accepted because the feature is removed in 10.0\n",
        &on(ReportState::Accepted),
    )
    .expect("allowed");
    assert_eq!(
        changes,
        [Change::State {
            from: ReportState::Accepted,
            to: ReportState::RiskAccepted,
            reason: Some("the feature is removed in 10.0".to_owned()),
        }]
    );
    assert_eq!(
        describe(&changes),
        ["state: accepted → risk-accepted because the feature is removed in 10.0"]
    );
    // "because" may be left out.
    assert_eq!(
        parse("#state risk-accepted low impact, mitigated by default config"),
        Ok(Command::RiskAccept {
            reason: "low impact, mitigated by default config".to_owned()
        })
    );
}

#[test]
fn risk_acceptance_without_a_reason_is_refused() {
    for line in [
        "#state risk-accepted",
        "#state risk-accepted because",
        "#state Risk-Accepted   because   ",
    ] {
        let reason = refused(line, &on(ReportState::Accepted));
        assert!(reason.contains("reason is required"), "{line}: {reason}");
    }
    let long = format!("#state risk-accepted because {}", "x".repeat(501));
    assert!(refused(&long, &on(ReportState::Accepted)).contains("at most 500"));
    assert!(
        refused(
            "#state risk-accepted because ok\u{202E}evil",
            &on(ReportState::Accepted)
        )
        .contains("invisible")
    );
}

#[test]
fn risk_acceptance_follows_the_lifecycle() {
    assert!(plan_body("#state risk-accepted because x", &on(ReportState::Triaged)).is_ok());
    assert_eq!(
        refused(
            "#state risk-accepted because x",
            &on(ReportState::Acknowledged)
        ),
        "cannot go from acknowledged to risk-accepted; allowed next: triaged, accepted, rejected, out-of-scope, spam (or `#duplicate ID`)"
    );
    // Other states take no reason.
    assert!(
        refused("#state triaged because x", &on(ReportState::New)).contains("not a report state")
    );
}

#[test]
fn publish_discloses_only_a_fixed_or_risk_accepted_report() {
    for from in [ReportState::Fixed, ReportState::RiskAccepted] {
        let changes = plan_body("#publish\n", &on(from)).expect("allowed");
        assert_eq!(
            changes,
            [Change::State {
                from,
                to: ReportState::Disclosed,
                reason: None,
            }]
        );
    }
    for from in [
        ReportState::New,
        ReportState::Triaged,
        ReportState::Accepted,
        ReportState::Disclosed,
        ReportState::Rejected,
    ] {
        assert!(
            refused("#publish", &on(from)).contains("fixed or risk-accepted"),
            "{from}"
        );
    }
    assert_eq!(
        parse("#publish now"),
        Err(CommandError::UnexpectedArgument {
            command: "#publish",
            argument: "now".to_owned()
        })
    );
    // In one mail: accept the risk, then publish.
    assert!(
        plan_body(
            "#state risk-accepted because no fix is possible\n#publish\n",
            &on(ReportState::Accepted)
        )
        .is_ok()
    );
}

#[test]
fn affects_lines_accumulate_and_clear() {
    let changes = plan_body(
        "#affects server < 9.5.3\n#affects server >=9.0,<9.5.3\n#affects \"Desktop App\" 5.0.0 - 5.2.1\n#affects server none\n#affects mobile *\n",
        &on(ReportState::Triaged),
    )
    .expect("allowed");
    let last = changes.last().expect("changes");
    assert_eq!(
        last,
        &Change::Affects {
            line: Affects::Add(affected("mobile", "*")),
            all: vec![
                affected("Desktop App", "5.0.0 - 5.2.1"),
                affected("mobile", "*")
            ],
        }
    );
    assert_eq!(
        describe(&changes[..2]),
        [
            "affects: server < 9.5.3 (now: server < 9.5.3)",
            "affects: server >= 9.0, < 9.5.3 (now: server < 9.5.3; server >= 9.0, < 9.5.3)",
        ]
    );
    let cleared = plan_body("#affects none\n", &on(ReportState::Triaged)).expect("allowed");
    assert_eq!(
        cleared,
        [Change::Affects {
            line: Affects::ClearAll,
            all: vec![]
        }]
    );
}

#[test]
fn version_ranges() {
    let good = [
        ("< 9.5.3", "< 9.5.3"),
        (">= 9.0, < 9.5.3", ">= 9.0, < 9.5.3"),
        ("9.5.0 - 9.5.2", "9.5.0 - 9.5.2"),
        ("= 9.1.0", "= 9.1.0"),
        ("9.1.0", "= 9.1.0"),
        ("==1.0.0-rc.1", "= 1.0.0-rc.1"),
        ("*", "*"),
        ("<=2024.01+build5", "<= 2024.01+build5"),
    ];
    for (text, canonical) in good {
        assert_eq!(
            parse::version_range(text).as_deref(),
            Ok(canonical),
            "{text}"
        );
    }
    for bad in [
        "",
        "=> 9.0",
        "< ",
        "9.0 -",
        "- 9.0",
        "<9.0; rm -rf",
        "< 9.0, , > 1",
        "< 1, < 2, < 3, < 4, < 5",
        "< .9",
        "<9.0\u{202E}",
        "latest version",
    ] {
        assert!(parse::version_range(bad).is_err(), "{bad:?}");
    }
    let long = format!("< {}", "1".repeat(65));
    assert!(parse::version_range(&long).is_err());
}

#[test]
fn bad_affects_lines_say_why() {
    let table = [
        ("#affects server", "versions are missing"),
        ("#affects \"server 9", "closing quote"),
        ("#affects server latest", "not a version range"),
        ("#affects serv\u{7}er < 1", "control characters"),
        ("#affects ser\u{200B}ver < 1", "invisible"),
    ];
    for (line, expected) in table {
        let err = parse(line).expect_err(line).to_string();
        assert!(err.contains(expected), "{line:?}: {err}");
    }
    let long = format!("#affects {} < 1", "p".repeat(65));
    assert!(
        parse(&long)
            .expect_err("long")
            .to_string()
            .contains("at most 64")
    );
}

#[test]
fn affects_refuses_repeats_unknown_products_and_endless_lists() {
    let listed = Scope::Report(ReportFacts {
        affects: vec![affected("server", "< 9.5.3")],
        ..report(ReportState::Triaged)
    });
    assert_eq!(
        refused("#affects server < 9.5.3", &listed),
        "server < 9.5.3 is already listed"
    );
    assert_eq!(
        refused("#affects desktop none", &listed),
        "desktop is not listed; listed: server"
    );
    let full = Scope::Report(ReportFacts {
        affects: (0..plan::MAX_AFFECTS)
            .map(|i| affected(&format!("p{i}"), "*"))
            .collect(),
        ..report(ReportState::Triaged)
    });
    assert!(refused("#affects more *", &full).contains("at most 50"));
}

#[test]
fn cwe_ids() {
    assert_eq!(
        parse("#cwe CWE-79"),
        Ok(Command::Cwe(Some("CWE-79".to_owned())))
    );
    assert_eq!(
        parse("#cwe cwe-0079"),
        Ok(Command::Cwe(Some("CWE-79".to_owned())))
    );
    assert_eq!(parse("#cwe none"), Ok(Command::Cwe(None)));
    for bad in [
        "#cwe 79",
        "#cwe CWE-",
        "#cwe CWE-0",
        "#cwe CWE-12345",
        "#cwe CWE-79a",
        "#cwe CVE-2026-1234",
        "#cwe CWE-79 CWE-80",
    ] {
        assert!(
            parse(bad)
                .expect_err(bad)
                .to_string()
                .contains("not a CWE id"),
            "{bad}"
        );
    }
    let changes = plan_body("#cwe CWE-79\n#cwe none\n", &on(ReportState::Triaged)).expect("ok");
    assert_eq!(describe(&changes), ["CWE: CWE-79", "CWE: cleared"]);
}

#[test]
fn summaries_are_bounded_and_plain() {
    assert_eq!(
        parse("#summary Stored XSS in the channel header allows account takeover."),
        Ok(Command::Summary(Some(
            "Stored XSS in the channel header allows account takeover.".to_owned()
        )))
    );
    assert_eq!(parse("#summary none"), Ok(Command::Summary(None)));
    let long = format!("#summary {}", "a".repeat(parse::MAX_SUMMARY + 1));
    let err = parse(&long).expect_err("long").to_string();
    assert!(err.contains("at most 2000"), "{err}");
    assert!(err.len() < 300, "the long text is not echoed: {err}");
    assert!(
        parse("#summary fine\u{202E}txt.exe")
            .expect_err("bidi")
            .to_string()
            .contains("invisible")
    );
}

#[test]
fn a_summary_line_is_never_relayed_to_the_reporter() {
    let body = "#reply\n#summary Internal wording: exploit chain via SEC-2026-0012\n\nThanks, fixed in 3.1.1.\n";
    let (reply, without) = take_reply_directive(body);
    assert!(reply);
    let block = parse_block(&without, PREFIX);
    assert_eq!(block.entries.len(), 1);
    assert!(!block.rest.contains("exploit chain"));
    assert_eq!(block.rest, "Thanks, fixed in 3.1.1.\n");
}

#[test]
fn credit_with_an_affiliation() {
    let credit = |name: &str, affiliation: Option<&str>, url: Option<&str>| {
        Ok(Command::Credit(Some(Credit {
            name: name.to_owned(),
            affiliation: affiliation.map(str::to_owned),
            url: url.map(str::to_owned),
        })))
    };
    let table = [
        (
            "#credit \"Yoni Ramon\" from \"Tesla security team\" https://yoni.example",
            credit(
                "Yoni Ramon",
                Some("Tesla security team"),
                Some("https://yoni.example"),
            ),
        ),
        (
            "#credit \"Yoni Ramon\" from Tesla security team",
            credit("Yoni Ramon", Some("Tesla security team"), None),
        ),
        (
            "#credit Jane Doe from ACME https://jane.example",
            credit("Jane Doe", Some("ACME"), Some("https://jane.example")),
        ),
        (
            "#credit \"Jane from Mars\" https://jane.example",
            credit("Jane from Mars", None, Some("https://jane.example")),
        ),
    ];
    for (line, expected) in table {
        assert_eq!(parse(line), expected, "{line}");
    }
    let changes = plan_body(
        "#credit \"Yoni Ramon\" from \"Tesla security team\" https://yoni.example\n",
        &on(ReportState::Triaged),
    )
    .expect("ok");
    assert_eq!(
        describe(&changes),
        ["credit: Yoni Ramon from Tesla security team (https://yoni.example)"]
    );
}

#[test]
fn a_credit_name_or_affiliation_with_hidden_characters_is_refused() {
    for line in [
        "#credit \"Jane\u{202E}eoD\"",
        "#credit \"Jane\" from \"AC\u{200B}ME\"",
        "#credit Jane from AC\u{7}ME",
    ] {
        let err = parse(line).expect_err(line).to_string();
        assert!(err.contains("invisible"), "{line:?}: {err}");
    }
    let long = format!("#credit \"Jane\" from \"{}\"", "A".repeat(101));
    assert!(
        parse(&long)
            .expect_err("long")
            .to_string()
            .contains("at most 100")
    );
    let err = parse("#credit \"Jane\" from")
        .expect_err("no affiliation")
        .to_string();
    assert!(err.contains("NAME [from AFFILIATION]"), "{err}");
}

#[test]
fn a_credit_after_the_reporter_declined_is_refused() {
    let declined = Scope::Report(ReportFacts {
        credit_declined: true,
        ..report(ReportState::Fixed)
    });
    let reason = refused("#credit \"Jane Doe\" https://jane.example", &declined);
    assert!(reason.contains("asked not to be credited"), "{reason}");
    // The team may still record that there is no credit.
    assert!(plan_body("#credit none", &declined).is_ok());
}

#[test]
fn credit_keys_need_a_credit() {
    assert_eq!(
        parse("#credit-key jane-doe"),
        Ok(Command::CreditKey(Some("jane-doe".to_owned())))
    );
    assert_eq!(
        parse("#credit-key \"Jane Doe\""),
        Ok(Command::CreditKey(Some("Jane Doe".to_owned())))
    );
    assert_eq!(parse("#credit-key none"), Ok(Command::CreditKey(None)));
    assert!(parse("#credit-key ja\u{202E}ne").is_err());
    assert!(parse(&format!("#credit-key {}", "k".repeat(101))).is_err());
    assert!(refused("#credit-key jane", &on(ReportState::Fixed)).contains("no credit to key"));
    let changes = plan_body(
        "#credit \"Jane Doe\"\n#credit-key jane\n",
        &on(ReportState::Fixed),
    )
    .expect("a credit in the same mail");
    assert_eq!(describe(&changes)[1], "credit key: jane");
}

#[test]
fn control_address_refuses_the_new_report_commands() {
    for line in [
        "#publish",
        "#affects server *",
        "#cwe CWE-79",
        "#summary x",
        "#credit-key x",
        "#state risk-accepted because x",
    ] {
        assert!(
            refused(line, &Scope::Control).contains("changes one report"),
            "{line}"
        );
    }
}

/// Critical 7 days up to 14; high 30 up to 45; others the plain 90/120.
fn severity_sla() -> Sla {
    let days = |n| PolicyDuration::Calendar(Span::new().days(n));
    let mut sla = default_sla();
    sla.by_severity.insert(
        Severity::Critical,
        crate::config::FixPolicy {
            fix: days(7),
            fix_max: days(14),
        },
    );
    sla.by_severity.insert(
        Severity::High,
        crate::config::FixPolicy {
            fix: days(30),
            fix_max: days(45),
        },
    );
    sla
}

fn accepted(severity: Option<Severity>, cvss: Option<Severity>, extension_days: u32) -> Scope {
    Scope::Report(ReportFacts {
        severity,
        cvss_severity: cvss,
        extension_days,
        ..report(ReportState::Accepted)
    })
}

#[test]
fn extend_is_bounded_by_the_severitys_own_maximum() {
    let sla = severity_sla();
    // (severity, CVSS severity, already extended, asked, allowed)
    let table = [
        (Some(Severity::Critical), None, 0, 7, true),
        (Some(Severity::Critical), None, 0, 8, false),
        (Some(Severity::Critical), None, 5, 2, true),
        (Some(Severity::Critical), None, 5, 3, false),
        (Some(Severity::High), None, 0, 15, true),
        (Some(Severity::High), None, 0, 16, false),
        (Some(Severity::Medium), None, 0, 30, true),
        (Some(Severity::Medium), None, 0, 31, false),
        (None, None, 0, 30, true),
        (None, Some(Severity::Critical), 0, 8, false),
        (Some(Severity::High), Some(Severity::Critical), 0, 15, true),
    ];
    for (severity, cvss, already, asked, allowed) in table {
        let body = format!("#extend {asked}d because the patch needs review\n");
        let outcome = plan_with(&body, &accepted(severity, cvss, already), &sla);
        assert_eq!(
            outcome.is_ok(),
            allowed,
            "{severity:?} {cvss:?} {already}+{asked}: {outcome:?}"
        );
    }
    let reason = match plan_with(
        "#extend 8d because x\n",
        &accepted(Some(Severity::Critical), None, 0),
        &sla,
    ) {
        Err(refusals) => refusals[0].reason.to_string(),
        Ok(changes) => panic!("accepted: {changes:?}"),
    };
    assert_eq!(
        reason,
        "would make the fix deadline 15 days, beyond sla.severity.critical.fix_max of 14 days; at most 7 days more can be granted"
    );
}

#[test]
fn a_severity_raised_in_the_same_mail_bounds_the_extension() {
    let sla = severity_sla();
    let refusals = plan_with(
        "#severity critical\n#extend 30d because x\n",
        &accepted(None, None, 0),
        &sla,
    )
    .expect_err("critical allows 7 more days");
    assert_eq!(refusals[0].line, "#extend 30d because x");
    assert!(plan_with("#extend 30d because x\n", &accepted(None, None, 0), &sla).is_ok());
}
