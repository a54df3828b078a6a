//! The planning table: what happens to each kind of stored message.

use super::*;
use crate::ingest::flood::{Limit, NoticeBudget};

fn id(n: u32) -> ReportId {
    ReportId::new("SEC", 2026, n)
}

fn class(sender: Sender, automation: Option<Automation>) -> Class {
    Class { sender, automation }
}

const EXTERNAL: Class = Class {
    sender: Sender::External,
    automation: None,
};
const TEAM: Class = Class {
    sender: Sender::Team,
    automation: None,
};

/// A new report from outside, readable, with a sender.
fn opened(report: &ReportId) -> Facts<'_> {
    Facts {
        class: EXTERNAL,
        report: Some(report),
        opened: true,
        via: None,
        token: None,
        has_sender: true,
        unreadable: None,
        returned: false,
        notices: NoticeBudget::Within,
    }
}

/// A later message that joined `report` by `via`.
fn joined<'a>(report: &'a ReportId, class: Class, via: Via, token: Option<&'a Token>) -> Facts<'a> {
    Facts {
        class,
        report: Some(report),
        opened: false,
        via: Some(via),
        token,
        has_sender: true,
        unreadable: None,
        returned: false,
        notices: NoticeBudget::Within,
    }
}

const OOS: MatchedRule<'static> = MatchedRule {
    name: "spf-dmarc",
    reply: Some("out-of-scope"),
};
const TAG_ONLY: MatchedRule<'static> = MatchedRule {
    name: "tag-web",
    reply: None,
};

#[test]
fn the_table() {
    let r1 = id(1);
    let r2 = id(2);
    let reply1 = Token::Reply(r1.clone());
    let reply2 = Token::Reply(r2.clone());
    let internal1 = Token::Internal(r1.clone());
    let control = Token::Control;
    let unreadable = Facts {
        unreadable: Some(Unreadable::WrongKey),
        ..opened(&r1)
    };
    let no_sender = Facts {
        has_sender: false,
        ..opened(&r1)
    };
    let bounce = class(Sender::External, Some(Automation::Bounce));
    let auto = class(Sender::External, Some(Automation::AutoReply));
    let team_auto = class(Sender::Team, Some(Automation::AutoReply));
    let cases: Vec<(&str, Facts<'_>, Option<MatchedRule<'_>>, Vec<Action<'_>>)> = vec![
        (
            "a new report is acknowledged and the team told",
            opened(&r1),
            None,
            vec![
                Action::Answer(Answer::Acknowledgement),
                Action::NotifyNewReport,
            ],
        ),
        (
            "a rule with a reply answers instead of the acknowledgement",
            opened(&r1),
            Some(OOS),
            vec![
                Action::ApplyRule,
                Action::Answer(Answer::Rule {
                    template: "out-of-scope",
                    rule: "spf-dmarc",
                }),
                Action::NotifyNewReport,
            ],
        ),
        (
            "a rule without a reply keeps the acknowledgement",
            opened(&r1),
            Some(TAG_ONLY),
            vec![
                Action::ApplyRule,
                Action::Answer(Answer::Acknowledgement),
                Action::NotifyNewReport,
            ],
        ),
        (
            "what we could not read is answered as such, and no rule looks at it",
            unreadable,
            Some(OOS),
            vec![
                Action::Answer(Answer::Undecryptable(Unreadable::WrongKey)),
                Action::NotifyNewReport,
            ],
        ),
        (
            "no sender: nobody to answer",
            no_sender,
            None,
            vec![
                Action::NoAnswer {
                    reason: "there is no sender address to answer",
                },
                Action::NotifyNewReport,
            ],
        ),
        (
            "the reporter writes again: the team hears, nobody is answered",
            joined(&r1, EXTERNAL, Via::PlusAddress, Some(&reply1)),
            Some(OOS),
            vec![Action::ReporterFollowup],
        ),
        (
            "an auto-reply joins but acts on nothing",
            joined(&r1, auto, Via::References, None),
            None,
            vec![],
        ),
        (
            "a bounce of our mail is a delivery problem",
            Facts {
                returned: true,
                ..joined(&r1, bounce, Via::ReturnPath, None)
            },
            None,
            vec![Action::DeliveryProblem],
        ),
        (
            "a bounce that is not ours tells nobody",
            Facts {
                report: None,
                via: None,
                ..joined(&r1, bounce, Via::ReturnPath, None)
            },
            None,
            vec![],
        ),
        (
            "a member's mail to the reply address may go to the reporter",
            joined(&r1, TEAM, Via::PlusAddress, Some(&reply1)),
            None,
            vec![Action::TeamMail(Route::Reply(r1.clone()))],
        ),
        (
            "a reply token of another report than the one joined stays internal",
            joined(&r1, TEAM, Via::SubjectTag, Some(&reply2)),
            None,
            vec![Action::TeamMail(Route::Internal(r1.clone()))],
        ),
        (
            "a reply token that joined by subject tag only stays internal",
            joined(&r1, TEAM, Via::SubjectTag, Some(&reply1)),
            None,
            vec![Action::TeamMail(Route::Internal(r1.clone()))],
        ),
        (
            "the internal address",
            joined(&r1, TEAM, Via::PlusAddress, Some(&internal1)),
            None,
            vec![Action::TeamMail(Route::Internal(r1.clone()))],
        ),
        (
            "the control address",
            Facts {
                report: None,
                via: None,
                ..joined(&r1, TEAM, Via::PlusAddress, Some(&control))
            },
            None,
            vec![Action::TeamMail(Route::Control)],
        ),
        (
            "team mail about no report and to no address of ours",
            Facts {
                report: None,
                via: None,
                ..joined(&r1, TEAM, Via::PlusAddress, None)
            },
            None,
            vec![],
        ),
        (
            "past the sender's flood limit a new report is still answered, its notice held and summarised",
            Facts {
                notices: NoticeBudget::Held {
                    limit: Limit::Sender,
                    summarise: true,
                },
                ..opened(&r1)
            },
            None,
            vec![
                Action::Answer(Answer::Acknowledgement),
                Action::HoldNotice {
                    new_report: true,
                    limit: Limit::Sender,
                    summarise: true,
                },
            ],
        ),
        (
            "past everyone's flood limit a follow-up's notice is held, summarised once only",
            Facts {
                notices: NoticeBudget::Held {
                    limit: Limit::Everyone,
                    summarise: false,
                },
                ..joined(&r1, EXTERNAL, Via::PlusAddress, Some(&reply1))
            },
            None,
            vec![Action::HoldNotice {
                new_report: false,
                limit: Limit::Everyone,
                summarise: false,
            }],
        ),
        (
            "a flood limit never holds a member's mail",
            Facts {
                notices: NoticeBudget::Held {
                    limit: Limit::Everyone,
                    summarise: true,
                },
                ..joined(&r1, TEAM, Via::PlusAddress, Some(&internal1))
            },
            None,
            vec![Action::TeamMail(Route::Internal(r1.clone()))],
        ),
        (
            "a member's auto-reply acts on nothing",
            joined(&r1, team_auto, Via::PlusAddress, Some(&reply1)),
            None,
            vec![],
        ),
    ];
    for (name, facts, rule, expected) in cases {
        assert_eq!(plan(&facts, rule), expected, "{name}");
    }
}

#[test]
fn rules_look_only_at_new_readable_reports_from_outside() {
    let r1 = id(1);
    assert!(rules_apply(&opened(&r1)));
    for (name, facts) in [
        ("a follow-up", joined(&r1, EXTERNAL, Via::PlusAddress, None)),
        (
            "unreadable",
            Facts {
                unreadable: Some(Unreadable::Damaged),
                ..opened(&r1)
            },
        ),
        (
            "automatic",
            Facts {
                class: class(Sender::External, Some(Automation::List)),
                ..opened(&r1)
            },
        ),
        (
            "no report",
            Facts {
                report: None,
                ..opened(&r1)
            },
        ),
    ] {
        assert!(!rules_apply(&facts), "{name}");
        assert!(
            !plan(&facts, Some(OOS)).contains(&Action::ApplyRule),
            "{name}"
        );
    }
}

#[test]
fn an_imported_message_keeps_no_action_that_sends_mail() {
    let report = id(1);
    let every = [
        Action::ApplyRule,
        Action::Answer(Answer::Acknowledgement),
        Action::NoAnswer {
            reason: "automatic",
        },
        Action::NotifyNewReport,
        Action::ReporterFollowup,
        Action::HoldNotice {
            new_report: true,
            limit: Limit::Sender,
            summarise: true,
        },
        Action::HoldNotice {
            new_report: false,
            limit: Limit::Everyone,
            summarise: true,
        },
        Action::DeliveryProblem,
        Action::TeamMail(Route::Reply(report.clone())),
        Action::ReporterWrote,
        Action::TeamMailImported,
    ];
    let kept: Vec<Action<'_>> = every.into_iter().filter_map(imported).collect();
    assert_eq!(
        kept,
        [
            Action::ApplyRule,
            Action::NoAnswer { reason: IMPORTED },
            Action::NoAnswer {
                reason: "automatic"
            },
            Action::ReporterWrote,
            Action::ReporterWrote,
            Action::TeamMailImported,
        ]
    );
}

#[test]
fn live_mail_dated_before_the_no_answer_date_loses_only_its_answer() {
    let cutoff: jiff::Timestamp = "2020-01-01T00:00:00Z".parse().expect("time");
    let before: jiff::Timestamp = "2019-06-01T00:00:00Z".parse().expect("time");
    let after: jiff::Timestamp = "2020-06-01T00:00:00Z".parse().expect("time");
    let answer = || Action::Answer(Answer::Acknowledgement);
    assert_eq!(
        dated_before(answer(), Some(before), Some(cutoff)),
        Action::NoAnswer {
            reason: BEFORE_NO_ANSWER_DATE
        }
    );
    assert_eq!(dated_before(answer(), Some(after), Some(cutoff)), answer());
    // No Date: header, or no import that set a date: answered as ever.
    assert_eq!(dated_before(answer(), None, Some(cutoff)), answer());
    assert_eq!(dated_before(answer(), Some(before), None), answer());
    assert_eq!(
        dated_before(Action::NotifyNewReport, Some(before), Some(cutoff)),
        Action::NotifyNewReport
    );
}
