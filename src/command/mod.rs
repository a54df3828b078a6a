//! The team's mail commands: `#state triaged`, `#extend 30d because …`.
//!
//! Two pure steps. [`parse_block`] finds the command lines at the top of a body
//! and parses each one on its own; [`plan`] checks them against the report, the
//! team and the SLA, and returns either every change to apply, in order, or every
//! refusal: a mail's commands apply all together or not at all, so a typo never
//! leaves a report half-updated. The caller writes the [`Change`]s and answers
//! with [`Change`]'s `Display` lines or the [`Refusal`]s.

pub mod apply;
mod cvss;
pub(crate) mod parse;
pub(crate) mod plan;

#[cfg(test)]
mod tests;

use std::fmt;

use jiff::civil::Date;

use crate::config::Address;
use crate::report::{Affected, ReportId, ReportState};
use crate::store::ReportRecord;

pub use crate::report::Severity;
pub use cvss::{CvssScore, CvssVersion};
pub use parse::{REPLY_DIRECTIVE, parse_block, parse_command, take_reply_directive};
pub use plan::{plan, state_reached};

/// One command line, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `#state S`.
    State(ReportState),
    /// `#state risk-accepted because REASON`: the reason is required.
    RiskAccept { reason: String },
    /// `#publish`: `#state disclosed`, from fixed or risk-accepted.
    Publish,
    /// `#affects PRODUCT VERSIONS`, `#affects PRODUCT none`, `#affects none`.
    Affects(Affects),
    /// `#cwe CWE-79`; `None` for `#cwe none`.
    Cwe(Option<String>),
    /// `#summary TEXT`, the text published in advisories; `None` for `#summary none`.
    Summary(Option<String>),
    /// `#credit-key NAME`; `None` for `#credit-key none`.
    CreditKey(Option<String>),
    /// `#severity none|low|medium|high|critical`.
    Severity(Severity),
    /// `#cvss VECTOR`.
    Cvss(CvssScore),
    /// `#assign ADDRESS`; `None` for `#assign none`.
    Assign(Option<Address>),
    /// `#duplicate ID [reply]`.
    Duplicate { of: ReportId, reply: bool },
    /// `#cve CVE-YYYY-NNNN`, upper case.
    Cve(String),
    /// `#credit NAME [URL]`; `None` for `#credit none`.
    Credit(Option<Credit>),
    /// `#fixed-in VERSION`.
    FixedIn(String),
    /// `#disclose YYYY-MM-DD`.
    Disclose(Date),
    /// `#extend 30d because REASON`.
    Extend { days: u32, reason: String },
    /// `#waiting`: pause the SLA until the reporter answers.
    Waiting,
    /// `#resend-ack`: queue the acknowledgement that could not be composed.
    ResendAck,
    /// `#notify` or `#quiet`: whether the reporter hears of this mail's state change.
    Notify(Notify),
    /// `#attach MSG`: put a stored message that joined no report in this one.
    Attach(i64),
    /// `#help`, on either address.
    Help,
    /// `#list [state]` (control address).
    List(Option<ReportState>),
    /// `#show ID` (control address).
    Show(ReportId),
    /// `#digest` (control address).
    Digest,
    /// `#stats` (control address).
    Stats,
    /// `#hall-of-fame` (control address).
    HallOfFame,
    /// `#advisory ID` (control address).
    Advisory(ReportId),
    /// `#outbox` (control address): the mail that failed or waits for a key.
    Outbox,
    /// `#search QUERY` (control address): the query as written, checked.
    Search(String),
}

/// Where a command may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Report,
    Control,
    Both,
}

impl Command {
    /// The command's name as typed, e.g. `#state`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::State(_) | Self::RiskAccept { .. } => "#state",
            Self::Publish => "#publish",
            Self::Affects(_) => "#affects",
            Self::Cwe(_) => "#cwe",
            Self::Summary(_) => "#summary",
            Self::CreditKey(_) => "#credit-key",
            Self::Severity(_) => "#severity",
            Self::Cvss(_) => "#cvss",
            Self::Assign(_) => "#assign",
            Self::Duplicate { .. } => "#duplicate",
            Self::Cve(_) => "#cve",
            Self::Credit(_) => "#credit",
            Self::FixedIn(_) => "#fixed-in",
            Self::Disclose(_) => "#disclose",
            Self::Extend { .. } => "#extend",
            Self::Waiting => "#waiting",
            Self::ResendAck => "#resend-ack",
            Self::Notify(notify) => notify.name(),
            Self::Attach(_) => "#attach",
            Self::Help => "#help",
            Self::List(_) => "#list",
            Self::Show(_) => "#show",
            Self::Digest => "#digest",
            Self::Stats => "#stats",
            Self::HallOfFame => "#hall-of-fame",
            Self::Advisory(_) => "#advisory",
            Self::Outbox => "#outbox",
            Self::Search(_) => "#search",
        }
    }

    /// Which address the command belongs on.
    pub fn applies(&self) -> Applies {
        match self {
            Self::Help => Applies::Both,
            Self::List(_) | Self::Show(_) | Self::Digest | Self::Stats => Applies::Control,
            Self::HallOfFame | Self::Advisory(_) | Self::Outbox | Self::Search(_) => {
                Applies::Control
            }
            _ => Applies::Report,
        }
    }
}

/// `#notify` or `#quiet`: sends, or holds back, the update to the reporter
/// that the state change in the same mail would cause by default
/// (`[notify_reporter]`). Neither means anything without a state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// `#notify`: tell the reporter whatever the default for the state.
    Force,
    /// `#quiet`: do not tell them.
    Quiet,
}

impl Notify {
    pub fn name(self) -> &'static str {
        match self {
            Self::Force => "#notify",
            Self::Quiet => "#quiet",
        }
    }
}

/// How a reporter is credited in the Hall of Fame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// At most 100 characters, no control or invisible characters.
    pub name: String,
    /// "from AFFILIATION", the same limits as the name.
    pub affiliation: Option<String>,
    /// An `http` or `https` URL.
    pub url: Option<String>,
}

impl fmt::Display for Credit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(affiliation) = &self.affiliation {
            write!(f, " from {affiliation}")?;
        }
        match &self.url {
            Some(url) => write!(f, " ({url})"),
            None => Ok(()),
        }
    }
}

/// What an `#affects` line does to the report's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affects {
    /// Adds a product's version range (kept once).
    Add(Affected),
    /// `#affects PRODUCT none`: removes every range of one product.
    ClearProduct(String),
    /// `#affects none`: removes them all.
    ClearAll,
}

/// Why one command line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{name}`; the commands are {}", COMMAND_NAMES.join(", "))]
    Unknown { name: String },
    #[error("`{command}` needs an argument: {usage}")]
    MissingArgument {
        command: &'static str,
        usage: &'static str,
    },
    #[error("`{command}` takes no argument, but got `{argument}`")]
    UnexpectedArgument {
        command: &'static str,
        argument: String,
    },
    #[error("`{command}`: {reason}")]
    Invalid {
        command: &'static str,
        reason: String,
    },
}

/// Every command name, in the order the help lists them.
pub const COMMAND_NAMES: &[&str] = &[
    "#state",
    "#publish",
    "#severity",
    "#cvss",
    "#assign",
    "#duplicate",
    "#cve",
    "#credit",
    "#credit-key",
    "#affects",
    "#cwe",
    "#summary",
    "#fixed-in",
    "#disclose",
    "#extend",
    "#waiting",
    "#resend-ack",
    "#attach",
    "#notify",
    "#quiet",
    "#help",
    "#list",
    "#show",
    "#digest",
    "#stats",
    "#hall-of-fame",
    "#advisory",
    "#outbox",
    "#search",
];

/// One command line of a block: its text and what it parsed to.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The line, trimmed (for replies: "`#state fixd`: …").
    pub line: String,
    pub command: Result<Command, CommandError>,
}

/// The command block at the top of a body, and the text after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Block<'a> {
    pub entries: Vec<Entry>,
    /// Where the text after the block starts in the body (0 without commands).
    pub rest_offset: usize,
    /// The body after the block: what is relayed to a reporter.
    pub rest: &'a str,
}

impl Block<'_> {
    /// True when the body started with no command line.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the commands are checked against.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Mail to a report's reply or internal address.
    Report(ReportFacts),
    /// Mail to the control address.
    Control,
}

/// What [`plan`] needs to know about the report a mail was sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFacts {
    pub id: ReportId,
    pub state: ReportState,
    /// Days (business days when the SLA's fix time is in business days) of fix
    /// extension already granted.
    pub extension_days: u32,
    /// Whether the SLA is already paused by `#waiting`.
    pub waiting: bool,
    /// Whether the acknowledgement could not be composed, with none queued since.
    pub ack_failed: bool,
    /// The severity `#severity` set, else the CVSS score's: it picks the fix
    /// deadline `#extend` is checked against.
    pub severity: Option<Severity>,
    /// The CVSS score's severity, which rates the report without a `#severity`.
    pub cvss_severity: Option<Severity>,
    /// Whether the report has a named credit (`#credit-key` needs one).
    pub credited: bool,
    /// Whether the reporter's latest `Credit:` answer was `none`.
    pub credit_declined: bool,
    /// The products and version ranges recorded so far.
    pub affects: Vec<Affected>,
    /// Of the messages the mail's `#attach` lines name, those that exist and
    /// belong to no report (the caller looks them up before planning).
    pub attachable: Vec<i64>,
}

impl ReportFacts {
    /// The facts of `record`; `ack_failed` and `credit_declined` come from its
    /// events.
    pub fn of(record: &ReportRecord, ack_failed: bool, credit_declined: bool) -> Self {
        Self {
            id: record.id.clone(),
            state: record.state,
            extension_days: record.fix_extension_days,
            waiting: record.waiting,
            ack_failed,
            severity: record.severity,
            cvss_severity: record.cvss_severity,
            credited: matches!(record.credit, crate::report::Credit::Named { .. }),
            credit_declined,
            affects: record.affects.clone(),
            attachable: Vec::new(),
        }
    }

    /// The severity that picks the fix deadline.
    pub fn effective_severity(&self) -> Option<Severity> {
        self.severity.or(self.cvss_severity)
    }
}

/// Whether `#extend` days are calendar or business days: the SLA's `fix` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Calendar,
    Business,
}

impl DayKind {
    fn days(self, n: u32) -> String {
        let plural = if n == 1 { "" } else { "s" };
        match self {
            Self::Calendar => format!("{n} day{plural}"),
            Self::Business => format!("{n} business day{plural}"),
        }
    }
}

/// One validated change, for the integrator to write (and event-log) in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `reason`: why, when the state asks for one (risk-accepted).
    State {
        from: ReportState,
        to: ReportState,
        reason: Option<String>,
    },
    Severity(Severity),
    Cvss(CvssScore),
    /// `None` clears the assignee.
    Assign(Option<Assignee>),
    /// The report becomes a duplicate of `of`; with `reply`, the reporter gets the
    /// duplicate template.
    Duplicate {
        of: ReportId,
        from: ReportState,
        reply: bool,
    },
    Cve(String),
    /// `None`: the reporter is not credited.
    Credit(Option<Credit>),
    /// `None`: derived from the credit name again.
    CreditKey(Option<String>),
    /// The whole list of affected products after the line.
    Affects {
        line: Affects,
        all: Vec<Affected>,
    },
    Cwe(Option<String>),
    Summary(Option<String>),
    FixedIn(String),
    Disclose(Date),
    /// The fix deadline moves by `days`; `extension_days` is every extension so
    /// far including this one, `total_days` the fix time with all of them.
    Extend {
        days: u32,
        reason: String,
        extension_days: u32,
        total_days: u32,
        kind: DayKind,
    },
    /// Pause the SLA until the reporter answers.
    Waiting,
    /// Compose and queue the acknowledgement again (the team stage does it).
    ResendAck,
    /// Attach message `0`, in no report, to this one; it is not relayed (the
    /// team stage does it and tells the team).
    Attach(i64),
    /// Send or hold back the reporter's update for this mail's state change
    /// (the team stage decides, once every change is applied).
    Notify(Notify),
    /// Answer with [`help`] for the address the mail went to.
    Help,
    List(Option<ReportState>),
    Show(ReportId),
    Digest,
    Stats,
    HallOfFame,
    /// The advisory of a report that is fixed, risk-accepted or disclosed.
    Advisory(ReportId),
    /// The failed mail and the mail held for a key.
    Outbox,
    /// The reports matching a query, best first.
    Search(String),
}

impl Change {
    /// One line for the reply mail, e.g. `state: acknowledged → triaged`.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::State {
                from,
                to,
                reason: Some(reason),
            } => write!(f, "state: {from} → {to} because {reason}"),
            Self::State { from, to, .. } => write!(f, "state: {from} → {to}"),
            Self::Severity(severity) => write!(f, "severity: {severity}"),
            Self::Cvss(cvss) => write!(
                f,
                "CVSS {} score {:.1} ({}): {}",
                cvss.version, cvss.score, cvss.severity, cvss.vector
            ),
            Self::Assign(Some(assignee)) => {
                write!(f, "assigned to {} <{}>", assignee.name, assignee.email)
            }
            Self::Assign(None) => f.write_str("unassigned"),
            Self::Duplicate { of, from, reply } => write!(
                f,
                "state: {from} → duplicate of {of} ({})",
                if *reply {
                    "the reporter gets the duplicate reply"
                } else {
                    "no reply to the reporter"
                }
            ),
            Self::Cve(cve) => write!(f, "CVE: {cve}"),
            Self::Credit(Some(credit)) => write!(f, "credit: {credit}"),
            Self::Credit(None) => f.write_str("credit: none (the reporter is not credited)"),
            Self::CreditKey(Some(key)) => write!(f, "credit key: {key}"),
            Self::CreditKey(None) => f.write_str("credit key: derived from the credit name"),
            Self::Affects { line, all } => {
                match line {
                    Affects::Add(a) => write!(f, "affects: {} {}", a.product, a.versions)?,
                    Affects::ClearProduct(p) => write!(f, "affects: {p} removed")?,
                    Affects::ClearAll => f.write_str("affects: cleared")?,
                }
                if all.is_empty() {
                    Ok(())
                } else {
                    let list: Vec<String> = all
                        .iter()
                        .map(|a| format!("{} {}", a.product, a.versions))
                        .collect();
                    write!(f, " (now: {})", list.join("; "))
                }
            }
            Self::Cwe(Some(cwe)) => write!(f, "CWE: {cwe}"),
            Self::Cwe(None) => f.write_str("CWE: cleared"),
            Self::Summary(Some(text)) => write!(f, "public summary: {}", shorten(text)),
            Self::Summary(None) => f.write_str("public summary: cleared"),
            Self::FixedIn(version) => write!(f, "fixed in: {version}"),
            Self::Disclose(date) => write!(f, "disclosure date: {date}"),
            Self::Extend {
                days,
                reason,
                total_days,
                kind,
                ..
            } => write!(
                f,
                "fix deadline extended by {} to {} after acceptance: {reason}",
                kind.days(*days),
                kind.days(*total_days)
            ),
            Self::Waiting => f.write_str("waiting for the reporter: SLA paused until they answer"),
            Self::ResendAck => f.write_str("acknowledgement: composed again"),
            Self::Attach(message) => write!(
                f,
                "message {message} attached to the report (not sent to the reporter)"
            ),
            Self::Notify(Notify::Force) => {
                f.write_str("#notify: the reporter is told of the state change")
            }
            Self::Notify(Notify::Quiet) => {
                f.write_str("#quiet: the reporter is not told of the state change")
            }
            Self::Help => f.write_str("help: the command reference follows"),
            Self::List(Some(state)) => write!(f, "list: reports in state {state}"),
            Self::List(None) => f.write_str("list: open reports"),
            Self::Show(id) => write!(f, "show: {id}"),
            Self::Digest => f.write_str("digest"),
            Self::Stats => f.write_str("statistics"),
            Self::HallOfFame => f.write_str("Hall of Fame"),
            Self::Advisory(id) => write!(f, "advisory: {id}"),
            Self::Outbox => f.write_str("outbox: failed mail"),
            Self::Search(query) => write!(f, "search: {}", shorten(query)),
        }
    }
}

/// The team member a report is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub name: String,
    pub email: Address,
}

/// A command line that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The command line, trimmed.
    pub line: String,
    pub reason: Refused,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", shorten(&self.line), self.reason)
    }
}

/// Why [`plan`] refused a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Parse(#[from] CommandError),
    #[error(
        "`{command}` changes one report: send it to that report's address (the plus-address with its id), not the control address"
    )]
    NeedsReportAddress { command: &'static str },
    #[error("`{command}` is a control command: send it to the control address (+control)")]
    NeedsControlAddress { command: &'static str },
    #[error("the report is already {state}")]
    AlreadyInState { state: ReportState },
    #[error("cannot go from {from} to {to}; {}", allowed_from(*from))]
    TransitionNotAllowed { from: ReportState, to: ReportState },
    #[error("to mark a duplicate, use `#duplicate ID` so the original report is recorded")]
    StateDuplicate,
    #[error("{id} cannot be a duplicate of itself")]
    DuplicateOfItself { id: ReportId },
    #[error("there is no report {id}")]
    NoSuchReport { id: ReportId },
    #[error("{address} is not a team member; assign one of: {members}")]
    NotAMember { address: Address, members: String },
    #[error(
        "`#extend` works only while the report is accepted (the fix clock runs from acceptance); it is {state}"
    )]
    ExtendNotAccepted { state: ReportState },
    #[error(
        "would make the fix deadline {}, beyond {} of {}{}",
        kind.days(*total), max_key(*severity), kind.days(*max), remaining_note(*kind, *max, *total, *asked)
    )]
    ExtendBeyondMax {
        total: u32,
        max: u32,
        asked: u32,
        kind: DayKind,
        /// The severity whose `fix_max` applied, if one was configured for it.
        severity: Option<Severity>,
    },
    #[error("`#extend` cannot be checked against the SLA: {reason}")]
    ExtendPolicy { reason: String },
    #[error("the disclosure date {date} is in the past (today is {today})")]
    DiscloseInPast { date: Date, today: Date },
    #[error("`#waiting` pauses the SLA of an open report; this one is {state}")]
    WaitingClosed { state: ReportState },
    #[error("the SLA is already paused: the report is waiting for the reporter")]
    AlreadyWaiting,
    #[error(
        "the reporter asked not to be credited (`Credit: none`); only they can change that, by writing a new `Credit:` line"
    )]
    CreditDeclined,
    #[error("there is no credit to key yet; set one with `#credit \"NAME\"` first")]
    CreditKeyWithoutCredit,
    #[error("{product} {versions} is already listed")]
    AffectsAlready { product: String, versions: String },
    #[error("{product} is not listed; listed: {listed}")]
    AffectsUnknownProduct { product: String, listed: String },
    #[error("a report lists at most {max} affected ranges")]
    AffectsTooMany { max: usize },
    #[error("`#publish` discloses a report that is fixed or risk-accepted; this one is {state}")]
    PublishNotReady { state: ReportState },
    #[error(
        "`#resend-ack` queues an acknowledgement that could not be composed; this report's did not fail, or one is queued already"
    )]
    NoFailedAck,
    #[error(
        "message {message} cannot be attached: it does not exist or belongs to a report already (`disclosed messages --unattached` lists those that can be)"
    )]
    NotAttachable { message: i64 },
    #[error(
        "`{command}` only goes with a `#state` change in the same mail (it sends or holds back the reporter's update about it), and this mail changes no state"
    )]
    NotifyWithoutState { command: &'static str },
    #[error(
        "`#notify`: the reporter gets no update when a report becomes {state}; updates exist for triaged, accepted, fixed, risk-accepted and disclosed"
    )]
    NotifyNoUpdate { state: ReportState },
    #[error("`#notify` and `#quiet` contradict each other; keep one")]
    NotifyAndQuiet,
    #[error(
        "{id} is {state}: an advisory is drafted once the report is fixed, risk-accepted or disclosed"
    )]
    AdvisoryNotReady { id: ReportId, state: ReportState },
}

fn allowed_from(from: ReportState) -> String {
    let allowed: Vec<&str> = ReportState::ALL
        .into_iter()
        .filter(|to| from.can_become(*to) && *to != ReportState::Duplicate)
        .map(ReportState::as_str)
        .collect();
    let duplicate = from.can_become(ReportState::Duplicate);
    match (allowed.is_empty(), duplicate) {
        (true, false) => format!("{from} is final"),
        (true, true) => "allowed next: only `#duplicate ID`".to_owned(),
        (false, false) => format!("allowed next: {}", allowed.join(", ")),
        (false, true) => format!("allowed next: {} (or `#duplicate ID`)", allowed.join(", ")),
    }
}

/// The config key of the extension maximum that applied.
fn max_key(severity: Option<Severity>) -> String {
    match severity {
        Some(s) => format!("sla.severity.{s}.fix_max"),
        None => "fix_max".to_owned(),
    }
}

fn remaining_note(kind: DayKind, max: u32, total: u32, asked: u32) -> String {
    let before = total.saturating_sub(asked);
    match max.checked_sub(before) {
        Some(0) | None => "; no further extension is possible".to_owned(),
        Some(left) => format!("; at most {} more can be granted", kind.days(left)),
    }
}

/// Cuts user input quoted back in messages, so a huge line is not mailed back whole.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A short command reference for the address a mail went to.
pub fn help(scope: &Scope) -> String {
    match scope {
        // Listed only where it applies: a report whose acknowledgement failed.
        Scope::Report(facts) if facts.ack_failed => {
            REPORT_HELP.replacen(HELP_LINE, &format!("{RESEND_ACK_HELP}{HELP_LINE}"), 1)
        }
        Scope::Report(_) => REPORT_HELP.to_owned(),
        Scope::Control => CONTROL_HELP.to_owned(),
    }
}

const REPORT_HELP: &str = r#"Commands go on their own lines at the very top of the mail, before any other text.
They apply all together, or not at all if one is refused.

  #state STATE            new, acknowledged, triaged, accepted, fixed,
                          disclosed, rejected, out-of-scope, spam
  #state risk-accepted because WHY
                          accept the risk instead of fixing; still disclosed
  #publish                disclose a fixed or risk-accepted report
  #severity LEVEL         none, low, medium, high, critical
  #cvss VECTOR            CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H (3.0, 3.1, 4.0)
  #assign ADDRESS         a team member's address; #assign none to clear
  #duplicate ID [reply]   duplicate of another report; `reply` tells the reporter
  #cve CVE-YYYY-NNNN      the CVE id
  #credit "NAME" [from AFFILIATION] [URL]
                          Hall of Fame credit (http/https URL); #credit none
  #credit-key NAME        the name one person's credits merge by; #credit-key none
  #affects PRODUCT RANGE  e.g. #affects server < 9.5.3, >= 9.0, < 9.5.3,
                          9.5.0 - 9.5.2, = 9.1.0 or *; repeatable;
                          #affects PRODUCT none, #affects none
  #cwe CWE-79             the weakness; #cwe none
  #summary TEXT           the summary published in the advisory; #summary none
  #fixed-in VERSION       the release with the fix
  #disclose YYYY-MM-DD    the agreed disclosure date
  #extend 30d because WHY
                          extend the fix deadline (days or weeks, up to fix_max)
  #waiting                pause the SLA until the reporter answers
  #attach MSG             attach a stored message that joined no report (by its
                          number in `disclosed messages --unattached`); it is not
                          sent to the reporter
  #notify / #quiet        with a #state change: do / do not send the reporter
                          its update, whatever [notify_reporter] says
  #help                   this text

  #reply                  on the reply address: relay the rest of the signed text to
                          the reporter (needed unless your client signs the To header;
                          without it the mail stays inside the team)
"#;

const HELP_LINE: &str = "  #help                   this text\n";

const RESEND_ACK_HELP: &str =
    "  #resend-ack             queue the acknowledgement that could not be composed
                          (once its template is fixed)
";

const CONTROL_HELP: &str = "\
Commands go on their own lines at the very top of the mail to the control address.

  #list [STATE]   reports, all open ones or those in STATE
  #show ID        one report
  #digest         the digest of open reports and deadlines
  #stats          statistics
  #hall-of-fame   the Hall of Fame
  #advisory ID    the advisory of a fixed, risk-accepted or disclosed report
  #outbox         the mail that failed or waits for a key (queue it again
                  with `disclosed outbox retry` on the host)
  #search QUERY   reports whose text, subject, people, ids or tags match;
                  \"a phrase\", word*, a OR b, -word, tag:WORD, cve:ID, from:WHO
  #help           this text

Commands that change a report go to that report's own address.
";
