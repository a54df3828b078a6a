//! How a mail to a correspondent leaves: encrypted to their key, signed only, or
//! held until a key is known. The decision is [`choose`]; [`protect`]
//! carries it out on a rendered mail.

use jiff::Timestamp;
use sequoia_openpgp::Cert;

use crate::crypto::{TeamKeys, autocrypt, seal};

/// What may be sent to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Encrypt to their key (and ours), sign.
    Encrypt,
    /// Sign only (no key known, and they never wrote encrypted).
    Sign,
    /// Neither: no team key is configured.
    Clear,
    /// Hold as `needs-key`: they wrote encrypted, and no usable key is known.
    Hold,
}

impl Protection {
    /// As recorded in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encrypt => "encrypted",
            Self::Sign => "signed",
            Self::Clear => "clear",
            Self::Hold => "held",
        }
    }
}

/// The rule: a usable key means encryption; otherwise mail to someone who ever
/// wrote to us encrypted waits for a key, unless it carries nothing of theirs
/// (`content_free`, e.g. "we could not read your message").
pub fn choose(
    has_usable_key: bool,
    wrote_encrypted: bool,
    content_free: bool,
    has_team_key: bool,
) -> Protection {
    match (
        has_team_key,
        has_usable_key,
        wrote_encrypted && !content_free,
    ) {
        (true, true, _) => Protection::Encrypt,
        (_, _, true) => Protection::Hold,
        (true, false, false) => Protection::Sign,
        (false, _, false) => Protection::Clear,
    }
}

/// A rendered mail after [`protect`].
#[derive(Debug, Clone)]
pub struct Protected {
    pub raw: Vec<u8>,
    pub protection: Protection,
}

/// Applies `choose` to `plain` (a complete mail from `compose`): the first usable
/// key in `keys` is the recipient's. Held mail stays in clear in the outbox (it is
/// sealed when a key arrives and never sent before); every signed or encrypted
/// mail carries an Autocrypt header with our key.
pub fn protect(
    plain: Vec<u8>,
    keys: &[Cert],
    wrote_encrypted: bool,
    content_free: bool,
    team: Option<&TeamKeys>,
    program_address: &str,
    now: Timestamp,
) -> Result<Protected, seal::SealError> {
    let key = keys.iter().find(|c| seal::usable_for_encryption(c, now));
    let protection = choose(key.is_some(), wrote_encrypted, content_free, team.is_some());
    let raw = match (protection, team, key) {
        (Protection::Encrypt, Some(team), Some(key)) => with_autocrypt(
            seal::encrypt(&plain, std::slice::from_ref(key), team, now)?,
            team,
            program_address,
            now,
        )?,
        (Protection::Sign, Some(team), _) => {
            with_autocrypt(seal::sign(&plain, team, now)?, team, program_address, now)?
        }
        _ => plain,
    };
    Ok(Protected { raw, protection })
}

/// Seals held mail once `key` arrived.
pub fn seal_held(
    plain: &[u8],
    key: &Cert,
    team: &TeamKeys,
    program_address: &str,
    now: Timestamp,
) -> Result<Vec<u8>, seal::SealError> {
    let sealed = seal::encrypt(plain, std::slice::from_ref(key), team, now)?;
    with_autocrypt(sealed, team, program_address, now)
}

/// Adds our `Autocrypt:` header to the outer header block (after sealing, so
/// the key is not copied into the encrypted part).
fn with_autocrypt(
    mail: Vec<u8>,
    team: &TeamKeys,
    program_address: &str,
    now: Timestamp,
) -> Result<Vec<u8>, seal::SealError> {
    let line = team.autocrypt_line(program_address, now)?;
    Ok(autocrypt::add_header(&mail, &line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        use Protection::*;
        // (usable key, wrote encrypted, content free, team key) → protection
        let table = [
            ((true, false, false, true), Encrypt),
            ((true, true, false, true), Encrypt),
            ((false, false, false, true), Sign),
            ((false, true, false, true), Hold),
            ((false, true, true, true), Sign),
            ((false, false, false, false), Clear),
            ((false, true, false, false), Hold),
            ((true, true, false, false), Hold),
            ((false, true, true, false), Clear),
        ];
        for ((key, wrote, free, team), expected) in table {
            assert_eq!(
                choose(key, wrote, free, team),
                expected,
                "key={key} wrote_encrypted={wrote} content_free={free} team={team}"
            );
        }
    }
}
