//! `plan`: every rule, every refusal, and all-or-none.

use super::*;

fn on(state: ReportState) -> Scope {
    Scope::Report(report(state))
}

fn accepted_with(extension_days: u32) -> Scope {
    Scope::Report(ReportFacts {
        extension_days,
        ..report(ReportState::Accepted)
    })
}

fn describe(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::describe).collect()
}

#[test]
fn chained_transitions_apply_in_order() {
    let changes = plan_body(
        "#state triaged\n#state accepted\n#state fixed\n",
        &on(ReportState::Acknowledged),
    )
    .expect("allowed");
    assert_eq!(
        describe(&changes),
        [
            "state: acknowledged → triaged",
            "state: triaged → accepted",
            "state: accepted → fixed",
        ]
    );
}

#[test]
fn all_or_none() {
    let refusals = plan_body(
        "#severity high\n#state fixed\n#cve CVE-2026-1\n#assign none\n",
        &on(ReportState::Acknowledged),
    )
    .expect_err("two bad lines");
    let lines: Vec<&str> = refusals.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(lines, ["#state fixed", "#cve CVE-2026-1"]);
    assert_eq!(
        refusals[0].to_string(),
        "#state fixed: cannot go from acknowledged to fixed; allowed next: triaged, accepted, rejected, out-of-scope, spam (or `#duplicate ID`)"
    );
}

#[test]
fn a_refused_transition_does_not_move_the_state_for_later_lines() {
    // `fixed` is refused, so the state stays `triaged` and `accepted` is fine.
    let refusals =
        plan_body("#state fixed\n#state accepted\n", &on(ReportState::Triaged)).expect_err("bad");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].line, "#state fixed");
}

#[test]
fn every_change_describes_itself() {
    let body = "\
#state triaged
#severity high
#assign alice@example.org
#cve cve-2026-12345
#credit \"Jane Doe\" https://jane.example
#fixed-in 3.1.1
#disclose 2026-06-15
#waiting
#help
#assign none
#credit none
";
    let changes = plan_body(body, &on(ReportState::Acknowledged)).expect("allowed");
    assert_eq!(
        describe(&changes),
        [
            "state: acknowledged → triaged",
            "severity: high",
            "assigned to Alice <alice@example.org>",
            "CVE: CVE-2026-12345",
            "credit: Jane Doe (https://jane.example)",
            "fixed in: 3.1.1",
            "disclosure date: 2026-06-15",
            "waiting for the reporter: SLA paused until they answer",
            "help: the command reference follows",
            "unassigned",
            "credit: none (the reporter is not credited)",
        ]
    );
}

#[test]
fn control_commands() {
    let changes = plan_body(
        "#list\n#list triaged\n#show SEC-2026-0012\n#digest\n#stats\n#help\n",
        &Scope::Control,
    )
    .expect("allowed");
    assert_eq!(
        changes,
        [
            Change::List(None),
            Change::List(Some(ReportState::Triaged)),
            Change::Show(id("SEC-2026-0012")),
            Change::Digest,
            Change::Stats,
            Change::Help,
        ]
    );
}

#[test]
fn commands_on_the_wrong_address() {
    let report_lines = [
        "#state triaged",
        "#severity low",
        "#cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "#assign alice@example.org",
        "#duplicate SEC-2026-0012",
        "#cve CVE-2026-12345",
        "#credit none",
        "#fixed-in 1.0",
        "#disclose 2027-01-01",
        "#extend 30d because x",
        "#waiting",
    ];
    for line in report_lines {
        let reason = refused(line, &Scope::Control);
        assert!(
            reason.contains("changes one report: send it to that report's address"),
            "{line}: {reason}"
        );
    }
    for line in ["#list", "#show SEC-2026-0012", "#digest", "#stats"] {
        let reason = refused(line, &on(ReportState::Triaged));
        assert!(
            reason.contains("is a control command: send it to the control address"),
            "{line}: {reason}"
        );
    }
}

#[test]
fn parse_errors_become_refusals() {
    assert_eq!(
        refused("#bogus", &Scope::Control),
        format!(
            "unknown command `#bogus`; the commands are {}",
            COMMAND_NAMES.join(", ")
        )
    );
}

#[test]
fn state_refusals() {
    let scope = on(ReportState::Triaged);
    assert_eq!(
        refused("#state triaged", &scope),
        "the report is already triaged"
    );
    assert_eq!(
        refused("#state duplicate", &scope),
        "to mark a duplicate, use `#duplicate ID` so the original report is recorded"
    );
    assert_eq!(
        refused("#state disclosed", &on(ReportState::Accepted)),
        "cannot go from accepted to disclosed; allowed next: fixed, risk-accepted, rejected (or `#duplicate ID`)"
    );
    assert_eq!(
        refused("#state triaged", &on(ReportState::Disclosed)),
        "cannot go from disclosed to triaged; disclosed is final"
    );
    assert_eq!(
        refused("#state new", &on(ReportState::Fixed)),
        "cannot go from fixed to new; allowed next: accepted, disclosed"
    );
}

#[test]
fn duplicate() {
    let changes = plan_body(
        "#duplicate SEC-2026-0012 reply",
        &on(ReportState::Acknowledged),
    )
    .expect("allowed");
    assert_eq!(
        changes,
        [Change::Duplicate {
            of: id("SEC-2026-0012"),
            from: ReportState::Acknowledged,
            reply: true,
        }]
    );
    assert_eq!(
        describe(&changes),
        [
            "state: acknowledged → duplicate of SEC-2026-0012 (the reporter gets the duplicate reply)"
        ]
    );

    let scope = on(ReportState::Triaged);
    assert_eq!(
        refused("#duplicate SEC-2026-0042", &scope),
        "SEC-2026-0042 cannot be a duplicate of itself"
    );
    assert_eq!(
        refused("#duplicate SEC-2026-0099", &scope),
        "there is no report SEC-2026-0099"
    );
    assert!(
        refused("#duplicate SEC-2026-0012", &on(ReportState::Fixed))
            .starts_with("cannot go from fixed to duplicate")
    );
    assert_eq!(
        refused("#duplicate SEC-2026-0012", &on(ReportState::Duplicate)),
        "the report is already duplicate"
    );
    // After `#duplicate`, the report is a duplicate for the lines that follow.
    let refusals = plan_body("#duplicate SEC-2026-0012\n#state accepted", &scope)
        .expect_err("duplicate cannot become accepted");
    assert_eq!(refusals[0].line, "#state accepted");
}

#[test]
fn assign_only_members() {
    assert_eq!(
        refused("#assign mallory@example.org", &on(ReportState::New)),
        "mallory@example.org is not a team member; assign one of: alice@example.org"
    );
}

#[test]
fn disclose_not_in_the_past() {
    assert_eq!(
        refused("#disclose 2026-06-14", &on(ReportState::Fixed)),
        "the disclosure date 2026-06-14 is in the past (today is 2026-06-15)"
    );
    assert!(plan_body("#disclose 2026-06-15", &on(ReportState::Fixed)).is_ok());
}

#[test]
fn waiting() {
    assert_eq!(
        plan_body("#waiting", &on(ReportState::New)),
        Ok(vec![Change::Waiting])
    );
    assert_eq!(
        refused("#waiting", &on(ReportState::Rejected)),
        "`#waiting` pauses the SLA of an open report; this one is rejected"
    );
    let already = Scope::Report(ReportFacts {
        waiting: true,
        ..report(ReportState::Triaged)
    });
    assert_eq!(
        refused("#waiting", &already),
        "the SLA is already paused: the report is waiting for the reporter"
    );
    assert_eq!(
        refused("#waiting\n#waiting", &on(ReportState::Triaged)),
        "the SLA is already paused: the report is waiting for the reporter"
    );
    // A state closed earlier in the same mail counts.
    assert!(
        refused("#state spam\n#waiting", &on(ReportState::Triaged)).ends_with("this one is spam")
    );
}

#[test]
fn extend_up_to_fix_max_exactly() {
    let changes = plan_body("#extend 30d because upstream", &accepted_with(0)).expect("at max");
    assert_eq!(
        changes,
        [Change::Extend {
            days: 30,
            reason: "upstream".to_owned(),
            extension_days: 30,
            total_days: 120,
            kind: DayKind::Calendar,
        }]
    );
    assert_eq!(
        describe(&changes),
        ["fix deadline extended by 30 days to 120 days after acceptance: upstream"]
    );

    assert_eq!(
        refused("#extend 31d because upstream", &accepted_with(0)),
        "would make the fix deadline 121 days, beyond fix_max of 120 days; at most 30 days more can be granted"
    );
    assert_eq!(
        refused("#extend 1d because upstream", &accepted_with(30)),
        "would make the fix deadline 121 days, beyond fix_max of 120 days; no further extension is possible"
    );
    assert!(plan_body("#extend 10d because upstream", &accepted_with(20)).is_ok());
}

#[test]
fn extensions_in_one_mail_add_up() {
    let refusals = plan_body(
        "#extend 2w because a\n#extend 2 weeks because b\n#extend 3d because c",
        &accepted_with(0),
    )
    .expect_err("beyond max");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].line, "#extend 3d because c");
    assert!(
        refusals[0]
            .reason
            .to_string()
            .starts_with("would make the fix deadline 121 days"),
        "{}",
        refusals[0]
    );
    let changes = plan_body(
        "#extend 2w because a\n#extend 2d because b",
        &accepted_with(0),
    )
    .expect("within max");
    assert!(matches!(
        changes[1],
        Change::Extend {
            extension_days: 16,
            total_days: 106,
            ..
        }
    ));
}

#[test]
fn extend_only_while_accepted() {
    assert_eq!(
        refused("#extend 10d because x", &on(ReportState::Triaged)),
        "`#extend` works only while the report is accepted (the fix clock runs from acceptance); it is triaged"
    );
    // Accepted earlier in the same mail counts.
    assert!(
        plan_body(
            "#state accepted\n#extend 10d because x",
            &on(ReportState::Triaged)
        )
        .is_ok()
    );
}

#[test]
fn extend_in_business_days_and_other_policies() {
    let business = sla(
        PolicyDuration::BusinessDays(60),
        PolicyDuration::BusinessDays(80),
    );
    let changes = plan_with("#extend 20d because x", &accepted_with(0), &business).expect("ok");
    assert_eq!(
        describe(&changes),
        ["fix deadline extended by 20 business days to 80 business days after acceptance: x"]
    );
    let refusals =
        plan_with("#extend 21d because x", &accepted_with(0), &business).expect_err("beyond");
    assert_eq!(
        refusals[0].reason.to_string(),
        "would make the fix deadline 81 business days, beyond fix_max of 80 business days; at most 20 business days more can be granted"
    );

    let weeks = sla(
        PolicyDuration::Calendar(Span::new().weeks(12)),
        PolicyDuration::Calendar(Span::new().weeks(16)),
    );
    assert!(plan_with("#extend 4w because x", &accepted_with(0), &weeks).is_ok());
    assert!(plan_with("#extend 29d because x", &accepted_with(0), &weeks).is_err());

    let mixed = sla(
        PolicyDuration::Calendar(Span::new().days(90)),
        PolicyDuration::BusinessDays(90),
    );
    let refusals = plan_with("#extend 1d because x", &accepted_with(0), &mixed).expect_err("mixed");
    assert_eq!(
        refusals[0].reason.to_string(),
        "`#extend` cannot be checked against the SLA: sla.fix (90d) and sla.fix_max (90 business days) count different kinds of days"
    );

    let hours = sla(
        PolicyDuration::BusinessHours(400),
        PolicyDuration::BusinessHours(500),
    );
    let refusals = plan_with("#extend 1d because x", &accepted_with(0), &hours).expect_err("hours");
    assert!(
        refusals[0]
            .reason
            .to_string()
            .contains("sla.fix is `400 business hours`, but extensions are counted in days"),
        "{}",
        refusals[0]
    );
}

#[test]
fn help_per_address() {
    // `#resend-ack` is listed where it applies: after a failed acknowledgement.
    let report_help = help(&Scope::Report(ReportFacts {
        ack_failed: true,
        ..report(ReportState::New)
    }));
    let control_help = help(&Scope::Control);
    for name in COMMAND_NAMES {
        let is_control = [
            "#list",
            "#show",
            "#digest",
            "#stats",
            "#hall-of-fame",
            "#advisory",
            "#outbox",
            "#search",
        ]
        .contains(name);
        let text = if is_control {
            &control_help
        } else {
            &report_help
        };
        assert!(text.contains(name), "{name} missing from help");
    }
    assert!(control_help.contains("#help"));
    assert!(!report_help.contains("#digest"));
}

#[test]
fn a_search_query_that_cannot_be_searched_is_refused_when_parsed() {
    assert_eq!(
        parse("#search \"open redirect\" tag:web"),
        Ok(Command::Search("\"open redirect\" tag:web".to_owned()))
    );
    // FTS5 syntax is only ever words: NEAR and column filters parse.
    assert_eq!(
        parse("#search NEAR(x y) subject:*"),
        Ok(Command::Search("NEAR(x y) subject:*".to_owned()))
    );
    for line in ["#search", "#search \"unclosed", "#search ( ) *"] {
        assert!(
            matches!(
                parse(line),
                Err(CommandError::MissingArgument { .. } | CommandError::Invalid { .. })
            ),
            "{line}: {:?}",
            parse(line)
        );
    }
    let long = format!("#search {}", "a".repeat(300));
    assert!(matches!(parse(&long), Err(CommandError::Invalid { .. })));
}

#[test]
fn a_search_belongs_on_the_control_address() {
    let scope = Scope::Report(report(ReportState::Triaged));
    let reason = refused("#search resizer\n", &scope);
    assert!(reason.contains("#search"), "{reason}");
    assert_eq!(
        plan_body("#search resizer\n", &Scope::Control),
        Ok(vec![Change::Search("resizer".to_owned())])
    );
}

#[test]
fn resend_ack_takes_no_argument() {
    assert_eq!(parse("#resend-ack"), Ok(Command::ResendAck));
    assert!(parse("#resend-ack now").is_err());
}

#[test]
fn resend_ack_is_refused_unless_the_acknowledgement_failed() {
    assert_eq!(
        refused("#resend-ack", &on(ReportState::Acknowledged)),
        Refused::NoFailedAck.to_string()
    );
    let failed = Scope::Report(ReportFacts {
        ack_failed: true,
        ..report(ReportState::New)
    });
    assert_eq!(
        plan_body("#resend-ack", &failed).expect("planned"),
        [Change::ResendAck]
    );
    // Twice in one mail: the second would find the first queued.
    assert_eq!(
        refused("#resend-ack\n#resend-ack", &failed),
        Refused::NoFailedAck.to_string()
    );
    assert!(
        refused("#resend-ack", &Scope::Control).contains("report"),
        "a control-address line has no report"
    );
}

#[test]
fn the_help_lists_resend_ack_only_where_the_acknowledgement_failed() {
    assert!(!help(&on(ReportState::New)).contains("#resend-ack"));
    let failed = Scope::Report(ReportFacts {
        ack_failed: true,
        ..report(ReportState::New)
    });
    let text = help(&failed);
    assert!(
        text.contains("  #resend-ack             queue the acknowledgement"),
        "{text}"
    );
    assert!(text.contains("#help                   this text"), "{text}");
}

#[test]
fn attach_takes_a_message_number() {
    assert_eq!(parse("#attach 7"), Ok(Command::Attach(7)));
    for bad in [
        "#attach",
        "#attach seven",
        "#attach 0",
        "#attach -3",
        "#attach 7 8",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn attach_is_refused_for_a_message_that_is_not_attachable_and_then_nothing_applies() {
    // The caller marks message 7 attachable; 8 is unknown or in a report.
    assert_eq!(
        plan_body("#attach 7\n", &on(ReportState::Triaged)).expect("planned"),
        [Change::Attach(7)]
    );
    let refusals =
        plan_body("#severity high\n#attach 8\n", &on(ReportState::Triaged)).expect_err("refused");
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0].to_string().contains("cannot be attached"),
        "{refusals:?}"
    );
    assert!(
        refused("#attach 7\n#attach 7", &on(ReportState::Triaged)).contains("cannot be attached")
    );
    assert!(refused("#attach 7", &Scope::Control).contains("report"));
}

#[test]
fn outbox_belongs_on_the_control_address() {
    assert_eq!(parse("#outbox"), Ok(Command::Outbox));
    assert!(parse("#outbox all").is_err());
    assert_eq!(
        plan_body("#outbox\n", &Scope::Control).expect("planned"),
        [Change::Outbox]
    );
    assert!(refused("#outbox", &on(ReportState::Triaged)).contains("control address"));
}
