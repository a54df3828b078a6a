//! The team's mail, its own stage after a member's mail is stored:
//!
//! ```text
//! authenticate (auth.rs: signature or DKIM result, binding, replay)
//!   → covered content (what the proof covers: text, route, bound texts)
//!   → commands (commands.rs: command::plan all or none, command::apply,
//!     answer the author)
//!   → pass on (relay.rs: strip and relay to the reporter with a copy to the
//!     team; members.rs: or an internal note to the other members)
//! ```
//!
//! A mail that cannot be authenticated changes nothing: the member it names is
//! told. Each step takes the transaction, the [`Mailer`] that composes and
//! queues mail, the stored [`Mail`] and the clock value `now`; where the mail
//! goes once authenticated is decided by the pure [`proven_route`] and
//! [`pass_on`].

mod auth;
mod commands;
mod members;
mod relay;

use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Actor, EventKind};
use crate::auth::Authenticated;
use crate::crypto::Opened;
use crate::parse::ParsedMessage;
use crate::report::ReportId;
use crate::respond::queue::Mailer;
use crate::respond::{self, strip};
use crate::store::{Recorder, StoreError, Tx};

/// Where a team member's mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The report's reply address: relayed to the reporter, when the proof
    /// covers that choice.
    Reply(ReportId),
    /// The report's internal address (or the report named only by subject or
    /// references): to the other members only.
    Internal(ReportId),
    /// `security+control@`.
    Control,
}

impl Route {
    pub fn report(&self) -> Option<&ReportId> {
        match self {
            Self::Reply(id) | Self::Internal(id) => Some(id),
            Self::Control => None,
        }
    }
}

/// A member's stored mail, as the team stage reads it.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    /// The stored message's id, for the events it causes.
    pub message: i64,
    /// The mail as parsed, merged with its readable inner entity.
    pub msg: &'a ParsedMessage,
    /// What OpenPGP made of it.
    pub pgp: Option<&'a Opened>,
    /// Its bytes as they arrived (`None` when too large to keep).
    pub raw: Option<&'a [u8]>,
}

/// A member's mail once authenticated: who wrote it, and the mail as far as
/// the proof covers it.
#[derive(Debug, Clone, Copy)]
struct Authored<'a> {
    who: &'a Authenticated,
    /// The member's configured address, as events name them.
    author: &'a str,
    mail: Mail<'a>,
}

impl Authored<'_> {
    /// Records events about `report` as done by the author, through this mail.
    fn recorder<'r>(&'r self, report: Option<&'r ReportId>, now: Timestamp) -> Recorder<'r> {
        Recorder {
            report,
            at: now,
            actor: Actor::Named(self.author),
            auth: self.who.method.audit(),
            message: Some(self.mail.message),
        }
    }
}

/// What is left of a member's words once commands, quotes and signature are
/// taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// Text for the reporter remains (also stripped of the team's names).
    pub relay: bool,
    /// Text for an internal note remains.
    pub note: bool,
    /// The mail had command lines.
    pub commands: bool,
}

/// What becomes of a member's words after their commands were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassOn {
    /// Relay them to the reporter, with a copy to the team.
    Relay,
    /// Pass them to the other members as an internal note.
    Note,
    /// Record that nothing was left to pass on.
    Empty,
    /// Nothing to do: a command mail, or a mail to the control address.
    Nothing,
}

/// Where the proof lets the mail go: to the reporter only when what it covers
/// chose the reporter (`to_reporter`); otherwise a mail to the reply address
/// stays inside the team.
pub fn proven_route(route: &Route, to_reporter: bool) -> Route {
    match route {
        Route::Reply(id) if !to_reporter => Route::Internal(id.clone()),
        other => other.clone(),
    }
}

/// What to do with what is `left` of a mail on `route`, once its commands
/// were applied (not when they were refused: then nothing is passed on).
pub fn pass_on(route: &Route, left: Left) -> PassOn {
    match route {
        Route::Reply(_) if left.relay => PassOn::Relay,
        Route::Internal(_) if left.note => PassOn::Note,
        Route::Reply(_) | Route::Internal(_) if !left.commands => PassOn::Empty,
        _ => PassOn::Nothing,
    }
}

/// Handles an authenticated-or-not mail `s` from a team member's address that
/// the plan sent on `route`.
pub fn handle(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    route: &Route,
    s: Mail<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (who, covered) = match auth::authenticate(m, tx, route, s, now)? {
        Ok(found) => found,
        Err(refusal) => return members::refuse(m, tx, route.report(), &refusal, s, now),
    };
    let author = who.member.email.to_string();
    let a = Authored {
        author: &author,
        who: &who,
        // Only what the proof covers is read from here on.
        mail: Mail {
            msg: &covered.msg,
            ..s
        },
    };
    let rec = a.recorder(route.report(), now);
    rec.record(
        tx,
        EventKind::TeamMailAuthenticated,
        json!({ "method": who.method.to_string() }),
    )?;
    if covered.unsigned_rest {
        rec.record(
            tx,
            EventKind::UnsignedContentIgnored,
            json!({ "reason": "text outside the signature is not read for commands, binding or relay" }),
        )?;
    }
    let proven = proven_route(route, covered.to_reporter);
    if let (Route::Reply(id), Route::Internal(_)) = (route, &proven) {
        members::route_unproven(m, tx, id, &a, now)?;
    }
    let route = &proven;

    let outcome = commands::commands(m, tx, route, &a, now)?;
    if outcome.refused {
        return Ok(());
    }
    // Every member's address and name: a relay must not reveal who is on the
    // team. An HTML answer is stripped from its HTML, where the quoting still
    // shows.
    let team = respond::team::team_members(m.config);
    let text = &a.mail.msg.text;
    let stripped = strip::relay_body(text, a.mail.msg.html.as_deref(), &team);
    let note = strip::relay_text(text, &[]);
    let left = Left {
        relay: !stripped.is_empty(),
        note: !note.is_empty(),
        commands: outcome.any,
    };
    match (pass_on(route, left), route.report()) {
        (PassOn::Relay, Some(id)) => {
            rec.record(
                tx,
                EventKind::RelayStripped,
                json!({ "command_lines": stripped.removed.command_lines,
                        "quoted_lines": stripped.removed.quoted_lines,
                        "cut_at": stripped.removed.tail.map(strip::Tail::as_str),
                        "cut_lines": stripped.removed.tail_lines,
                        "member_mentions": stripped.removed.member_mentions }),
            )?;
            relay::relay(m, tx, id, &a, &stripped.text, now)?;
        }
        // Inside the team, names and addresses may stay.
        (PassOn::Note, Some(id)) => members::internal_note(m, tx, id, &a, &note.text, now)?,
        (PassOn::Empty, _) => {
            rec.record(
                tx,
                EventKind::TeamMailEmpty,
                json!({ "reason": "nothing left to pass on after removing quotes, signature and commands" }),
            )?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
