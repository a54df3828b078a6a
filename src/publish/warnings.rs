//! Warning the team before what the site publishes runs out: the published
//! security.txt's `Expires` and the team's signing key. Each warning goes out
//! once per thing and expiry date, [`LEAD_DAYS`] days ahead (or at once if
//! that day has passed), by mail to every member.

use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;

use crate::config::Config;
use crate::crypto::Crypto;
use crate::respond::queue;
use crate::store::{StoreError, Tx};

/// How long before an expiry the team is warned.
pub const LEAD_DAYS: i64 = 30;

/// What runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    SecurityTxt,
    SigningKey,
}

impl Expiring {
    /// The name in the store and in the outbox kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecurityTxt => "security-txt-expires",
            Self::SigningKey => "signing-key-expires",
        }
    }
}

/// One warning that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning {
    pub what: Expiring,
    pub expires: Timestamp,
}

/// The warnings due at `now`: each expiry within [`LEAD_DAYS`] days (or past).
pub fn due(
    security_txt: Option<Timestamp>,
    signing_key: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Warning> {
    let lead = SignedDuration::from_hours(LEAD_DAYS * 24);
    [
        (Expiring::SecurityTxt, security_txt),
        (Expiring::SigningKey, signing_key),
    ]
    .into_iter()
    .filter_map(|(what, at)| {
        let at = at?;
        let warn_from = at.checked_sub(lead).unwrap_or(at);
        (now >= warn_from).then_some(Warning { what, expires: at })
    })
    .collect()
}

/// When the team's signing key stops being usable: the earlier of its
/// primary key's and its signing subkey's expiry; `None` if neither expires.
pub fn signing_key_expiry(cert: &Cert, now: Timestamp) -> Option<Timestamp> {
    let policy = crate::crypto::policy();
    let valid = cert
        .with_policy(&policy, Some(crate::crypto::system_time(now)))
        .ok()?;
    let primary = valid.primary_key().key_expiration_time();
    let signing = valid
        .keys()
        .for_signing()
        .alive()
        .revoked(false)
        .next()
        .and_then(|ka| ka.key_expiration_time());
    [primary, signing]
        .into_iter()
        .flatten()
        .min()
        .and_then(|t| Timestamp::try_from(t).ok())
}

/// The expiry the published security.txt carries: the start of `[security_txt]
/// expires`, when a site is published.
pub fn published_expiry(config: &Config) -> Option<Timestamp> {
    config.publish.dir.as_ref()?;
    let day = config.security_txt.expires?;
    day.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// The subject and body of a warning.
pub fn text(w: &Warning, now: Timestamp) -> (String, String) {
    let day = super::hall_of_fame::day(w.expires);
    let days = (w.expires.as_second() - now.as_second()).div_euclid(86400);
    let when = if days < 0 {
        format!("expired on {day}")
    } else {
        format!("expires on {day}, in {days} day(s)")
    };
    match w.what {
        Expiring::SecurityTxt => (
            format!("security.txt {when}"),
            format!(
                "The published /.well-known/security.txt {when}.\n\n\
                 Set a later day in `[security_txt] expires` (at most a year ahead)\n\
                 and reload; the site is then published again with the new date.\n"
            ),
        ),
        Expiring::SigningKey => (
            format!("The team's signing key {when}"),
            format!(
                "The team's OpenPGP signing key (the first of `[openpgp] secret_keys`)\n{when}.\n\n\
                 Extend its expiry or add a new key first (`disclosed key generate`),\n\
                 publish the new public key, and reload. After it expires, mail can no\n\
                 longer be signed and security.txt cannot be re-signed.\n"
            ),
        ),
    }
}

/// The warnings due at `now` that were not sent yet, read only: the daemon
/// takes the writer only when this is not empty.
pub fn pending(
    tx: &Tx<'_>,
    config: &Config,
    signing_key: Option<&Cert>,
    now: Timestamp,
) -> Result<Vec<Warning>, StoreError> {
    let mut out = Vec::new();
    for w in due_for(config, signing_key, now) {
        if !tx.publication_notice_recorded(w.what.as_str(), w.expires)? {
            out.push(w);
        }
    }
    Ok(out)
}

/// The warnings due at `now` for what this configuration publishes and
/// this signing key, sent before or not.
fn due_for(config: &Config, signing_key: Option<&Cert>, now: Timestamp) -> Vec<Warning> {
    due(
        published_expiry(config),
        signing_key.and_then(|c| signing_key_expiry(c, now)),
        now,
    )
}

/// Queues the warnings due at `now` that were not sent for the same expiry
/// before, one mail per member (encrypted to members with a key), about the
/// team's current key. Returns how many warnings went out.
pub fn queue_due(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let signing_key = crypto.team.as_ref().map(|t| t.current());
    let mut sent = 0;
    for w in due_for(config, signing_key, now) {
        if !tx.record_publication_notice(w.what.as_str(), w.expires, now)? {
            continue;
        }
        match queue::to_members_about_itself(
            tx,
            config,
            crypto,
            text(&w, now),
            w.what.as_str(),
            now,
        )? {
            Ok(recipients) => {
                tracing::info!(what = w.what.as_str(), recipients, "expiry warning queued");
                sent += 1;
            }
            Err(err) => {
                tracing::warn!(what = w.what.as_str(), error = %err, "cannot compose the expiry warning")
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    #[test]
    fn a_warning_is_due_thirty_days_before_the_expiry() {
        let expires = t("2027-06-30T00:00:00Z");
        assert!(due(Some(expires), None, t("2027-05-30T23:59:59Z")).is_empty());
        assert_eq!(
            due(Some(expires), None, t("2027-05-31T00:00:00Z")),
            [Warning {
                what: Expiring::SecurityTxt,
                expires
            }]
        );
        assert_eq!(due(None, Some(expires), t("2027-07-02T00:00:00Z")).len(), 1);
        assert!(due(None, None, t("2027-07-02T00:00:00Z")).is_empty());
    }
}
