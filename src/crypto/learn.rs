//! Learning correspondents' keys: which key found in a message is recorded for
//! which address, at which trust level, and whether it may replace the key in
//! use; and the one-time tokens that confirm a key by a round trip.
//!
//! A key a mail carries proves nothing about who sent the mail: anyone can
//! forge `From:` and attach a key whose user id is someone else's address. So
//! each stored key has a [`Trust`] level. Only a *proven* key (`keyring`, or
//! `confirmed` by a round trip through the address's mailbox or by the team)
//! may receive confidential mail or release mail held for a key. Unproven keys
//! are recorded by origin, used for opportunistic encryption of mail that
//! would otherwise go signed in clear, and are the target of a confirmation
//! mail. A different key for the same address is never swapped in silently:
//! only a message signed by the key in use may rotate it, or a proven key may
//! replace an unproven one; otherwise the new key waits for the team.

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::Serialize;

use super::{FoundKey, KeySource, Signature, seal};

/// How far a stored key is trusted, strongest first. The order is the
/// derived `Ord`: a later variant is weaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// In `[openpgp] keyring`: the team configured it.
    Keyring,
    /// Proved possession of the secret key and control of the mailbox (the
    /// confirmation round trip), or the team accepted it (`key accept`), or a
    /// proven key signed the mail that introduced it.
    Confirmed,
    /// Signed the mail that carried it: possession of the secret key, but not
    /// of the mailbox.
    Signed,
    /// Carried inside the encrypted part: anyone can encrypt to the team.
    Encrypted,
    /// Attached in clear.
    Attached,
    /// Announced by an `Autocrypt:` header.
    Autocrypt,
}

impl Trust {
    pub const ALL: [Self; 6] = [
        Self::Keyring,
        Self::Confirmed,
        Self::Signed,
        Self::Encrypted,
        Self::Attached,
        Self::Autocrypt,
    ];

    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyring => "keyring",
            Self::Confirmed => "confirmed",
            Self::Signed => "signed",
            Self::Encrypted => "encrypted",
            Self::Attached => "attached",
            Self::Autocrypt => "autocrypt",
        }
    }

    /// A stored level; an unknown one reads as the weakest.
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .unwrap_or(Self::Autocrypt)
    }

    /// Whether the key proved both the secret key and the mailbox (or the team
    /// vouches for it): only then may confidential or held mail be sealed to it.
    pub fn is_proven(self) -> bool {
        matches!(self, Self::Keyring | Self::Confirmed)
    }

    /// The stronger of two levels.
    pub fn max(self, other: Self) -> Self {
        std::cmp::min(self, other)
    }
}

/// The trust level a key found in a message starts with, by where it was
/// found and whether it signed that message.
pub fn origin_trust(found: &FoundKey, signature: &Signature) -> Trust {
    let fingerprint = found.cert.fingerprint().to_hex();
    match (found.source, signature) {
        (KeySource::Keyring, _) => Trust::Keyring,
        (_, Signature::Valid { signer, .. }) if *signer == fingerprint => Trust::Signed,
        (KeySource::Encrypted, _) => Trust::Encrypted,
        (KeySource::Attachment, _) => Trust::Attached,
        (KeySource::Autocrypt, _) => Trust::Autocrypt,
    }
}

/// What [`decide`] needs to know of a key already recorded for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    /// The record's id, handed back in [`KeyDecision::Seen`].
    pub id: i64,
    /// Upper-case hex, as `Fingerprint::to_hex` writes it.
    pub fingerprint: String,
    /// Whether it is the key in use for the address (not pending, not replaced).
    pub current: bool,
    pub trust: Trust,
}

/// What to do with one key found for `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDecision {
    /// Not recorded, and why.
    Ignore(&'static str),
    /// The address's first key: record it as current at `trust`.
    First { trust: Trust },
    /// A key we have: refresh it (merged with what arrived) and its last-seen
    /// time; record the stronger level `raise`; make it current when it is now
    /// proven and the key in use is not.
    Seen {
        id: i64,
        raise: Option<Trust>,
        make_current: bool,
    },
    /// A different key, in a message signed by the key in use: it replaces
    /// it, at `trust` (confirmed when the key in use was proven).
    Rotate { old: String, trust: Trust },
    /// A proven key (the keyring's) while the key in use is not: it replaces it.
    Supersede { old: String, trust: Trust },
    /// A different key without that proof: recorded as pending, the team is told.
    Changed { current: String, trust: Trust },
}

/// Decides for one `found` key of a message from `address`. `stored` are all
/// the address's keys, replaced ones included.
pub fn decide(
    address: &str,
    found: &FoundKey,
    stored: &[KnownKey],
    signature: &Signature,
    now: Timestamp,
) -> KeyDecision {
    let fingerprint = found.cert.fingerprint().to_hex();
    let names_address = super::names_address(&found.cert, address);
    let announced = found.source == KeySource::Autocrypt
        && found
            .addr
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(address));
    if !names_address && !announced {
        return KeyDecision::Ignore("the key has no user id with the sender's address");
    }
    let origin = origin_trust(found, signature);
    let current = stored.iter().find(|k| k.current);
    let current_proven = current.is_some_and(|k| k.trust.is_proven());
    if let Some(known) = stored.iter().find(|k| k.fingerprint == fingerprint) {
        let was = known.trust;
        let now_trust = was.max(origin);
        return KeyDecision::Seen {
            id: known.id,
            raise: (now_trust != was).then_some(now_trust),
            make_current: now_trust.is_proven()
                && !known.current
                && !current_proven
                && seal::usable_for_encryption(&found.cert, now),
        };
    }
    if !seal::usable_for_encryption(&found.cert, now) {
        return KeyDecision::Ignore("the key cannot encrypt now (expired, revoked or weak)");
    }
    let Some(current) = current else {
        return KeyDecision::First { trust: origin };
    };
    match signature {
        Signature::Valid { signer, .. } if *signer == current.fingerprint => {
            let endorsed = if current_proven {
                Trust::Confirmed
            } else {
                origin
            };
            KeyDecision::Rotate {
                old: current.fingerprint.clone(),
                trust: origin.max(endorsed),
            }
        }
        _ if origin.is_proven() && !current_proven => KeyDecision::Supersede {
            old: current.fingerprint.clone(),
            trust: origin,
        },
        _ => KeyDecision::Changed {
            current: current.fingerprint.clone(),
            trust: origin,
        },
    }
}

/// A certificate as stored: binary, public parts only.
pub fn to_bytes(cert: &Cert) -> Vec<u8> {
    let mut out = Vec::new();
    // Serialising a public cert into memory cannot fail short of allocation.
    if cert
        .clone()
        .strip_secret_key_material()
        .serialize(&mut out)
        .is_err()
    {
        out.clear();
    }
    out
}

/// A stored certificate, or `None` when the bytes are not one.
pub fn from_bytes(bytes: &[u8]) -> Option<Cert> {
    Cert::from_bytes(bytes).ok()
}

/// `stored` updated with what arrived (new subkeys, signatures, revocations).
pub fn merge(stored: &[u8], arrived: &Cert) -> Vec<u8> {
    match from_bytes(stored).and_then(|c| c.merge_public(arrived.clone()).ok()) {
        Some(merged) => to_bytes(&merged),
        None => to_bytes(arrived),
    }
}

// Confirmation tokens.

/// What starts every confirmation token; 32 hex digits (128 random bits) follow.
pub const TOKEN_PREFIX: &str = "key-confirm-";
const TOKEN_HEX: usize = 32;
/// Most tokens looked at in one message: a reply quotes one or two.
const MAX_TOKENS: usize = 16;

/// A fresh random token, e.g. `key-confirm-3f9a…`.
pub fn new_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_HEX / 2];
    sequoia_openpgp::crypto::random(&mut bytes[..])
        .map_err(|err| TokenError(format!("{err:#}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The random source failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw a random token: {0}")]
pub struct TokenError(String);

/// What the store keeps of a token: its SHA-256 (hex). The token carries 128
/// random bits, so a plain hash is enough to make the stored value useless.
pub fn token_hash(token: &str) -> String {
    crate::parse::sha256_hex(token.to_ascii_lowercase().as_bytes())
}

/// The tokens in `text` (lower-cased, each once, at most a few), wherever
/// they stand: quoted (`> `), inside a line, in any letter case.
pub fn tokens_in(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        let after = &rest[at + TOKEN_PREFIX.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if digits == TOKEN_HEX {
            let token = format!("{TOKEN_PREFIX}{}", &after[..TOKEN_HEX]);
            if !out.contains(&token) {
                out.push(token);
                if out.len() == MAX_TOKENS {
                    break;
                }
            }
        }
        rest = &after[digits..];
    }
    out
}

/// The tokens that arrived only in decrypted content: found in `decrypted`
/// (the readable text of the encrypted part) and nowhere in `outside` (what
/// anyone on the mail path could read). Inline PGP rebuilds its readable text
/// from clear and decrypted pieces, so a token is proven only by not being in
/// the clear ones.
pub fn tokens_only_inside(decrypted: &[&str], outside: &[&str]) -> Vec<String> {
    let seen_outside: Vec<String> = outside.iter().flat_map(|t| tokens_in(t)).collect();
    let mut out: Vec<String> = Vec::new();
    for token in decrypted.iter().flat_map(|t| tokens_in(t)) {
        if !seen_outside.contains(&token) && !out.contains(&token) {
            out.push(token);
        }
    }
    out
}

/// What [`token_refusal`] needs to know of a token that was sent.
#[derive(Debug, Clone, Copy)]
pub struct SentToken<'a> {
    /// The address it was sent to.
    pub address: &'a str,
    pub expires_at: Timestamp,
    /// Whether it was spent already.
    pub used: bool,
}

/// Why a token does not confirm its key, if it does not.
pub fn token_refusal(token: &SentToken<'_>, address: &str, now: Timestamp) -> Option<&'static str> {
    if !token.address.eq_ignore_ascii_case(address) {
        Some("the token was sent to another address")
    } else if token.used {
        Some("the token was used before")
    } else if token.expires_at <= now {
        Some("the token has expired")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use sequoia_openpgp::cert::CertBuilder;

    use super::*;
    use crate::crypto::system_time;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().expect("time")
    }

    fn cert(userid: &str) -> Cert {
        let created = now() - jiff::SignedDuration::from_hours(24);
        CertBuilder::general_purpose(Some(userid))
            .set_creation_time(system_time(created))
            .generate()
            .expect("generate")
            .0
    }

    fn found(cert: &Cert, source: KeySource, addr: Option<&str>) -> FoundKey {
        FoundKey {
            cert: cert.clone(),
            source,
            addr: addr.map(str::to_owned),
        }
    }

    fn record(id: i64, cert: &Cert, status: &str, trust: Trust) -> KnownKey {
        KnownKey {
            id,
            fingerprint: cert.fingerprint().to_hex(),
            current: status == "current",
            trust,
        }
    }

    fn signed_by(cert: &Cert) -> Signature {
        Signature::Valid {
            signer: cert.fingerprint().to_hex(),
            from_matches: true,
            created: None,
            digest: String::new(),
        }
    }

    #[test]
    fn keys_are_learned_rotated_or_held_back() {
        let jane = "jane@researcher.example";
        let old = cert("Jane <jane@researcher.example>");
        let new = cert("Jane <JANE@researcher.example>");
        let stranger = cert("Mallory <mallory@evil.example>");
        let stored = [record(1, &old, "current", Trust::Attached)];
        let attached = |c| found(c, KeySource::Attachment, None);

        assert_eq!(
            decide(jane, &attached(&old), &[], &Signature::None, now()),
            KeyDecision::First {
                trust: Trust::Attached
            }
        );
        assert_eq!(
            decide(jane, &attached(&old), &stored, &Signature::None, now()),
            KeyDecision::Seen {
                id: 1,
                raise: None,
                make_current: false
            }
        );
        // A different key is not swapped in because a mail carried it…
        assert_eq!(
            decide(jane, &attached(&new), &stored, &Signature::None, now()),
            KeyDecision::Changed {
                current: old.fingerprint().to_hex(),
                trust: Trust::Attached
            }
        );
        // …only when the key in use signed that mail.
        assert_eq!(
            decide(jane, &attached(&new), &stored, &signed_by(&old), now()),
            KeyDecision::Rotate {
                old: old.fingerprint().to_hex(),
                trust: Trust::Attached
            }
        );
        // A key for someone else is not recorded for the sender, unless Autocrypt
        // announced it for the sender's address.
        assert!(matches!(
            decide(jane, &attached(&stranger), &[], &Signature::None, now()),
            KeyDecision::Ignore(_)
        ));
        assert_eq!(
            decide(
                jane,
                &found(&stranger, KeySource::Autocrypt, Some(jane)),
                &[],
                &Signature::None,
                now()
            ),
            KeyDecision::First {
                trust: Trust::Autocrypt
            }
        );
        // A key that cannot encrypt now is not learned.
        let expired = CertBuilder::general_purpose(Some("Jane <jane@researcher.example>"))
            .set_creation_time(system_time(now() - jiff::SignedDuration::from_hours(48)))
            .set_validity_period(std::time::Duration::from_secs(3600))
            .generate()
            .expect("generate")
            .0;
        assert!(matches!(
            decide(jane, &attached(&expired), &[], &Signature::None, now()),
            KeyDecision::Ignore(_)
        ));
    }

    #[test]
    fn a_key_starts_at_the_trust_its_origin_earns_and_none_of_them_is_proof() {
        let jane = cert("Jane <jane@researcher.example>");
        let other = cert("Jane <jane@researcher.example>");
        let table = [
            (KeySource::Attachment, Signature::None, Trust::Attached),
            (KeySource::Encrypted, Signature::None, Trust::Encrypted),
            (KeySource::Autocrypt, Signature::None, Trust::Autocrypt),
            (KeySource::Attachment, signed_by(&jane), Trust::Signed),
            (KeySource::Encrypted, signed_by(&jane), Trust::Signed),
            // Signed by some other key: no possession of this one shown.
            (KeySource::Encrypted, signed_by(&other), Trust::Encrypted),
            (KeySource::Keyring, Signature::None, Trust::Keyring),
        ];
        for (source, signature, expected) in table {
            let trust = origin_trust(&found(&jane, source, None), &signature);
            assert_eq!(trust, expected, "{source:?} {signature:?}");
            assert_eq!(
                trust.is_proven(),
                source == KeySource::Keyring,
                "{source:?} {signature:?}"
            );
        }
        for t in Trust::ALL {
            assert_eq!(Trust::parse(t.as_str()), t);
        }
        assert_eq!(Trust::Attached.max(Trust::Confirmed), Trust::Confirmed);
        assert_eq!(Trust::Keyring.max(Trust::Confirmed), Trust::Keyring);
    }

    #[test]
    fn an_unproven_key_never_replaces_a_proven_one_and_a_proven_one_replaces_an_unproven_one() {
        let jane = "jane@researcher.example";
        let real = cert("Jane <jane@researcher.example>");
        let forged = cert("Jane <jane@researcher.example>");
        let attached = |c| found(c, KeySource::Attachment, None);
        // A forged key signed by itself, in a mail to the team, against a confirmed key.
        for proven in [Trust::Confirmed, Trust::Keyring] {
            let stored = [record(1, &real, "current", proven)];
            assert_eq!(
                decide(
                    jane,
                    &attached(&forged),
                    &stored,
                    &signed_by(&forged),
                    now()
                ),
                KeyDecision::Changed {
                    current: real.fingerprint().to_hex(),
                    trust: Trust::Signed
                }
            );
        }
        // The keyring's key takes over from a key a mail brought.
        let stored = [record(1, &forged, "current", Trust::Signed)];
        assert_eq!(
            decide(
                jane,
                &found(&real, KeySource::Keyring, None),
                &stored,
                &Signature::None,
                now()
            ),
            KeyDecision::Supersede {
                old: forged.fingerprint().to_hex(),
                trust: Trust::Keyring
            }
        );
        // A pending key that turns up in the keyring is raised and made current…
        let stored = [
            record(1, &forged, "current", Trust::Attached),
            record(2, &real, "pending", Trust::Attached),
        ];
        assert_eq!(
            decide(
                jane,
                &found(&real, KeySource::Keyring, None),
                &stored,
                &Signature::None,
                now()
            ),
            KeyDecision::Seen {
                id: 2,
                raise: Some(Trust::Keyring),
                make_current: true
            }
        );
        // …but not over a key that is proven too (no flip-flop after a rotation).
        let stored = [
            record(1, &forged, "current", Trust::Confirmed),
            record(2, &real, "replaced", Trust::Keyring),
        ];
        assert_eq!(
            decide(
                jane,
                &found(&real, KeySource::Keyring, None),
                &stored,
                &Signature::None,
                now()
            ),
            KeyDecision::Seen {
                id: 2,
                raise: None,
                make_current: false
            }
        );
        // A rotation signed by a proven key keeps the proof.
        let stored = [record(1, &real, "current", Trust::Confirmed)];
        assert_eq!(
            decide(jane, &attached(&forged), &stored, &signed_by(&real), now()),
            KeyDecision::Rotate {
                old: real.fingerprint().to_hex(),
                trust: Trust::Confirmed
            }
        );
        // Seeing a key again in a weaker way does not lower it.
        let stored = [record(1, &real, "current", Trust::Confirmed)];
        assert_eq!(
            decide(
                jane,
                &found(&real, KeySource::Autocrypt, Some(jane)),
                &stored,
                &Signature::None,
                now()
            ),
            KeyDecision::Seen {
                id: 1,
                raise: None,
                make_current: false
            }
        );
    }

    #[test]
    fn tokens_are_random_found_in_quotes_and_only_when_they_stayed_inside() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 32);
        assert_eq!(tokens_in(&a), std::slice::from_ref(&a));
        let quoted = format!(
            "Here you go.\n\n> Please reply with\n>   {}\n> and {a} again.\n",
            a.to_uppercase()
        );
        assert_eq!(tokens_in(&quoted), std::slice::from_ref(&a));
        // Too short, too long, or not hex: not a token.
        assert!(tokens_in(&a[..a.len() - 1]).is_empty());
        assert!(tokens_in(&format!("{a}0")).is_empty());
        assert!(tokens_in("key-confirm-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").is_empty());
        // At most a few per message.
        let many: String = (0..40)
            .map(|_| new_token().expect("token") + "\n")
            .collect();
        assert_eq!(tokens_in(&many).len(), 16);

        assert_eq!(
            tokens_only_inside(&[&quoted], &["-----BEGIN PGP MESSAGE-----"]),
            std::slice::from_ref(&a)
        );
        assert!(tokens_only_inside(&[&quoted], &[&format!("Re: {a}")]).is_empty());
        assert_eq!(token_hash(&a), token_hash(&a.to_uppercase()));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!(!token_hash(&a).contains(&a[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn a_token_confirms_only_for_its_address_once_and_in_time() {
        let token = SentToken {
            address: "jane@researcher.example",
            expires_at: now() + jiff::SignedDuration::from_hours(1),
            used: false,
        };
        assert_eq!(
            token_refusal(&token, "JANE@researcher.example", now()),
            None
        );
        assert!(token_refusal(&token, "mallory@evil.example", now()).is_some());
        let late = now() + jiff::SignedDuration::from_hours(1);
        assert!(token_refusal(&token, "jane@researcher.example", late).is_some());
        let used = SentToken {
            used: true,
            ..token
        };
        assert!(token_refusal(&used, "jane@researcher.example", now()).is_some());
    }

    #[test]
    fn stored_certificates_round_trip_without_secrets_and_merge() {
        let c = cert("Jane <jane@researcher.example>");
        assert!(c.is_tsk());
        let bytes = to_bytes(&c);
        let back = from_bytes(&bytes).expect("parses");
        assert_eq!(back.fingerprint(), c.fingerprint());
        assert!(!back.is_tsk(), "secret key material was stored");
        assert_eq!(from_bytes(b"not a key"), None);
        let merged = from_bytes(&merge(&bytes, &c)).expect("merged");
        assert_eq!(merged.fingerprint(), c.fingerprint());
    }
}
