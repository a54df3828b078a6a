//! What to do with one message once it is stored: a pure decision over the
//! facts threading and the store established, returned as a list of actions
//! that [`super::Pipeline`] carries out, in order, in the message's
//! transaction. Whether to answer and with which template, whether the team
//! hears of it, and where a member's mail goes are all decided here.

use super::flood::{Limit, NoticeBudget};
use crate::report::ReportId;
use crate::respond::Unreadable;
use crate::thread::{self, Automation, Class, Sender, Token, Via};

/// What is known about a stored message.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub class: Class,
    /// The report it joined or opened, if any.
    pub report: Option<&'a ReportId>,
    /// It opened `report`.
    pub opened: bool,
    /// How it joined `report` (`None` when it opened it or joined none).
    pub via: Option<Via>,
    /// The plus-address token it was sent to, if any.
    pub token: Option<&'a Token>,
    /// It has a usable sender address.
    pub has_sender: bool,
    /// It was encrypted and could not be read.
    pub unreadable: Option<Unreadable>,
    /// It came back to the return path of a mail we sent (a verified bounce).
    pub returned: bool,
    /// Whether a team notice about it fits the flood limits.
    pub notices: NoticeBudget,
}

/// A triage rule that matched, as far as planning cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedRule<'a> {
    pub name: &'a str,
    /// A built-in template that answers the reporter instead of the
    /// acknowledgement.
    pub reply: Option<&'static str>,
}

pub use crate::team_mail::Route;

pub use crate::respond::ack::Answer;

/// One step of handling a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Apply the matched triage rule (state, tags).
    ApplyRule,
    /// Answer the reporter of a new report.
    Answer(Answer<'a>),
    /// Record why a new report got no automatic answer.
    NoAnswer { reason: &'static str },
    /// Tell the team of a new report.
    NotifyNewReport,
    /// Pass a later mail from outside to the team.
    ReporterFollowup,
    /// The notice of a new report or follow-up is held by a flood limit:
    /// record it, tag a new report `flood`, and send the team one summary
    /// when none went out in this window.
    HoldNotice {
        new_report: bool,
        limit: Limit,
        summarise: bool,
    },
    /// Tell the team a mail we sent bounced.
    DeliveryProblem,
    /// Hand a member's mail to the team stage.
    TeamMail(Route),
    /// An imported mail from outside joined its report: what it says of the
    /// reporter is recorded (credit, waiting ends); the team is not told.
    ReporterWrote,
    /// An imported mail of a member: stored, its commands recorded but not
    /// applied, nothing relayed; mail to the reporter counts as an answer.
    TeamMailImported,
}

/// Why an imported message is not answered.
pub const IMPORTED: &str = "imported";

/// Why a message dated before the imports' `--no-answer-before` is not answered.
pub const BEFORE_NO_ANSWER_DATE: &str = "dated before the import's no-answer date";

/// What is left of `action` for a message imported from an old inbox: it is
/// stored and threaded like live mail, and nothing goes out. Its commands are
/// not applied: the team acted on them when they were written.
pub fn imported(action: Action<'_>) -> Option<Action<'_>> {
    match action {
        Action::ApplyRule | Action::NoAnswer { .. } => Some(action),
        Action::Answer(_) => Some(Action::NoAnswer { reason: IMPORTED }),
        Action::ReporterFollowup
        | Action::HoldNotice {
            new_report: false, ..
        } => Some(Action::ReporterWrote),
        Action::TeamMail(_) => Some(Action::TeamMailImported),
        Action::NotifyNewReport
        | Action::HoldNotice {
            new_report: true, ..
        }
        | Action::DeliveryProblem
        | Action::ReporterWrote
        | Action::TeamMailImported => None,
    }
}

/// What is left of `action` for live mail whose `Date:` is before the
/// imports' no-answer date `cutoff`: no answer, the team still hears of it.
pub fn dated_before<'a>(
    action: Action<'a>,
    date: Option<jiff::Timestamp>,
    cutoff: Option<jiff::Timestamp>,
) -> Action<'a> {
    match (action, date, cutoff) {
        (Action::Answer(_), Some(date), Some(cutoff)) if date < cutoff => Action::NoAnswer {
            reason: BEFORE_NO_ANSWER_DATE,
        },
        (action, _, _) => action,
    }
}

/// Whether triage rules look at the message: new reports from outside only,
/// never automatic mail, and never one we could not read.
pub fn rules_apply(facts: &Facts<'_>) -> bool {
    facts.opened
        && facts.report.is_some()
        && facts.class.sender == Sender::External
        && facts.class.automation.is_none()
        && facts.unreadable.is_none()
}

/// The actions for a stored message, in order. `rule` is the triage rule that
/// matched, looked up only when [`rules_apply`]; it is ignored otherwise.
pub fn plan<'a>(facts: &Facts<'a>, rule: Option<MatchedRule<'a>>) -> Vec<Action<'a>> {
    let mut actions = Vec::new();
    let rule = rule.filter(|_| rules_apply(facts));
    if rule.is_some() {
        actions.push(Action::ApplyRule);
    }
    if facts.opened && facts.report.is_some() {
        match thread::may_auto_reply(facts.class, facts.has_sender) {
            Ok(()) => actions.push(Action::Answer(answer(facts, rule))),
            Err(reason) => actions.push(Action::NoAnswer { reason }),
        }
    }
    let Class { sender, automation } = facts.class;
    match (facts.report, sender, automation) {
        (Some(_), Sender::External, None) => actions.push(match facts.notices {
            NoticeBudget::Within if facts.opened => Action::NotifyNewReport,
            NoticeBudget::Within => Action::ReporterFollowup,
            NoticeBudget::Held { limit, summarise } => Action::HoldNotice {
                new_report: facts.opened,
                limit,
                summarise,
            },
        }),
        // Automatic mail never counts as the reporter answering. Only a bounce
        // of a mail we sent is a delivery problem for the team to see.
        (_, Sender::External, Some(Automation::Bounce)) if facts.returned => {
            actions.push(Action::DeliveryProblem);
        }
        // A member's out-of-office reply acts on nothing.
        (_, Sender::Team, None) => {
            if let Some(route) = route(facts) {
                actions.push(Action::TeamMail(route));
            }
        }
        _ => {}
    }
    actions
}

/// The answer to a new report: what we could not read is answered as such;
/// else a matching rule's template, else the acknowledgement.
fn answer<'a>(facts: &Facts<'a>, rule: Option<MatchedRule<'a>>) -> Answer<'a> {
    match (facts.unreadable, rule) {
        (Some(why), _) => Answer::Undecryptable(why),
        (
            None,
            Some(MatchedRule {
                name,
                reply: Some(template),
            }),
        ) => Answer::Rule {
            template,
            rule: name,
        },
        (None, _) => Answer::Acknowledgement,
    }
}

/// Where a member's mail goes: the reply address only when its plus address
/// named the report it joined; the control address; else the report's team.
fn route(facts: &Facts<'_>) -> Option<Route> {
    match (facts.token, facts.report, facts.via) {
        (Some(Token::Reply(id)), Some(report), Some(Via::PlusAddress)) if id == report => {
            Some(Route::Reply(id.clone()))
        }
        (Some(Token::Control), _, _) => Some(Route::Control),
        // The internal address, or a report named only by subject or
        // references: team only, never relayed.
        (_, Some(report), _) => Some(Route::Internal(report.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
