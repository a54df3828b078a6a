//! The flood limits: how many team notices one sender's mail, and everyone's,
//! may cause within `[limits] notice_window`, and how many automatic replies
//! all senders together may get within `auto_reply_window`. Past a limit the
//! mail is still stored and threaded; only the mail we would send about it is
//! held, and the team gets one summary per window instead.
//!
//! The counts live in the store (`rate_counts`), per minute, under the keys
//! below, so they hold across restarts and across processes on one store.

use std::time::Duration;

use jiff::Timestamp;

use crate::audit::{Actor, Auth, EventKind};
use crate::config::Limits;
use crate::respond::queue::{Mailer, ToTeam, window_start};
use crate::respond::templates::FloodSummaryData;
use crate::store::{Recorder, StoreError, Tx};
use crate::thread;

/// The tag of a report whose notice a flood limit held.
pub const TAG: &str = "flood";

/// Team notices about anyone's mail.
const ALL_NOTICES: &str = "notice:*";
/// Flood summaries sent to the team.
const SUMMARIES: &str = "flood-summary:*";

fn sender_notices(mailbox: &str) -> String {
    format!("notice:{mailbox}")
}

/// Which limit a held notice ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Sender,
    Everyone,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sender => "sender",
            Self::Everyone => "everyone",
        }
    }
}

/// Whether a team notice may go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeBudget {
    Within,
    /// Held by `limit`; `summarise` when no summary went out in this window.
    Held {
        limit: Limit,
        summarise: bool,
    },
}

/// What the window already holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticeCounts {
    pub by_sender: u64,
    pub total: u64,
    pub summaries: u64,
}

/// The pure decision: a notice goes out while both counts are under their
/// limits; the sender's limit is named first, as it is the likelier cause.
pub fn notice_budget(counts: NoticeCounts, limits: &Limits) -> NoticeBudget {
    let limit = if counts.by_sender >= u64::from(limits.team_notices_per_sender) {
        Limit::Sender
    } else if counts.total >= u64::from(limits.team_notices_total) {
        Limit::Everyone
    } else {
        return NoticeBudget::Within;
    };
    NoticeBudget::Held {
        limit,
        summarise: counts.summaries == 0,
    }
}

/// The notice budget for mail from `sender` at `now`.
pub(super) fn notices(
    tx: &Tx<'_>,
    limits: &Limits,
    sender: Option<&str>,
    now: Timestamp,
) -> Result<NoticeBudget, StoreError> {
    let from = window_start(now, limits.notice_window);
    let by_sender = match sender {
        Some(address) => tx.rate_since(&sender_notices(&thread::mailbox(address)), from)?,
        None => 0,
    };
    let counts = NoticeCounts {
        by_sender,
        total: tx.rate_since(ALL_NOTICES, from)?,
        summaries: tx.rate_since(SUMMARIES, from)?,
    };
    Ok(notice_budget(counts, limits))
}

/// Counts a team notice caused by mail from `sender`.
pub(super) fn count_notice(
    tx: &Tx<'_>,
    sender: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(address) = sender {
        tx.count_rate(&sender_notices(&thread::mailbox(address)), now)?;
    }
    tx.count_rate(ALL_NOTICES, now)
}

/// Counts a flood summary sent to the team.
pub(super) fn count_summary(tx: &Tx<'_>, now: Timestamp) -> Result<(), StoreError> {
    tx.count_rate(SUMMARIES, now)
}

/// A window for people: "1 hour", "30 minutes", "90 seconds".
fn window_text(window: Duration) -> String {
    let secs = window.as_secs();
    let (n, unit) = if secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The outbox kind of the team's flood summary.
pub(super) const FLOOD_SUMMARY: &str = "flood-summary";

/// Tells the team, once per window, that a flood limit holds notices back.
/// The sender's mailbox goes only to members with a key; the others get the
/// metadata notice.
pub(super) fn summary(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    limit: Limit,
    sender: Option<&str>,
    message: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    count_summary(tx, now)?;
    if m.config.team.members.is_empty() {
        return Ok(());
    }
    let limits = &m.config.limits;
    let headline = "Mail flood: team notices are paused";
    let mailbox = sender.map(thread::mailbox);
    let (who, count) = match limit {
        Limit::Sender => (mailbox.as_deref(), limits.team_notices_per_sender),
        Limit::Everyone => (None, limits.team_notices_total),
    };
    let data = FloodSummaryData {
        headline,
        sender: who,
        limit: count,
        window: window_text(limits.notice_window),
    };
    let bodies = match m.bodies(FLOOD_SUMMARY, &data, headline, None, None, Vec::new()) {
        Ok(bodies) => bodies,
        Err(err) => {
            tracing::warn!(error = %err, "cannot render the flood summary");
            let rec = Recorder {
                report: None,
                at: now,
                actor: Actor::Daemon,
                auth: Auth::None,
                message: Some(message),
            };
            rec.record(
                tx,
                EventKind::TeamMailFailed,
                serde_json::json!({ "kind": FLOOD_SUMMARY, "reason": err.to_string() }),
            )?;
            return Ok(());
        }
    };
    let to = ToTeam {
        report: None,
        kind: FLOOD_SUMMARY,
        except: None,
        message,
    };
    m.send_to_team(tx, &to, &m.notice(None, headline, bodies), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            team_notices_per_sender: 3,
            team_notices_total: 10,
            ..Limits::default()
        }
    }

    #[test]
    fn the_notice_budget_table() {
        let held = |limit, summarise| NoticeBudget::Held { limit, summarise };
        for (why, by_sender, total, summaries, expected) in [
            ("a quiet hour", 0, 0, 0, NoticeBudget::Within),
            ("just under both", 2, 9, 0, NoticeBudget::Within),
            ("the sender's limit", 3, 3, 0, held(Limit::Sender, true)),
            (
                "the sender's, summarised already",
                3,
                3,
                1,
                held(Limit::Sender, false),
            ),
            ("everyone's limit", 0, 10, 0, held(Limit::Everyone, true)),
            (
                "both: the sender is named",
                5,
                12,
                0,
                held(Limit::Sender, true),
            ),
            (
                "everyone's, summarised already",
                1,
                10,
                2,
                held(Limit::Everyone, false),
            ),
        ] {
            let counts = NoticeCounts {
                by_sender,
                total,
                summaries,
            };
            assert_eq!(notice_budget(counts, &limits()), expected, "{why}");
        }
    }

    #[test]
    fn windows_read_as_people_write_them() {
        for (secs, text) in [
            (3600, "1 hour"),
            (7200, "2 hours"),
            (1800, "30 minutes"),
            (60, "1 minute"),
            (90, "90 seconds"),
        ] {
            assert_eq!(window_text(Duration::from_secs(secs)), text);
        }
    }
}
