//! The team stage's decisions, as tables: where an authenticated mail may go,
//! what becomes of what is left of it, what a proof must cover, and how the
//! answer to commands is headed.

use super::auth::{chooses_reporter, gap};
use super::commands::CommandReply;
use super::*;
use crate::auth::DkimCoverage;
use crate::command::Scope;
use crate::respond::templates::RefusedLine;
use crate::thread::Token;

fn id(n: u32) -> ReportId {
    ReportId::new("SEC", 2026, n)
}

#[test]
fn a_reply_whose_proof_does_not_choose_the_reporter_stays_inside_the_team() {
    let cases = [
        // (route, the covered content chose the reporter, the route it may take)
        (Route::Reply(id(1)), true, Route::Reply(id(1))),
        (Route::Reply(id(1)), false, Route::Internal(id(1))),
        (Route::Internal(id(1)), true, Route::Internal(id(1))),
        (Route::Internal(id(1)), false, Route::Internal(id(1))),
        (Route::Control, true, Route::Control),
        (Route::Control, false, Route::Control),
    ];
    for (route, to_reporter, expected) in cases {
        assert_eq!(
            proven_route(&route, to_reporter),
            expected,
            "{route:?}, to the reporter: {to_reporter}"
        );
    }
}

#[test]
fn only_covered_content_naming_this_report_chooses_the_reporter() {
    let own = Token::Reply(id(1));
    let other = Token::Reply(id(2));
    let internal = Token::Internal(id(1));
    let cases = [
        // (route, a `#reply` line, the signed recipients' token, to the reporter)
        (Route::Reply(id(1)), true, None, true),
        (Route::Reply(id(1)), false, Some(&own), true),
        (Route::Reply(id(1)), false, None, false),
        // A signed reply address of another report does not choose this one.
        (Route::Reply(id(1)), false, Some(&other), false),
        (Route::Reply(id(1)), false, Some(&internal), false),
        (Route::Reply(id(1)), false, Some(&Token::Control), false),
        // Only mail to the reply address can reach the reporter.
        (Route::Internal(id(1)), true, Some(&own), false),
        (Route::Control, true, Some(&own), false),
    ];
    for (route, directive, signed, expected) in cases {
        assert_eq!(
            chooses_reporter(&route, directive, signed),
            expected,
            "{route:?}, #reply: {directive}, signed token: {signed:?}"
        );
    }
}

#[test]
fn a_dkim_proof_must_cover_the_whole_body_and_the_one_from() {
    let all = DkimCoverage {
        from: true,
        to: true,
        subject: true,
        whole_body: true,
    };
    let cases = [
        (all, None),
        // `To` and `Subject` only choose the route and bind; they may be missing.
        (
            DkimCoverage {
                to: false,
                subject: false,
                ..all
            },
            None,
        ),
        (
            DkimCoverage {
                whole_body: false,
                ..all
            },
            Some("the whole body"),
        ),
        (
            DkimCoverage { from: false, ..all },
            Some("exactly one From header"),
        ),
        (DkimCoverage::default(), Some("the whole body")),
    ];
    for (coverage, expected) in cases {
        let found = gap(&coverage);
        match expected {
            None => assert_eq!(found, None, "{coverage:?}"),
            Some(start) => assert!(
                found.is_some_and(|g| g.starts_with(start)),
                "{coverage:?}: {found:?}"
            ),
        }
    }
}

#[test]
fn what_is_left_of_a_member_mail_decides_where_it_goes() {
    let left = |relay, note, commands| Left {
        relay,
        note,
        commands,
    };
    let reply = Route::Reply(id(1));
    let internal = Route::Internal(id(1));
    let cases = [
        // (route, what is left, what becomes of it)
        (&reply, left(true, true, false), PassOn::Relay),
        (&reply, left(true, true, true), PassOn::Relay),
        // Only the team's names were left: nothing goes to the reporter.
        (&reply, left(false, true, false), PassOn::Empty),
        (&reply, left(false, true, true), PassOn::Nothing),
        (&reply, left(false, false, false), PassOn::Empty),
        (&internal, left(true, true, false), PassOn::Note),
        (&internal, left(false, true, true), PassOn::Note),
        (&internal, left(false, false, false), PassOn::Empty),
        (&internal, left(false, false, true), PassOn::Nothing),
        // The control address only takes commands.
        (&Route::Control, left(true, true, false), PassOn::Nothing),
        (&Route::Control, left(false, false, false), PassOn::Nothing),
    ];
    for (route, left, expected) in cases {
        assert_eq!(pass_on(route, left), expected, "{route:?}, {left:?}");
    }
}

#[test]
fn the_answer_to_commands_is_headed_by_what_came_of_them() {
    let reply = |applied: &[&str], refused: bool, output: bool| CommandReply {
        scope: &Scope::Control,
        report: None,
        target: "the control address",
        applied: applied.iter().map(|a| (*a).to_owned()).collect(),
        refused: if refused {
            vec![RefusedLine {
                line: "#state nonsense".into(),
                reason: "unknown state".into(),
            }]
        } else {
            Vec::new()
        },
        output: output.then(|| "SEC-2026-0001 new".to_owned()),
        help: false,
        results: None,
    };
    let cases = [
        // (applied, refused, query output, headline)
        (&["state: new → triaged"][..], false, false, "Done"),
        (&[][..], false, true, "Done"),
        (&["state: new → triaged"][..], false, true, "Done"),
        (&[][..], false, false, "Help"),
        (&[][..], true, false, "Refused"),
        (&["state: new → triaged"][..], true, true, "Refused"),
    ];
    for (applied, refused, output, expected) in cases {
        assert_eq!(
            reply(applied, refused, output).verdict(),
            expected,
            "applied {applied:?}, refused: {refused}, output: {output}"
        );
    }
}
