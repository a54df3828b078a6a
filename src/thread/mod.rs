//! Classify a message (who sent it, whether it is automatic and so must never
//! be answered) and decide which report it belongs to. Everything here is pure:
//! the caller looks facts up in the store and passes them in.
//!
//! Two kinds of mail may join a report without a participant sending it, so
//! both must prove where they belong instead of naming a report: our own mail
//! (its Message-ID and body are those of an outbox row: [`own`]) joins that
//! row's report, and a bounce (delivered to a return path whose token we
//! issued: [`bounce`]) joins the report of the mail it returns. Anything else
//! that only claims to be either is stored in no report.

pub mod bounce;
pub mod mailbox;
pub mod own;

use crate::config::{Address, Team};
use crate::parse::{ParsedMessage, ReturnPath};
use crate::report::ReportId;

pub use mailbox::mailbox;
pub use own::{claims_to_be_ours, is_our_message_id};

/// The plus-address token a message was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `security+SEC-2026-0042@…`: the report's reply address.
    Reply(ReportId),
    /// `security+SEC-2026-0042-internal@…`: team only.
    Internal(ReportId),
    /// `security+control@…`.
    Control,
    /// A plus-tag that means nothing to us.
    Unknown(String),
}

/// Finds the first plus-address token among `recipients` (To, Cc, Delivered-To…).
/// Return paths (`security+bounce-<token>@…`, see [`bounce`]) are no report's
/// token and are skipped.
pub fn find_token<'a>(
    recipients: impl IntoIterator<Item = &'a str>,
    program: &Address,
    prefix: &str,
) -> Option<Token> {
    let mut unknown = None;
    for addr in recipients {
        let Some((local, domain)) = addr.rsplit_once('@') else {
            continue;
        };
        if !domain.eq_ignore_ascii_case(&program.domain) {
            continue;
        }
        let Some((base, tag)) = local.split_once('+') else {
            continue;
        };
        if !base.eq_ignore_ascii_case(&program.local) || bounce::token_of_tag(tag).is_some() {
            continue;
        }
        if tag.eq_ignore_ascii_case("control") {
            return Some(Token::Control);
        }
        let lower = tag.to_ascii_lowercase();
        if let Some(id) = lower.strip_suffix("-internal") {
            if let Some(id) = ReportId::parse(prefix, id) {
                return Some(Token::Internal(id));
            }
        } else if let Some(id) = ReportId::parse(prefix, tag) {
            return Some(Token::Reply(id));
        }
        unknown.get_or_insert_with(|| Token::Unknown(tag.to_owned()));
    }
    unknown
}

/// Finds a `[SEC-2026-0042]` tag in a subject.
pub fn subject_tag(subject: &str, prefix: &str) -> Option<ReportId> {
    subject
        .split('[')
        .skip(1)
        .filter_map(|rest| rest.split_once(']'))
        .find_map(|(inside, _)| ReportId::parse(prefix, inside.trim()))
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A copy of a mail from our outbox (see [`own`]).
    Own,
    /// Claims to be ours (our From, a Message-ID shaped like ours) but is no
    /// mail we sent: someone else wrote it.
    Spoofed,
    Team,
    External,
}

/// Why a message must never be answered automatically: an answer to automatic
/// mail could start a mail loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automation {
    Bounce,
    AutoReply,
    List,
    Bulk,
}

impl Automation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bounce => "bounce",
            Self::AutoReply => "auto-reply",
            Self::List => "list",
            Self::Bulk => "bulk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub sender: Sender,
    pub automation: Option<Automation>,
}

/// True for the program address and all its plus-addresses.
pub fn is_program_address(addr: &str, program: &Address) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    let base = local.split_once('+').map_or(local, |(base, _)| base);
    base.eq_ignore_ascii_case(&program.local) && domain.eq_ignore_ascii_case(&program.domain)
}

/// Classifies `msg`. `sent_by_us` says the caller found it to be a copy of an
/// outbox row ([`own::same_body`]); nothing in the message itself can say so.
pub fn classify(msg: &ParsedMessage, program: &Address, team: &Team, sent_by_us: bool) -> Class {
    let from = msg.from.as_ref().map(|m| m.address.as_str());
    let sender = if sent_by_us {
        Sender::Own
    } else if claims_to_be_ours(msg, program) {
        Sender::Spoofed
    } else if from.is_some_and(|a| team.member(a).is_some()) {
        Sender::Team
    } else {
        Sender::External
    };
    let from_daemon = from.is_some_and(|a| {
        let local = a.split('@').next().unwrap_or("");
        local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
    });
    let automation = if msg.is_dsn || from_daemon {
        Some(Automation::Bounce)
    } else if msg.auto_submitted.is_some() || msg.auto_reply_header {
        Some(Automation::AutoReply)
    } else if msg.list_id.is_some() || msg.precedence.as_deref() == Some("list") {
        Some(Automation::List)
    } else if matches!(msg.precedence.as_deref(), Some("bulk" | "junk")) {
        Some(Automation::Bulk)
    } else if bounce::to_return_path(addresses(msg), program) {
        // Only mail servers and auto-responders write to a return path.
        Some(Automation::Bounce)
    } else if msg.return_path == ReturnPath::Empty {
        // A null sender without other signs is still automatic (RFC 3834 §2).
        Some(Automation::AutoReply)
    } else {
        None
    };
    Class { sender, automation }
}

/// Where a message was delivered and addressed: `Delivered-To` and the like,
/// then To and Cc.
pub fn addresses(msg: &ParsedMessage) -> impl Iterator<Item = &str> {
    msg.delivered_to
        .iter()
        .map(String::as_str)
        .chain(msg.recipients.iter().map(|r| r.address.as_str()))
}

impl Class {
    /// The `kind` recorded with the message.
    pub fn kind(self, opens_report: bool, participant: bool) -> &'static str {
        match (self.sender, self.automation) {
            (Sender::Own, _) => "own",
            (Sender::Spoofed, _) => "spoofed",
            (Sender::Team, _) => "team",
            (Sender::External, Some(a)) => a.as_str(),
            (Sender::External, None) if opens_report => "reporter",
            (Sender::External, None) if participant => "participant",
            (Sender::External, None) => "external",
        }
    }
}

/// How a message was matched to a report (stored as `store::ThreadedBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    PlusAddress,
    SubjectTag,
    References,
    /// Our own mail: the report of the outbox row it is a copy of.
    Outbox,
    /// Automatic mail to a return path: the report of the outbox row whose
    /// token it names.
    ReturnPath,
}

/// The report a message points at, found by the first rule that matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub report: ReportId,
    pub via: Via,
}

/// What happens to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Joins an existing report.
    Attach(Candidate),
    /// Opens a new report; `mentioned` is a report it pointed at that the sender
    /// does not take part in (so it cannot be attached there).
    Open { mentioned: Option<ReportId> },
    /// Stored in no report.
    Unattached { reason: &'static str },
}

/// Decides where a message goes. `sender_participates` says whether the sender
/// takes part in the candidate report.
pub fn decide(class: Class, candidate: Option<Candidate>, sender_participates: bool) -> Decision {
    match (class.sender, class.automation, candidate) {
        // Our own mail joins the report of the mail it copies, and opens nothing.
        (Sender::Own, _, Some(c)) if c.via == Via::Outbox => Decision::Attach(c),
        (Sender::Own, _, _) => Decision::Unattached {
            reason: "our own mail, not about a known report",
        },
        // Mail in our name that we never sent: whatever it names, it joins no
        // report (it could write into anyone's) and opens none.
        (Sender::Spoofed, _, _) => Decision::Unattached {
            reason: "claims to be our own mail, but we never sent it",
        },
        // A member's auto-reply answers nothing, and anyone can write one in a
        // member's name: it writes into no report.
        (Sender::Team, Some(_), _) => Decision::Unattached {
            reason: "automatic mail from a team address acts on no report",
        },
        (Sender::Team, None, Some(c)) => Decision::Attach(c),
        (Sender::Team, _, None) => Decision::Unattached {
            reason: "team mail, not about a known report",
        },
        // A bounce comes from a mail server, never a participant; it belongs to
        // the report of the mail it returns, known only from its return path.
        (Sender::External, Some(Automation::Bounce), Some(c)) if c.via == Via::ReturnPath => {
            Decision::Attach(c)
        }
        (Sender::External, Some(Automation::Bounce), _) => Decision::Unattached {
            reason: "a bounce that does not answer a mail we sent",
        },
        (Sender::External, Some(_), Some(c)) if sender_participates => Decision::Attach(c),
        (Sender::External, Some(_), _) => Decision::Unattached {
            reason: "automatic mail, not from a participant of a known report",
        },
        (Sender::External, None, Some(c)) if sender_participates => Decision::Attach(c),
        // Report ids are guessable: an outsider naming one opens a report of
        // their own instead of writing into someone else's.
        (Sender::External, None, c) => Decision::Open {
            mentioned: c.map(|c| c.report),
        },
    }
}

/// Whether a message may get an automatic reply; `Err` names why not.
pub fn may_auto_reply(class: Class, has_sender: bool) -> Result<(), &'static str> {
    match (class.sender, class.automation) {
        (Sender::Own, _) => Err("our own mail is never answered"),
        (Sender::Spoofed, _) => Err("mail in our name is never answered"),
        (_, Some(Automation::Bounce)) => Err("bounces are never answered"),
        (_, Some(Automation::AutoReply)) => Err("automatic replies are never answered"),
        (_, Some(Automation::List)) => Err("mailing-list mail is never answered"),
        (_, Some(Automation::Bulk)) => Err("bulk mail is never answered"),
        (Sender::Team, None) => Err("team mail gets no acknowledgement"),
        (Sender::External, None) if !has_sender => Err("there is no sender address to answer"),
        (Sender::External, None) => Ok(()),
    }
}

/// Whether another automatic reply to a sender fits the rate limit.
pub fn within_rate_limit(sent_in_window: u32, limit: u32) -> bool {
    sent_in_window < limit
}

#[cfg(test)]
mod tests;
