//! `#notify` and `#quiet`: they qualify the state change of their own mail,
//! and are refused on their own.

use super::*;

fn on(state: ReportState) -> Scope {
    Scope::Report(report(state))
}

#[test]
fn notify_and_quiet_parse_without_an_argument() {
    assert_eq!(parse("#notify"), Ok(Command::Notify(Notify::Force)));
    assert_eq!(parse("#QUIET"), Ok(Command::Notify(Notify::Quiet)));
    assert!(matches!(
        parse("#notify now"),
        Err(CommandError::UnexpectedArgument {
            command: "#notify",
            ..
        })
    ));
}

#[test]
fn notify_qualifies_a_state_change_wherever_it_stands_in_the_mail() {
    for body in ["#notify\n#state triaged\n", "#state triaged\n#notify\n"] {
        let changes = plan_body(body, &on(ReportState::Acknowledged)).expect("allowed");
        assert!(changes.contains(&Change::Notify(Notify::Force)), "{body:?}");
        assert_eq!(state_reached(&changes), Some(ReportState::Triaged));
    }
    let changes =
        plan_body("#quiet\n#state accepted\n", &on(ReportState::Triaged)).expect("allowed");
    assert!(changes.contains(&Change::Notify(Notify::Quiet)));
}

#[test]
fn notify_alone_is_refused_with_the_reason() {
    for (body, command) in [
        ("#notify\n", "#notify"),
        ("#quiet\n#severity high\n", "#quiet"),
    ] {
        let reason = refused(body, &on(ReportState::Triaged));
        assert!(
            reason.starts_with(&format!("`{command}` only goes with a `#state` change")),
            "{reason}"
        );
    }
}

#[test]
fn notify_is_refused_for_a_side_exit() {
    let reason = refused("#state spam\n#notify\n", &on(ReportState::Triaged));
    assert!(
        reason.contains("no update when a report becomes spam"),
        "{reason}"
    );
    let reason = refused(
        "#duplicate SEC-2026-0012\n#notify\n",
        &on(ReportState::Triaged),
    );
    assert!(reason.contains("becomes duplicate"), "{reason}");
    // Holding back what would not be sent anyway changes nothing: allowed.
    plan_body("#state rejected\n#quiet\n", &on(ReportState::Triaged)).expect("allowed");
}

#[test]
fn notify_and_quiet_together_are_refused() {
    let refusals = plan_body(
        "#state accepted\n#notify\n#quiet\n",
        &on(ReportState::Triaged),
    )
    .expect_err("contradiction accepted");
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals.iter().all(|r| r.reason == Refused::NotifyAndQuiet));
}

#[test]
fn notify_on_the_control_address_is_refused_once() {
    let reason = refused("#notify\n", &Scope::Control);
    assert!(reason.contains("changes one report"), "{reason}");
}

#[test]
fn the_update_is_about_the_last_state_the_mail_reaches() {
    let changes = plan_body(
        "#state accepted\n#state fixed\n#fixed-in 3.1.1\n",
        &on(ReportState::Triaged),
    )
    .expect("allowed");
    assert_eq!(state_reached(&changes), Some(ReportState::Fixed));
    let changes = plan_body("#severity low\n", &on(ReportState::Triaged)).expect("allowed");
    assert_eq!(state_reached(&changes), None);
}

#[test]
fn the_help_lists_notify_and_quiet() {
    let text = help(&on(ReportState::Triaged));
    assert!(text.contains("#notify / #quiet"), "{text}");
    assert!(COMMAND_NAMES.contains(&"#notify") && COMMAND_NAMES.contains(&"#quiet"));
}
