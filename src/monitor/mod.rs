//! The inbox watches itself. On every SLA tick the daemon looks for what
//! would otherwise fail silently: its IMAP source failing for longer than
//! `[monitor] alert_after`, mail waiting unsent in the outbox for longer than
//! `outbox_after`, no mail at all for `quiet_days` (the MX may be broken), a
//! member's key that expires within [`LEAD_DAYS`] days, and the filesystem
//! holding the database running out of space, and (with `canary_address`)
//! the daily canary not coming back ([`canary`]). Each condition is mailed to the
//! team once while it lasts: the alert is recorded in the transaction that
//! queues the mail, and forgotten when the condition clears, so that it alerts
//! again when it comes back. The team's signing key is not watched here: the
//! publication warnings already cover it.

pub mod canary;

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;

use crate::config::{Address, Config};
use crate::crypto::Crypto;
use crate::publish::warnings::LEAD_DAYS;
use crate::respond::queue::{self, Mailer};
use crate::store::{StoreError, Tx};

/// The outbox kind of an alert mail.
pub const KIND: &str = "monitor-alert";

/// The key of the low-disk condition.
const DISK_LOW: &str = "disk-low";

/// What the daemon knows that the store does not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// Since when the IMAP source has failed without a success in between;
    /// `None` while it works (or for a Maildir).
    pub source_failing_since: Option<Timestamp>,
    /// The filesystem holding the database; `None` if it could not be read.
    pub disk: Option<DiskSpace>,
}

/// Space on a filesystem, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// What an unprivileged process may still write.
    pub available: u64,
    pub total: u64,
}

impl DiskSpace {
    /// The share available, in whole percent rounded down.
    pub fn free_percent(&self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        let percent = u128::from(self.available) * 100 / u128::from(self.total);
        u8::try_from(percent.min(100)).unwrap_or(100)
    }
}

/// The space on the filesystem holding `path` (statvfs).
pub fn disk_space(path: &Path) -> std::io::Result<DiskSpace> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(DiskSpace {
        available: stat.f_bavail.saturating_mul(stat.f_frsize),
        total: stat.f_blocks.saturating_mul(stat.f_frsize),
    })
}

/// One condition the team should know of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The IMAP source has failed since `since`.
    SourceFailing { since: Timestamp },
    /// `unsent` mails are queued (or, with `failed`, failed for good), the
    /// oldest since `oldest`. Two conditions, so that a failed mail nobody
    /// retries does not hide a later outage of the transport.
    OutboxStuck {
        oldest: Timestamp,
        unsent: u64,
        failed: bool,
    },
    /// No mail has arrived since `last`.
    NoMail { last: Timestamp },
    /// A member's key (encryption to them) runs out at `expires`.
    MemberKey {
        member: Address,
        fingerprint: String,
        expires: Timestamp,
    },
    /// The database's filesystem has `free_percent` left.
    DiskLow { free_percent: u8, available: u64 },
    /// The canary sent at `sent` has not come back.
    CanaryMissing { sent: Timestamp },
}

impl Condition {
    /// What identifies one occurrence in the store: the same condition seen
    /// again on the next tick has the same key. A member's key is one per key
    /// and expiry, so that a renewed key that runs out again alerts again.
    pub fn key(&self) -> String {
        match self {
            Self::SourceFailing { .. } => "source-failing".into(),
            Self::OutboxStuck { failed: false, .. } => "outbox-stuck".into(),
            Self::OutboxStuck { failed: true, .. } => "outbox-failed".into(),
            Self::NoMail { .. } => "no-mail".into(),
            Self::MemberKey {
                member,
                fingerprint,
                expires,
            } => format!("member-key:{member}:{fingerprint}:{}", expires.as_second()),
            Self::DiskLow { .. } => DISK_LOW.into(),
            // One occurrence while canaries go missing day after day.
            Self::CanaryMissing { .. } => "canary-missing".into(),
        }
    }

    /// The subject and body of the alert.
    pub fn text(&self, now: Timestamp) -> (String, String) {
        let ago = |t: &Timestamp| human(now.duration_since(*t));
        match self {
            Self::SourceFailing { since } => (
                format!("The IMAP source has failed for {}", ago(since)),
                format!(
                    "disclosed has not been able to read the IMAP mailbox since {since}\n\
                     ({} ago). Reports sent meanwhile wait on the server.\n\n\
                     Check the server, the account and `[source]`, and the daemon's log\n\
                     (`journalctl -u disclosed`). The daemon keeps retrying.\n",
                    ago(since)
                ),
            ),
            Self::OutboxStuck {
                oldest,
                unsent,
                failed: true,
            } => (
                format!("{unsent} mail(s) failed and not sent"),
                format!(
                    "{unsent} mail(s) in the outbox failed for good, the oldest queued on\n\
                     {oldest} ({} ago). List them with `disclosed outbox --failed`, fix\n\
                     what the log says and send them again (`disclosed outbox retry`).\n",
                    ago(oldest)
                ),
            ),
            Self::OutboxStuck { oldest, unsent, .. } => (
                format!("{unsent} mail(s) unsent for {}", ago(oldest)),
                format!(
                    "{unsent} mail(s) are waiting in the outbox, the oldest since\n\
                     {oldest} ({} ago): acknowledgements, team notices or answers are\n\
                     not going out.\n\n\
                     Check `[transport]` and the daemon's log. If the mail server is what\n\
                     is down, this warning waits in the same queue and reaches you only\n\
                     once it works again.\n",
                    ago(oldest)
                ),
            ),
            Self::NoMail { last } => (
                format!("No mail has arrived for {}", ago(last)),
                format!(
                    "The last mail arrived on {last} ({} ago). Reporters may be\n\
                     unable to reach the program address: check its MX records, the mail\n\
                     server and the mailbox the daemon reads.\n",
                    ago(last)
                ),
            ),
            Self::MemberKey {
                member,
                fingerprint,
                expires,
            } => {
                let when = if *expires <= now {
                    format!("expired on {expires}")
                } else {
                    format!(
                        "expires on {expires}, in {}",
                        human(expires.duration_since(now))
                    )
                };
                (
                    format!("The key of {member} {when}"),
                    format!(
                        "The OpenPGP key {fingerprint} of team member {member}\n{when}.\n\n\
                         After that, team mail cannot be encrypted to them. Have them extend\n\
                         it, put the new key where `[[team.members]] key` points and reload.\n"
                    ),
                )
            }
            Self::DiskLow {
                free_percent,
                available,
            } => (
                format!("{free_percent}% free on the database's disk"),
                format!(
                    "The filesystem holding the database has {free_percent}% ({}) free.\n\
                     When it is full, no mail can be stored: free space or move the\n\
                     database.\n",
                    bytesize::ByteSize::b(*available)
                ),
            ),
            Self::CanaryMissing { sent } => (
                format!("The canary has not come back for {}", ago(sent)),
                format!(
                    "The test mail the daemon sent at {sent} from the canary address to the\n\
                     program address has not arrived ({} ago). Reporters' mail may not be\n\
                     arriving either: check the MX records, the mail server, the mailbox\n\
                     the daemon reads and the outbox (`disclosed outbox`).\n",
                    ago(sent)
                ),
            ),
        }
    }
}

/// A span in the largest whole unit that fits: "3 days", "2 hours", "40 minutes".
fn human(span: SignedDuration) -> String {
    let minutes = span.as_secs().max(0) / 60;
    let (n, unit) = if minutes >= 2 * 24 * 60 {
        (minutes / (24 * 60), "days")
    } else if minutes >= 2 * 60 {
        (minutes / 60, "hours")
    } else {
        (minutes, "minutes")
    };
    format!("{n} {unit}")
}

/// When `cert` stops being usable to encrypt to: the earlier of its primary
/// key's expiry and the latest expiry of its encryption subkeys; `None` if it
/// does not expire (or has no usable encryption subkey to speak of).
pub fn encryption_expiry(cert: &Cert, now: Timestamp) -> Option<Timestamp> {
    let policy = crate::crypto::policy();
    let valid = cert
        .with_policy(&policy, Some(crate::crypto::system_time(now)))
        .ok()?;
    let primary = valid.primary_key().key_expiration_time();
    let mut subkeys = valid
        .keys()
        .subkeys()
        .for_transport_encryption()
        .revoked(false)
        .map(|ka| ka.key_expiration_time())
        .peekable();
    subkeys.peek()?;
    // One subkey that never expires keeps the cert usable.
    let subkey = subkeys.try_fold(None, |latest: Option<std::time::SystemTime>, e| {
        e.map(|e| Some(latest.map_or(e, |l| l.max(e))))
    });
    [primary, subkey.flatten()]
        .into_iter()
        .flatten()
        .min()
        .and_then(|t| Timestamp::try_from(t).ok())
}

/// Points of free space above `min_free_percent` a disk must regain before a
/// low-disk alert clears: a disk hovering at the threshold (logs rotating,
/// a backup written and removed) would otherwise alert on every crossing.
pub const DISK_CLEAR_MARGIN: u8 = 2;

/// The free share below which the disk counts as low: `min_free_percent`,
/// or `min_free_percent + DISK_CLEAR_MARGIN` while an alert stands.
fn disk_threshold(tx: &Tx<'_>, min_free_percent: u8) -> Result<u8, StoreError> {
    let alerted = tx.monitor_alerts()?.iter().any(|key| key == DISK_LOW);
    Ok(if alerted {
        min_free_percent.saturating_add(DISK_CLEAR_MARGIN)
    } else {
        min_free_percent
    })
}

/// The conditions that hold at `now`.
pub fn active(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    observed: &Observed,
    now: Timestamp,
) -> Result<Vec<Condition>, StoreError> {
    let m = &config.monitor;
    let mut out = Vec::new();
    if !m.enabled {
        return Ok(out);
    }
    let older_than = |at: Timestamp, span: std::time::Duration| {
        SignedDuration::try_from(span)
            .ok()
            .and_then(|span| at.checked_add(span).ok())
            .is_some_and(|limit| now >= limit)
    };
    if let Some(since) = observed.source_failing_since
        && older_than(since, m.alert_after)
    {
        out.push(Condition::SourceFailing { since });
    }
    for (status, failed) in [("queued", false), ("failed", true)] {
        if let Some((oldest, unsent)) = tx.oldest_unsent(status)?
            && older_than(oldest, m.outbox_after)
        {
            out.push(Condition::OutboxStuck {
                oldest,
                unsent,
                failed,
            });
        }
    }
    if m.quiet_days > 0
        && let Some(last) = tx.last_arrival()?
        && older_than(
            last,
            std::time::Duration::from_secs(u64::from(m.quiet_days) * 86400),
        )
    {
        out.push(Condition::NoMail { last });
    }
    let lead = SignedDuration::from_hours(LEAD_DAYS * 24);
    for (member, cert) in crypto.members.iter() {
        if let Some(expires) = encryption_expiry(cert, now)
            && now >= expires.checked_sub(lead).unwrap_or(expires)
        {
            out.push(Condition::MemberKey {
                member: member.clone(),
                fingerprint: cert.fingerprint().to_hex(),
                expires,
            });
        }
    }
    if m.min_free_percent > 0
        && let Some(disk) = observed.disk
        && disk.free_percent() < disk_threshold(tx, m.min_free_percent)?
    {
        out.push(Condition::DiskLow {
            free_percent: disk.free_percent(),
            available: disk.available,
        });
    }
    if m.canary_address.is_some()
        && let Some(sent) = canary::overdue(tx, now)?
    {
        out.push(Condition::CanaryMissing { sent });
    }
    Ok(out)
}

/// What a tick must record: the conditions to alert on and the alerts whose
/// condition cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub raise: Vec<Condition>,
    pub clear: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.raise.is_empty() && self.clear.is_empty()
    }
}

/// Compares what holds with the alerts recorded, read only: the daemon takes
/// the writer only when something changed.
pub fn changes(tx: &Tx<'_>, active: Vec<Condition>) -> Result<Changes, StoreError> {
    let recorded = tx.monitor_alerts()?;
    let keys: Vec<String> = active.iter().map(Condition::key).collect();
    let clear = recorded
        .iter()
        .filter(|r| !keys.contains(r))
        .cloned()
        .collect();
    let raise = active
        .into_iter()
        .filter(|c| !recorded.contains(&c.key()))
        .collect();
    Ok(Changes { raise, clear })
}

/// Records `changes` and queues one alert per new condition to every member
/// (encrypted to members with a key). A condition alerted on already (another
/// writer got there first) is skipped. Returns how many alerts were queued.
pub fn record(
    tx: &Tx<'_>,
    mailer: &Mailer<'_>,
    changes: &Changes,
    now: Timestamp,
) -> Result<usize, StoreError> {
    for key in &changes.clear {
        tx.clear_monitor_alert(key)?;
        tracing::info!(condition = %key, "monitor condition cleared");
    }
    let mut queued = 0;
    for condition in &changes.raise {
        let key = condition.key();
        if !tx.raise_monitor_alert(&key, now)? {
            continue;
        }
        if let Condition::OutboxStuck {
            oldest,
            unsent,
            failed: false,
        } = condition
        {
            // Said here as well as mailed: when the transport is what is
            // broken, the alert mail is stuck behind the same door.
            tracing::error!(
                unsent,
                oldest = %oldest,
                "mail has been stuck in the outbox; the alert is queued but cannot be delivered until the transport works"
            );
        } else {
            tracing::warn!(condition = %key, "monitor alert");
        }
        match queue::to_members_about_itself(
            tx,
            mailer.config,
            mailer.crypto,
            condition.text(now),
            KIND,
            now,
        )? {
            Ok(_) => queued += 1,
            Err(err) => {
                tracing::error!(condition = %key, error = %err, "cannot compose the monitor alert")
            }
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests;
