//! The audit log's vocabulary: what happened ([`EventKind`]), who did it
//! ([`Actor`]) and how they proved it ([`Auth`]). Every event the daemon writes
//! names its kind from here, and the SLA engine's clocks read the same
//! variants, so a misspelt kind cannot silently stop a deadline.

use std::fmt;

/// What an event records. The log stores [`EventKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A new report was opened by its first message.
    ReportOpened,
    /// A message was stored.
    MessageReceived,
    /// A triage rule matched a new report.
    RuleApplied,
    /// The reporter's answer was queued.
    AcknowledgementQueued,
    /// A new report got no automatic answer, and why.
    AcknowledgementSkipped,
    /// The answer to a new report could not be composed or sealed.
    AcknowledgementFailed,
    /// Other mail to the reporter could not be sealed.
    ReporterMailFailed,
    /// Mail to the reporter was queued.
    ReporterMailQueued,
    /// Mail to the reporter is held until a proven key is known.
    ReplyHeld,
    /// Held mail went out to a proven key.
    HeldMailReleased,
    /// A notice to the team was held by a flood limit.
    TeamNoticeHeld,
    /// A notification to the team could not be rendered.
    TeamNotificationFailed,
    /// Mail to members was queued.
    TeamMailQueued,
    /// Mail to members could not be composed.
    TeamMailFailed,
    /// A member's mail was authenticated.
    TeamMailAuthenticated,
    /// Mail in a member's name was refused, and why.
    TeamMailRefused,
    /// A member's mail left nothing to pass on.
    TeamMailEmpty,
    /// Content outside a member's signature was ignored.
    UnsignedContentIgnored,
    /// A member's commands were refused.
    CommandsRefused,
    /// The report's state moved.
    StateChanged,
    /// The severity was set.
    SeveritySet,
    /// A CVSS vector was recorded.
    CvssSet,
    /// The assignee changed.
    Assigned,
    /// The report became a duplicate of another.
    MarkedDuplicate,
    /// Another report was marked a duplicate of this one.
    DuplicateLinked,
    /// The CVE id was recorded.
    CveSet,
    /// How the reporter is credited was recorded.
    CreditRecorded,
    /// The release with the fix was recorded.
    FixedInSet,
    /// The affected products and versions changed (`#affects`).
    AffectsSet,
    /// The CWE was recorded (`#cwe`).
    CweSet,
    /// The summary for publication changed (`#summary`).
    SummarySet,
    /// The disclosure date was agreed.
    DisclosureDateSet,
    /// The fix deadline was extended.
    FixExtended,
    /// The clocks pause until the reporter answers.
    WaitingStarted,
    /// The reporter answered: the clocks run again.
    WaitingEnded,
    /// What stripping took out of a relay.
    RelayStripped,
    /// A member's answer went to the reporter.
    RelayedToReporter,
    /// A relay could not be composed.
    RelayFailed,
    /// A relay carried lines of team mail and was held back.
    RelayRefused,
    /// Mail to the reply address stayed inside the team: the route was not signed.
    RelayRouteUnproven,
    /// A member's note went to the other members.
    InternalNote,
    /// A mail we sent bounced.
    DeliveryProblem,
    /// A mail could not be delivered.
    DeliveryFailed,
    /// A correspondent's first key was stored.
    KeyLearned,
    /// A correspondent's key was replaced by one the old key signed.
    KeyRotated,
    /// A proven key replaced an unproven one.
    KeySuperseded,
    /// A different key arrived while another is in use.
    KeyChanged,
    /// A key was not stored, and why.
    KeyIgnored,
    /// The team accepted a key.
    KeyAccepted,
    /// A confirmation round trip proved a key.
    KeyConfirmed,
    /// A key confirmation was sent.
    KeyConfirmationSent,
    /// No key confirmation was sent, and why.
    KeyConfirmationSkipped,
    /// A key confirmation could not be composed.
    KeyConfirmationFailed,
    /// A key confirmation did not count, and why.
    KeyConfirmationRefused,
    /// A reminder of a deadline was queued.
    SlaReminder,
    /// A breached deadline was escalated.
    SlaEscalation,
    /// The digest was queued.
    SlaDigest,
    /// A deadline was already past when its report was imported: recorded as
    /// breached, never escalated.
    BreachedBeforeImport,
    /// A message that belonged to no report was attached to one by hand.
    MessageAttached,
    /// Mail that had failed was queued again by hand.
    OutboxRetried,
}

impl EventKind {
    /// Every kind, in the order above.
    pub const ALL: [EventKind; 60] = [
        Self::ReportOpened,
        Self::MessageReceived,
        Self::RuleApplied,
        Self::AcknowledgementQueued,
        Self::AcknowledgementSkipped,
        Self::AcknowledgementFailed,
        Self::ReporterMailFailed,
        Self::ReporterMailQueued,
        Self::ReplyHeld,
        Self::HeldMailReleased,
        Self::TeamNoticeHeld,
        Self::TeamNotificationFailed,
        Self::TeamMailQueued,
        Self::TeamMailFailed,
        Self::TeamMailAuthenticated,
        Self::TeamMailRefused,
        Self::TeamMailEmpty,
        Self::UnsignedContentIgnored,
        Self::CommandsRefused,
        Self::StateChanged,
        Self::SeveritySet,
        Self::CvssSet,
        Self::Assigned,
        Self::MarkedDuplicate,
        Self::DuplicateLinked,
        Self::CveSet,
        Self::CreditRecorded,
        Self::FixedInSet,
        Self::AffectsSet,
        Self::CweSet,
        Self::SummarySet,
        Self::DisclosureDateSet,
        Self::FixExtended,
        Self::WaitingStarted,
        Self::WaitingEnded,
        Self::RelayStripped,
        Self::RelayedToReporter,
        Self::RelayFailed,
        Self::RelayRefused,
        Self::RelayRouteUnproven,
        Self::InternalNote,
        Self::DeliveryProblem,
        Self::DeliveryFailed,
        Self::KeyLearned,
        Self::KeyRotated,
        Self::KeySuperseded,
        Self::KeyChanged,
        Self::KeyIgnored,
        Self::KeyAccepted,
        Self::KeyConfirmed,
        Self::KeyConfirmationSent,
        Self::KeyConfirmationSkipped,
        Self::KeyConfirmationFailed,
        Self::KeyConfirmationRefused,
        Self::SlaReminder,
        Self::SlaEscalation,
        Self::SlaDigest,
        Self::BreachedBeforeImport,
        Self::MessageAttached,
        Self::OutboxRetried,
    ];

    /// The kinds a report's deadlines start, stop and pause on.
    pub const CLOCK: [EventKind; 7] = [
        Self::ReportOpened,
        Self::RuleApplied,
        Self::StateChanged,
        Self::MarkedDuplicate,
        Self::WaitingStarted,
        Self::WaitingEnded,
        Self::RelayedToReporter,
    ];

    /// The name in the log, e.g. `state-changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReportOpened => "report-opened",
            Self::MessageReceived => "message-received",
            Self::RuleApplied => "rule-applied",
            Self::AcknowledgementQueued => "acknowledgement-queued",
            Self::AcknowledgementSkipped => "acknowledgement-skipped",
            Self::AcknowledgementFailed => "acknowledgement-failed",
            Self::ReporterMailFailed => "reporter-mail-failed",
            Self::ReporterMailQueued => "reporter-mail-queued",
            Self::ReplyHeld => "reply-held",
            Self::HeldMailReleased => "held-mail-released",
            Self::TeamNoticeHeld => "team-notice-held",
            Self::TeamNotificationFailed => "team-notification-failed",
            Self::TeamMailQueued => "team-mail-queued",
            Self::TeamMailFailed => "team-mail-failed",
            Self::TeamMailAuthenticated => "team-mail-authenticated",
            Self::TeamMailRefused => "team-mail-refused",
            Self::TeamMailEmpty => "team-mail-empty",
            Self::UnsignedContentIgnored => "unsigned-content-ignored",
            Self::CommandsRefused => "commands-refused",
            Self::StateChanged => "state-changed",
            Self::SeveritySet => "severity-set",
            Self::CvssSet => "cvss-set",
            Self::Assigned => "assigned",
            Self::MarkedDuplicate => "marked-duplicate",
            Self::DuplicateLinked => "duplicate-linked",
            Self::CveSet => "cve-set",
            Self::CreditRecorded => "credit-recorded",
            Self::FixedInSet => "fixed-in-set",
            Self::AffectsSet => "affects-set",
            Self::CweSet => "cwe-set",
            Self::SummarySet => "summary-set",
            Self::DisclosureDateSet => "disclosure-date-set",
            Self::FixExtended => "fix-extended",
            Self::WaitingStarted => "waiting-started",
            Self::WaitingEnded => "waiting-ended",
            Self::RelayStripped => "relay-stripped",
            Self::RelayedToReporter => "relayed-to-reporter",
            Self::RelayFailed => "relay-failed",
            Self::RelayRefused => "relay-refused",
            Self::RelayRouteUnproven => "relay-route-unproven",
            Self::InternalNote => "internal-note",
            Self::DeliveryProblem => "delivery-problem",
            Self::DeliveryFailed => "delivery-failed",
            Self::KeyLearned => "key-learned",
            Self::KeyRotated => "key-rotated",
            Self::KeySuperseded => "key-superseded",
            Self::KeyChanged => "key-changed",
            Self::KeyIgnored => "key-ignored",
            Self::KeyAccepted => "key-accepted",
            Self::KeyConfirmed => "key-confirmed",
            Self::KeyConfirmationSent => "key-confirmation-sent",
            Self::KeyConfirmationSkipped => "key-confirmation-skipped",
            Self::KeyConfirmationFailed => "key-confirmation-failed",
            Self::KeyConfirmationRefused => "key-confirmation-refused",
            Self::SlaReminder => "sla-reminder",
            Self::SlaEscalation => "sla-escalation",
            Self::SlaDigest => "sla-digest",
            Self::BreachedBeforeImport => "breached-before-import",
            Self::MessageAttached => "message-attached",
            Self::OutboxRetried => "outbox-retried",
        }
    }

    /// The kind named `name` in the log, if it is one of ours.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The daemon itself (rules, answers, deadlines).
    Daemon,
    /// A person or server, by address (a reporter, a member, `MAILER-DAEMON@…`),
    /// or an operator's name for the CLI.
    Named(&'a str),
}

impl Actor<'_> {
    /// The log's `actor` column: `disclosed` for the daemon.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Daemon => "disclosed",
            Self::Named(name) => name,
        }
    }
}

/// How the actor of an event was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Not at all: mail from outside, or the daemon's own doing.
    None,
    /// A valid signature by the member's configured OpenPGP key.
    OpenPgp,
    /// A trusted DKIM pass for the member's domain.
    Dkim,
    /// Someone with access to the host ran the command line.
    Local,
}

impl Auth {
    /// The log's `auth` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::OpenPgp => "openpgp",
            Self::Dkim => "dkim",
            Self::Local => "local",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert!(seen.insert(kind.as_str()), "{kind} twice");
        }
        assert_eq!(EventKind::parse("state-change"), None);
    }

    #[test]
    fn the_clock_kinds_are_the_ones_deadlines_read() {
        let clock: Vec<&str> = EventKind::CLOCK.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            clock,
            [
                "report-opened",
                "rule-applied",
                "state-changed",
                "marked-duplicate",
                "waiting-started",
                "waiting-ended",
                "relayed-to-reporter",
            ]
        );
    }
}
