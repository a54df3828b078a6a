//! `#hall-of-fame` and `#advisory ID`: control commands, and an advisory only
//! for a report that has one to draft.

use super::*;

/// SEC-2026-0001 is fixed, 0002 risk-accepted, 0003 disclosed, 0004 accepted,
/// 0005 spam.
fn states(other: &ReportId) -> Option<ReportState> {
    match other.as_str() {
        "SEC-2026-0001" => Some(ReportState::Fixed),
        "SEC-2026-0002" => Some(ReportState::RiskAccepted),
        "SEC-2026-0003" => Some(ReportState::Disclosed),
        "SEC-2026-0004" => Some(ReportState::Accepted),
        "SEC-2026-0005" => Some(ReportState::Spam),
        _ => None,
    }
}

fn plan_control(body: &str) -> Result<Vec<Change>, Vec<Refusal>> {
    let block = parse_block(body, PREFIX);
    plan(
        &block.entries,
        &Scope::Control,
        &states,
        &team(),
        &default_sla(),
        TODAY,
    )
}

#[test]
fn the_hall_of_fame_and_ready_advisories_are_answered_on_the_control_address() {
    let changes = plan_control(
        "#hall-of-fame\n#advisory SEC-2026-0001\n#advisory sec-2026-0002\n#advisory SEC-2026-0003\n",
    )
    .expect("allowed");
    assert_eq!(
        changes,
        [
            Change::HallOfFame,
            Change::Advisory(id("SEC-2026-0001")),
            Change::Advisory(id("SEC-2026-0002")),
            Change::Advisory(id("SEC-2026-0003")),
        ]
    );
}

#[test]
fn an_advisory_is_refused_for_a_report_not_yet_fixed_with_the_reason() {
    let refusals = plan_control("#advisory SEC-2026-0004\n").expect_err("accepted");
    assert_eq!(
        refusals[0].reason.to_string(),
        "SEC-2026-0004 is accepted: an advisory is drafted once the report is fixed, risk-accepted or disclosed"
    );
    let refusals = plan_control("#advisory SEC-2026-0005\n").expect_err("spam");
    assert!(
        refusals[0].reason.to_string().contains("is spam"),
        "{}",
        refusals[0]
    );
    let refusals = plan_control("#advisory SEC-2026-0099\n").expect_err("unknown");
    assert_eq!(
        refusals[0].reason.to_string(),
        "there is no report SEC-2026-0099"
    );
    // One refused line refuses the mail's other queries too.
    assert!(plan_control("#hall-of-fame\n#advisory SEC-2026-0004\n").is_err());
}

#[test]
fn hall_of_fame_and_advisory_belong_on_the_control_address() {
    for line in ["#hall-of-fame", "#advisory SEC-2026-0001"] {
        let block = parse_block(line, PREFIX);
        let refusals = plan(
            &block.entries,
            &Scope::Report(report(ReportState::Fixed)),
            &states,
            &team(),
            &default_sla(),
            TODAY,
        )
        .expect_err("refused on a report address");
        assert!(
            refusals[0]
                .reason
                .to_string()
                .contains("is a control command"),
            "{line}: {}",
            refusals[0]
        );
    }
    assert!(matches!(
        parse("#advisory"),
        Err(CommandError::MissingArgument { .. })
    ));
    assert!(matches!(
        parse("#advisory not-an-id"),
        Err(CommandError::Invalid { .. })
    ));
    assert!(matches!(
        parse("#hall-of-fame now"),
        Err(CommandError::UnexpectedArgument { .. })
    ));
}
