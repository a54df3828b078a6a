//! The canary: once a day the daemon queues a mail from `[monitor]
//! canary_address` to the program address, signed by the team key, through
//! the configured transport, that is, the public route a reporter's mail
//! takes. When it comes back it is recorded as returned (and, being a copy of
//! our own outbox row, never opens a report and is never answered); when it
//! has not come back within [`CANARY_WAIT`], the team is alerted.
//!
//! Only the real canary clears the alert. Its Message-ID carries a token of
//! 122 random bits that nobody saw before the mail went out, and a mail counts
//! as the canary only when (1) its Message-ID is the one of a canary row in
//! the outbox, (2) its body is byte for byte that row's body (which holds the
//! token again), and (3) it carries a valid signature by the team key. A
//! look-alike without the token is ordinary mail from outside.

use jiff::{SignedDuration, Timestamp};
use lettre::Message;
use lettre::message::header::ContentType;

use crate::config::Config;
use crate::crypto::{Crypto, CryptoLimits, Signature};
use crate::parse::ParsedMessage;
use crate::store::{NewMail, StoreError, Tx};

/// The outbox kind of a canary.
pub const KIND: &str = "canary";

/// How often a canary goes out.
pub const CANARY_EVERY: SignedDuration = SignedDuration::from_hours(24);

/// How long a canary may take to come back.
pub const CANARY_WAIT: SignedDuration = SignedDuration::from_hours(1);

/// Why no canary could be queued.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the canary needs the team's signing key (`[openpgp] secret_keys`)")]
    NoSigningKey,
    #[error("cannot build the canary: {0}")]
    Build(String),
    #[error("cannot sign the canary: {0}")]
    Sign(#[from] crate::crypto::seal::SealError),
}

/// The Message-ID (without brackets) of the canary with `token`.
pub fn message_id(token: &str, config: &Config) -> String {
    format!("disclosed.canary.{token}@{}", config.program.address.domain)
}

/// The token in a canary's Message-ID; `None` for any other mail.
pub fn token_of(message_id: &str) -> Option<&str> {
    let rest = message_id.strip_prefix("disclosed.canary.")?;
    let (token, _domain) = rest.split_once('@')?;
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// Whether a canary is due at `now`: none was sent in the last
/// [`CANARY_EVERY`].
pub fn due(tx: &Tx<'_>, config: &Config, now: Timestamp) -> Result<bool, StoreError> {
    if config.monitor.canary_address.is_none() || !config.monitor.enabled {
        return Ok(false);
    }
    Ok(tx
        .latest_canary()?
        .is_none_or(|(_, sent)| now >= sent + CANARY_EVERY))
}

/// Queues a canary and records it; returns its token. `None` without a
/// canary address.
pub fn queue(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    now: Timestamp,
) -> Result<Option<String>, CanaryError> {
    let Some(from) = &config.monitor.canary_address else {
        return Ok(None);
    };
    let team = crypto.team.as_deref().ok_or(CanaryError::NoSigningKey)?;
    let token = format!("{:032x}", uuid::Uuid::new_v4().as_u128());
    let id = message_id(&token, config);
    let program = config.program.address.to_string();
    let build = |e: &dyn std::fmt::Display| CanaryError::Build(e.to_string());
    let when = std::time::SystemTime::try_from(now).map_err(|e| build(&e))?;
    let message = Message::builder()
        .message_id(Some(format!("<{id}>")))
        .from(from.to_string().parse().map_err(|e| build(&e))?)
        .to(program.parse().map_err(|e| build(&e))?)
        .subject(format!("{} canary", config.program.name))
        .date(when)
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "This is the daily canary of the disclosure inbox of {name}.\n\
             It tests that mail to {program} arrives. Token: {token}\n\
             Nothing needs doing; it is recognised and filed when it comes back.\n",
            name = config.program.name,
        ))
        .map_err(|e| build(&e))?;
    let signed = crate::crypto::seal::sign(&message.formatted(), team, now)?;
    let recipients = vec![program];
    let from = from.to_string();
    tx.enqueue(
        &NewMail {
            report_id: None,
            kind: KIND,
            message_id: &id,
            envelope_from: &from,
            return_token: None,
            recipients: &recipients,
            rate_key: None,
            raw: &signed,
            held: false,
            team_lines: &[],
        },
        now,
    )?;
    tx.record_canary(&token, now)?;
    tracing::info!("canary queued");
    Ok(Some(token))
}

/// If `msg` is the canary coming back, records it as returned and returns
/// its token. See the module documentation for what makes a mail the canary.
pub fn recognise(
    tx: &Tx<'_>,
    crypto: &Crypto,
    limits: &CryptoLimits,
    msg: &ParsedMessage,
    raw: Option<&[u8]>,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    let (Some(id), Some(raw), Some(team)) = (&msg.message_id, raw, crypto.team.as_deref()) else {
        return Ok(None);
    };
    let Some(token) = token_of(id) else {
        return Ok(None);
    };
    let Some(sent) = tx.sent_by_message_id(id)? else {
        return Ok(None);
    };
    if sent.kind != KIND || !crate::thread::own::same_body(raw, &sent.raw) {
        tracing::warn!("a mail looks like the canary but is not the one sent");
        return Ok(None);
    }
    let from = msg.from.as_ref().map(|m| m.address.as_str());
    let certs = team.certs().to_vec();
    let opened = crate::crypto::open::open(raw, from, Some(team), &certs, limits, now);
    let signed_by_team = match &opened.signature {
        Signature::Valid { signer, .. } => team
            .certs()
            .iter()
            .any(|c| c.fingerprint().to_hex().eq_ignore_ascii_case(signer)),
        _ => false,
    };
    if !signed_by_team {
        tracing::warn!("a mail copies the canary but its signature is not the team's");
        return Ok(None);
    }
    if tx.mark_canary_returned(token, now)? {
        tracing::info!("canary came back");
    }
    Ok(Some(token.to_owned()))
}

/// The canary that is overdue at `now`: the latest one whose
/// [`CANARY_WAIT`] has passed, if it has not come back.
pub fn overdue(tx: &Tx<'_>, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
    let Some(waited) = now.checked_sub(CANARY_WAIT).ok() else {
        return Ok(None);
    };
    Ok(tx
        .latest_canary_sent_by(waited)?
        .and_then(|(returned, sent)| (!returned).then_some(sent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_canary_message_id_yields_a_token() {
        let token = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            token_of(&format!("disclosed.canary.{token}@example.org")),
            Some(token)
        );
        assert_eq!(token_of("disclosed.canary.short@example.org"), None);
        assert_eq!(token_of(&format!("disclosed.{token}@example.org")), None);
        assert_eq!(
            token_of("disclosed.canary.0123456789abcdef0123456789abcdeg@example.org"),
            None
        );
    }
}
